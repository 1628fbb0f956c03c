"""Utility (TRTR / TSTR / augmentation) and the small-data study (BENCHMARKS.md, Utility)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)

from synthcust.evaluation.modeling import one_thread
from synthcust.evaluation.utility import evaluate_utility, ratio_status
from synthcust.exceptions import DataError
from synthcust.studies.small_data import small_data_study


def draw(n: int, seed: int) -> pd.DataFrame:
    """Customers from one fixed process; ``y`` (churn/stay, ~35% churn) depends on x1, x2, plan."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1])
    logit = 1.5 * x1 - x2 + 1.0 * (plan == "pro") - 1.0
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "churn", "stay")
    spend = 50 + 10 * x1 + 5 * (plan == "team") + rng.normal(0, 3, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "plan": plan, "spend": spend, "y": y})


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Real train, an independent draw of the same process as 'synthetic', real holdout."""
    return draw(800, 0), draw(800, 1), draw(600, 2)


@pytest.fixture(scope="module")
def good(frames):
    return evaluate_utility(*frames, "y")


# ------------------------------------------------------------------------------ classification
def test_trtr_matches_a_hand_trained_model_on_the_holdout():
    # numeric features only, so the reference model needs no encoding
    train, syn, hold = (draw(n, s).drop(columns="plan") for n, s in ((800, 0), (800, 1), (600, 2)))
    res = evaluate_utility(train, syn, hold, "y")
    feats = ["x1", "x2", "spend"]
    with one_thread():  # OpenMP threads spin on a busy machine (see one_thread)
        clf = HistGradientBoostingClassifier(random_state=0).fit(train[feats], train["y"])
    p = clf.predict_proba(hold[feats])[:, list(clf.classes_).index("churn")]
    truth = (hold["y"] == "churn").to_numpy()
    trtr = res.tables["scores"].loc["TRTR"]
    # default positive = the minority class of train ("churn", ~35%); F1 at probability 0.5
    assert res.extra["positive"] == res.extra["minority"] == "churn"
    assert trtr["auc"] == pytest.approx(roc_auc_score(truth, p), abs=1e-9)
    assert trtr["average_precision"] == pytest.approx(average_precision_score(truth, p), abs=1e-9)
    assert trtr["f1"] == pytest.approx(f1_score(truth, p >= 0.5), abs=1e-9)
    assert res.metric("tstr_auc").reference == pytest.approx(trtr["auc"])


def test_independent_draw_gives_tstr_close_to_trtr(good):
    table = good.tables["scores"]
    assert table.index.tolist() == ["TRTR", "TSTR", "augmented k=1"]
    trtr, tstr = table.loc["TRTR", "auc"], table.loc["TSTR", "auc"]
    assert trtr > 0.75
    assert abs(tstr - trtr) < 0.05
    assert good.metric("tstr_auc").value == pytest.approx(tstr)
    ratio = good.metric("tstr_ratio")
    assert ratio.value == pytest.approx(tstr / trtr)
    assert ratio.status == "pass" == ratio_status(ratio.value)
    assert table["auc_vs_trtr"].tolist() == pytest.approx((table["auc"] - trtr).tolist())
    # TSTR trains on as many synthetic rows as train has; augmentation adds k x len(train)
    assert table.loc["TSTR", ["real_rows", "synthetic_rows"]].tolist() == [0, 800]
    assert table.loc["augmented k=1", ["real_rows", "synthetic_rows"]].tolist() == [800, 800]
    up = good.metric("augmentation_uplift_auc")
    assert up.value == pytest.approx(table.loc["augmented k=1", "auc"] - trtr)
    assert good.name == "utility" and good.skipped == [] and good.extra["notes"] == []
    assert good.extra["task"] == "binary" and good.extra["classes"] == ["churn", "stay"]


def test_shuffled_synthetic_labels_give_chance_tstr(frames):
    train, syn, hold = frames
    noisy = syn.assign(y=np.random.default_rng(5).permutation(syn["y"].to_numpy()))
    res = evaluate_utility(train, noisy, hold, "y")
    trtr, tstr = res.metric("tstr_auc").reference, res.metric("tstr_auc").value
    assert abs(tstr - 0.5) < 0.08
    assert trtr - tstr > 0.2
    assert res.metric("tstr_ratio").status == "fail"
    assert res.metric("augmentation_uplift_auc").value < 0
    assert "did not help" in res.metric("augmentation_uplift_auc").note


def test_positive_class_changes_f1_not_auc(frames, good):
    res = evaluate_utility(*frames, "y", positive="stay")
    assert res.extra["positive"] == "stay" and res.extra["minority"] == "churn"
    a, b = good.tables["scores"], res.tables["scores"]
    assert b["auc"].tolist() == pytest.approx(a["auc"].tolist(), abs=1e-9)  # binary AUC symmetric
    assert abs(b.loc["TRTR", "f1"] - a.loc["TRTR", "f1"]) > 0.05
    with pytest.raises(DataError, match="nope"):
        evaluate_utility(*frames, "y", positive="nope")


def test_multiclass_target_uses_macro_scores():
    res = evaluate_utility(draw(400, 0), draw(400, 1), draw(300, 2), "plan")
    assert res.extra["task"] == "multiclass"
    assert res.extra["classes"] == ["basic", "pro", "team"]
    assert "macro" in res.method
    assert 0.5 < res.metric("tstr_auc").reference <= 1.0
    assert res.metric("tstr_auc").value is not None


def test_integer_target_matches_float_synthetic_labels(frames):
    train, syn, hold = frames
    as_int = lambda d: d.assign(y=(d["y"] == "churn").astype(int))  # noqa: E731
    res = evaluate_utility(
        as_int(train),
        syn.assign(y=(syn["y"] == "churn").astype(float)),
        as_int(hold),
        "y",
        positive=1,
    )
    assert res.extra["classes"] == ["0", "1"] and res.extra["positive"] == "1"
    assert res.extra["notes"] == []  # 1.0 is class "1": no synthetic row dropped
    assert res.extra["n_synthetic"] == 800
    assert res.metric("tstr_auc").value > 0.75


def test_synthetic_rows_with_unknown_classes_are_dropped_with_a_note(frames):
    train, syn, hold = frames
    odd = syn.assign(y=np.where(np.arange(len(syn)) % 2 == 0, "maybe", syn["y"]))
    res = evaluate_utility(train, odd, hold, "y")
    assert res.extra["n_synthetic"] == 400
    assert any("400 synthetic rows dropped" in n for n in res.extra["notes"])
    assert res.tables["scores"].loc["TSTR", "synthetic_rows"] == 400
    assert "400" in res.metric("tstr_auc").note


def test_single_class_synthetic_target_skips_tstr_only(frames):
    train, syn, hold = frames
    res = evaluate_utility(train, syn.assign(y="stay"), hold, "y")
    assert res.tables["scores"].index.tolist() == ["TRTR", "augmented k=1"]
    assert len(res.skipped) == 1
    assert "TSTR" in res.skipped[0] and "'y'" in res.skipped[0] and "single class" in res.skipped[0]
    assert res.metric("tstr_auc").value is None
    assert res.metric("tstr_auc").reference > 0.75
    assert res.metric("tstr_ratio").value is None and res.metric("tstr_ratio").status == "info"
    assert res.metric("augmentation_uplift_auc").value is not None


def test_no_usable_synthetic_rows_skips_tstr_and_augmentation(frames):
    train, syn, hold = frames
    res = evaluate_utility(train, syn.assign(y="maybe"), hold, "y")
    assert res.tables["scores"].index.tolist() == ["TRTR"]
    assert res.extra["n_synthetic"] == 0
    assert any("augmentation k=1" in s for s in res.skipped)
    assert res.metric("augmentation_uplift_auc").value is None


def test_synthetic_column_missing_everywhere_is_ignored_not_fatal(frames):
    # a synthesizer may leave a sparse column all missing; the model just cannot use it
    train, syn, hold = frames
    res = evaluate_utility(train, syn.assign(x2=np.nan), hold, "y")
    assert res.tables["scores"].index.tolist() == ["TRTR", "TSTR", "augmented k=1"]
    tstr = res.metric("tstr_auc")
    assert 0.6 < tstr.value < tstr.reference  # x1 still informs; x2 is lost


# ----------------------------------------------------------------------------------- regression
def test_numeric_target_is_scored_by_r2_and_mae(frames):
    train, syn, hold = frames
    res = evaluate_utility(train, syn, hold, "spend", augment_k=(1, 2))
    assert res.extra["task"] == "regression"
    assert [m.key for m in res.metrics] == [
        "tstr_r2",
        "tstr_ratio",
        "augmentation_uplift_r2",
        "augmentation_uplift_r2_k2",
    ]
    table = res.tables["scores"]
    assert {"r2", "mae", "r2_vs_trtr"} <= set(table.columns) and "auc" not in table.columns
    X = pd.get_dummies(train.drop(columns="spend"), dtype=float)
    Xh = pd.get_dummies(hold.drop(columns="spend"), dtype=float)[X.columns]
    with one_thread():
        pred = HistGradientBoostingRegressor(random_state=0).fit(X, train["spend"]).predict(Xh)
    # a near-linear target: both our model and the reference explain most of the variance
    assert table.loc["TRTR", "r2"] > 0.85 and r2_score(hold["spend"], pred) > 0.85
    assert table.loc["TRTR", "mae"] == pytest.approx(
        mean_absolute_error(hold["spend"], pred), rel=0.15
    )
    assert abs(res.metric("tstr_r2").value - table.loc["TRTR", "r2"]) < 0.05
    assert res.metric("tstr_ratio").status == "pass"
    assert "R^2 and MAE" in res.method


def test_unpredictable_numeric_target_has_no_ratio(frames):
    noise = lambda d, s: d.assign(z=np.random.default_rng(s).normal(size=len(d)))  # noqa: E731
    train, syn, hold = (noise(d, 100 + i) for i, d in enumerate(frames))
    res = evaluate_utility(train, syn, hold, "z")
    assert res.metric("tstr_r2").reference < 0
    ratio = res.metric("tstr_ratio")
    assert ratio.value is None and ratio.status == "info" and "<= 0" in ratio.note


# ------------------------------------------------------------------ sizes, seeds, the inputs
def test_augmentation_sizes_and_subsampling_follow_random_state(frames):
    train, _, hold = frames
    big = draw(1600, 5)
    a = evaluate_utility(train, big, hold, "y", augment_k=(1, 3), random_state=0)
    b = evaluate_utility(train, big, hold, "y", augment_k=(1, 3), random_state=0)
    c = evaluate_utility(train, big, hold, "y", random_state=1)
    t = a.tables["scores"]
    assert t["synthetic_rows"].tolist() == [0, 800, 800, 1600]
    assert any("k=3 used all 1,600" in n for n in a.extra["notes"])
    assert [m.key for m in a.metrics][-1] == "augmentation_uplift_auc_k3"
    pd.testing.assert_frame_equal(t, b.tables["scores"])
    # another seed draws other synthetic rows for TSTR
    assert c.tables["scores"].loc["TSTR", "auc"] != t.loc["TSTR", "auc"]


def test_fewer_synthetic_rows_than_train_uses_them_all(frames):
    train, syn, hold = frames
    res = evaluate_utility(train, syn.head(100), hold, "y")
    assert res.tables["scores"].loc["TSTR", "synthetic_rows"] == 100
    assert any("all 100 synthetic rows" in n for n in res.extra["notes"])


def test_caller_frames_are_not_modified(frames):
    train, syn, hold = (f.copy() for f in frames)
    hold.index = np.repeat(np.arange(len(hold) // 2), 2)  # duplicate labels
    hold.iloc[:10, hold.columns.get_loc("y")] = None
    before = [f.copy() for f in (train, syn, hold)]
    res = evaluate_utility(train, syn, hold, "y")
    for f, b in zip((train, syn, hold), before, strict=True):
        pd.testing.assert_frame_equal(f, b)
    assert res.extra["n_holdout"] == 590
    assert any("10 holdout rows dropped" in n for n in res.extra["notes"])


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda t, s, h: (t, s.drop(columns="y"), h), r"'y'.*synthetic"),
        (lambda t, s, h: (t.drop(columns="y"), s, h), r"'y'.*train"),
        (lambda t, s, h: (t, s, h.drop(columns="y")), r"'y'.*holdout"),
        (lambda t, s, h: (t.assign(y="stay"), s, h), r"'y'.*single class"),
        (lambda t, s, h: (t, s, h.assign(y="stay")), r"'y'.*fewer than two classes"),
        (lambda t, s, h: (t, s.assign(y=(s["y"] == "churn").astype(int)), h), r"'y'.*int64"),
        (lambda t, s, h: (t[["y"]], s[["y"]], h[["y"]]), r"no feature columns.*'y'"),
        (lambda t, s, h: (t, s.iloc[:0], h), "no rows"),
    ],
    ids=["no-synthetic-target", "no-train-target", "no-holdout-target", "train-one-class",
         "holdout-one-class", "target-type-differs", "target-only", "empty-synthetic"],
)  # fmt: skip
def test_unusable_inputs_raise_data_error(frames, change, pattern):
    with pytest.raises(DataError, match=pattern):
        evaluate_utility(*change(*frames), "y")


@pytest.mark.parametrize("k", [(), (0,), (1.5,), (True,), True, "2", ("1",), 0])
def test_bad_augment_k_raises(frames, k):
    with pytest.raises(DataError, match="augment_k"):
        evaluate_utility(*frames, "y", augment_k=k)


def test_a_bare_augment_k_is_one_k(frames):
    bare = evaluate_utility(*frames, "y", augment_k=2)
    tup = evaluate_utility(*frames, "y", augment_k=(2,))
    assert [m.key for m in bare.metrics] == [m.key for m in tup.metrics]
    assert (
        bare.metric("augmentation_uplift_auc").value == tup.metric("augmentation_uplift_auc").value
    )


# ----------------------------------------------------------------------------- small-data study
REAL = draw(2000, 7)
SMALL = dict(n_small=300, n_fit=240, n_synthetic=600, seeds=3)


FITTED: list[tuple[int, pd.DataFrame]] = []  # (seed, rows) of every Copier.fit call


class Copier:
    """A 'synthesizer' that resamples its training rows, optionally with the labels flipped."""

    def __init__(self, seed: int, flip: bool = True, invent: bool = False) -> None:
        self.seed, self.flip, self.invent = seed, flip, invent

    def fit(self, df: pd.DataFrame) -> Copier:
        FITTED.append((self.seed, df.copy()))
        self.df = df.copy()
        return self

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        rng = np.random.default_rng(random_state)
        out = self.df.iloc[rng.integers(0, len(self.df), n)].reset_index(drop=True)
        if self.flip:
            out["y"] = np.where(out["y"] == "churn", "stay", "churn")
        if self.invent:
            out.loc[out.index[: n // 3], "y"] = "maybe"
        return out


class Oracle:
    """A perfect 'synthesizer': fresh rows from the generating process itself."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def fit(self, df: pd.DataFrame) -> Oracle:
        return self

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        return draw(n, 10_000 + int(random_state))


@pytest.fixture(scope="module")
def flipped():
    FITTED.clear()
    res = small_data_study(REAL, "y", Copier, random_state=5, **SMALL)
    return res, list(FITTED)


def test_flipped_label_synthesizer_hurts(flipped):
    res, _ = flipped
    assert res.name == "small_data"
    assert [m.key for m in res.metrics] == [
        "small_data_uplift_auc_rest",
        "small_data_uplift_auc_holdout",
    ]
    assert res.extra["verdict_code"] == "hurt"
    assert res.extra["verdict"].startswith("Augmentation hurt over 3 seeds")
    assert res.metric("small_data_uplift_auc_rest").value < -0.2
    assert res.metric("small_data_uplift_auc_holdout").value < -0.2
    assert res.skipped == []


def test_per_seed_table_and_t_interval(flipped):
    res, _ = flipped
    per = res.tables["per_seed"]
    assert per.index.tolist() == [5, 6, 7]
    assert per["n_fit"].tolist() == [240] * 3
    assert per["n_holdout"].tolist() == [60] * 3
    assert per["n_rest"].tolist() == [len(REAL) - 300] * 3
    assert per["n_synthetic"].tolist() == [600] * 3
    for where in ("rest", "holdout"):
        d = per[f"diff_{where}"].to_numpy()
        assert d == pytest.approx((per[f"auc_aug_{where}"] - per[f"auc_real_{where}"]).to_numpy())
        ci = res.extra["ci"][where]
        half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
        assert ci["mean"] == pytest.approx(d.mean())
        assert ci["lower"] == pytest.approx(d.mean() - half)
        assert ci["upper"] == pytest.approx(d.mean() + half)
        assert ci["lower"] <= ci["mean"] <= ci["upper"] and ci["n_seeds"] == 3
        assert res.metric(f"small_data_uplift_auc_{where}").value == pytest.approx(d.mean())
        assert res.tables["summary"].loc[where, "diff_mean"] == pytest.approx(d.mean())
    assert res.extra["ci"]["rest"]["upper"] < 0  # the verdict "hurt" is backed by the interval


def test_synthesizer_is_fit_per_seed_on_the_fit_rows_only(flipped):
    _, fitted = flipped
    assert [seed for seed, _ in fitted] == [5, 6, 7]
    for _, df in fitted:
        assert len(df) == 240
        assert list(df.columns) == list(REAL.columns)
        assert df["x1"].isin(REAL["x1"]).all()  # real rows, not made up
    assert not fitted[0][1]["x1"].equals(fitted[1][1]["x1"])  # each seed draws other rows


def test_real_only_baseline_does_not_depend_on_the_synthesizer(flipped):
    res, _ = flipped
    good = small_data_study(REAL, "y", Oracle, random_state=5, **SMALL)
    cols = ["auc_real_holdout", "auc_real_rest"]
    pd.testing.assert_frame_equal(good.tables["per_seed"][cols], res.tables["per_seed"][cols])
    assert good.extra["verdict_code"] in {"helped", "not_significant"}
    assert good.metric("small_data_uplift_auc_rest").value > -0.02
    assert (good.tables["per_seed"]["auc_aug_rest"] > res.tables["per_seed"]["auc_aug_rest"]).all()


def test_default_synthesizer_is_reproducible():
    kw = dict(SMALL, seeds=2)
    a = small_data_study(REAL, "y", **kw)
    b = small_data_study(REAL, "y", **kw)
    cols = [c for c in a.tables["per_seed"].columns if c != "seconds"]
    pd.testing.assert_frame_equal(a.tables["per_seed"][cols], b.tables["per_seed"][cols])
    assert a.tables["per_seed"]["n_synthetic"].tolist() == [600, 600]
    # a copula of this near-Gaussian process neither ruins nor works wonders
    assert abs(a.metric("small_data_uplift_auc_rest").value) < 0.1
    assert "of class 'churn'" in a.method


def test_synthetic_rows_with_unknown_classes_are_not_used():
    res = small_data_study(
        REAL, "y", lambda s: Copier(s, flip=False, invent=True), **dict(SMALL, seeds=2)
    )
    assert res.tables["per_seed"]["n_synthetic"].tolist() == [400, 400]


def test_no_rows_left_outside_the_draw():
    res = small_data_study(REAL.head(300), "y", Copier, **SMALL)
    assert res.skipped and "never-drawn" in res.skipped[0]
    assert res.metric("small_data_uplift_auc_rest").value is None
    assert res.metric("small_data_uplift_auc_holdout").value < 0
    assert res.tables["per_seed"]["n_rest"].tolist() == [0, 0, 0]


def test_real_rows_without_a_target_are_left_out():
    real = REAL.copy()
    real.index = np.arange(len(real))[::-1] * 3
    real.iloc[:1500, real.columns.get_loc("y")] = None
    res = small_data_study(real, "y", Copier, **SMALL)
    assert res.tables["per_seed"]["n_rest"].tolist() == [500 - 300] * 3
    assert res.extra["verdict_code"] == "hurt"
    real.iloc[:1701, real.columns.get_loc("y")] = None
    with pytest.raises(DataError, match=r"n_small=300.*got 299"):
        small_data_study(real, "y", Copier, **SMALL)


def test_sparse_column_all_missing_in_a_draw_is_not_an_error():
    # 5 known values in 2,000 rows: most draws of 240 fit rows hold none of them
    real = REAL.assign(rare=np.nan)
    real.loc[[3, 500, 900, 1400, 1900], "rare"] = 1.0
    FITTED.clear()
    res = small_data_study(real, "y", Copier, **SMALL)
    assert any(df["rare"].isna().all() for _, df in FITTED)  # the case this test is about
    assert res.extra["verdict_code"] == "hurt"
    assert res.tables["per_seed"]["n_synthetic"].tolist() == [600] * 3


def test_unusable_synthetic_output_names_seed_and_column():
    def factory(seed):
        class Bad(Copier):
            def sample(self, n, random_state=None):
                out = super().sample(n, random_state)
                return out.assign(y=(out["y"] == "churn").astype(int))

        return Bad(seed)

    with pytest.raises(DataError, match=r"seed 0.*'y'"):
        small_data_study(REAL, "y", factory, **SMALL)


@pytest.mark.parametrize(
    ("target", "kw", "pattern"),
    [
        ("nope", {}, "'nope'"),
        ("spend", {}, "'spend' is numeric"),
        ("y", {"n_fit": 300}, "n_fit"),
        ("y", {"n_fit": 0}, "n_fit"),
        ("y", {"seeds": 0}, "seeds"),
        ("y", {"n_synthetic": 0}, "n_synthetic"),
        ("y", {"n_small": 5000}, "n_small=5000"),
    ],
)
def test_small_data_bad_arguments_raise(target, kw, pattern):
    with pytest.raises(DataError, match=pattern):
        small_data_study(REAL, target, Copier, **{**SMALL, **kw})
