"""Oversamplers: SMOTE family through imbalanced-learn, generative and hybrid, on frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from typer.testing import CliRunner

from synthcust.evaluation.modeling import one_thread
from synthcust.exceptions import DataError
from synthcust.synthesizers.oversampling.oversample import (
    METHODS,
    GenerativeOversampler,
    SMOTEOversampler,
    make_oversampler,
    rebalance,
    resample_frame,
)


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 500
    x = rng.normal(size=n)
    y = np.where(x + 0.5 * rng.normal(size=n) > 1.3, "yes", "no")
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 80, n),
            "x": x,
            "spend": np.where(rng.random(n) < 0.15, np.nan, rng.lognormal(3, 1, n)),
            "plan": rng.choice(["basic", "pro", "team"], n),
            "region": pd.Series(rng.choice(["north", "south", None], n), dtype=object),
            "vip": rng.random(n) < 0.3,
            "signup": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D"),
            "tier": pd.Categorical(rng.choice(["a", "b"], n)),
            "churn": y,
        }
    )


@pytest.mark.parametrize("method", [m for m in METHODS if m != "smoten"])
def test_same_columns_dtypes_and_seen_values(mixed: pd.DataFrame, method: str) -> None:
    before = mixed.copy()
    out, s = resample_frame(mixed, "churn", make_oversampler(method, random_state=0))
    pd.testing.assert_frame_equal(mixed, before)  # caller's frame untouched
    assert list(out.columns) == list(mixed.columns)
    assert out.dtypes.astype(str).tolist() == mixed.dtypes.astype(str).tolist()
    n = len(mixed)
    pd.testing.assert_frame_equal(out.iloc[:n].reset_index(drop=True), mixed)  # originals first
    new = out.iloc[n:]
    assert s.synthetic_mask_.sum() == len(new) > 0
    counts = out["churn"].value_counts()
    # ADASYN reaches the requested count only approximately
    assert abs(counts["yes"] - counts["no"]) <= (0.02 * counts["no"] if method == "adasyn" else 0)
    assert set(new["plan"]) <= {"basic", "pro", "team"}
    assert set(new["region"].dropna()) <= {"north", "south"}
    assert set(new["tier"].astype(str)) <= {"a", "b"}
    assert new["age"].between(mixed["age"].min(), mixed["age"].max()).all()
    assert new["signup"].between(mixed["signup"].min(), mixed["signup"].max()).all()
    assert new["age"].notna().all() and new["x"].notna().all()  # never missing in the input
    ids = out["customer_id"]
    assert ids.is_unique and new["customer_id"].min() > mixed["customer_id"].max()


def test_smote_interpolates_inside_the_minority_box() -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.uniform(0, 10, 400)})
    y = pd.Series(np.where(X["a"] > 1.0, 1, 0), name="t")
    Xr, yr = SMOTEOversampler(sampling_strategy=0.6, random_state=0).fit_resample(X, y)
    new = Xr.iloc[len(X) :]
    mino = X[y == 1]
    assert (yr.iloc[len(X) :] == 1).all()
    assert new["a"].between(mino["a"].min(), mino["a"].max()).all()
    assert new["b"].between(mino["b"].min(), mino["b"].max()).all()
    assert round(yr.value_counts()[1] / yr.value_counts()[0], 2) == 0.6
    assert yr.dtype == y.dtype


def test_multiclass_every_class_below_the_ratio_is_raised() -> None:
    rng = np.random.default_rng(2)
    n = 600
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "c": rng.choice(["p", "q"], n),
            "y": rng.choice(["big", "mid", "small"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    counts = df["y"].value_counts()
    out = rebalance(df, "y", "smote", 0.7, random_state=0)
    after = out["y"].value_counts()
    want = int(np.ceil(0.7 * counts["big"]))
    assert after["big"] == counts["big"]
    assert after["small"] == want
    assert after["mid"] == max(want, counts["mid"])


def test_category_and_integer_targets_keep_their_dtype() -> None:
    df = _small_frame(10, 90)
    df["y"] = pd.Categorical(df["y"], categories=["M", "m", "never"])
    out = rebalance(df, "y", "smote", 1.0, random_state=0)
    assert out["y"].dtype == df["y"].dtype and (out["y"] == "m").sum() == 90
    df["y"] = (df["y"] == "m").astype(np.int64)
    out = rebalance(df, "y", "generative", 0.5, random_state=0)
    assert out["y"].dtype == np.int64 and out["y"].value_counts().tolist() == [90, 45]


def test_smoten_all_categorical_and_refused_with_numbers() -> None:
    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame(
        {
            "a": rng.choice(list("xyz"), n),
            "b": rng.choice(list("uv"), n),
            "y": np.where(rng.random(n) < 0.15, "1", "0"),
        }
    )
    out = rebalance(df, "y", "smoten", 1.0, random_state=0)
    assert out["y"].value_counts().nunique() == 1
    assert set(out["a"]) <= set("xyz")
    df["num"] = rng.normal(size=n)
    with pytest.raises(DataError, match=r"smoten is for tables.*\['num'\].*smotenc"):
        rebalance(df, "y", "smoten", 1.0)


def test_generative_draws_rows_that_look_like_the_minority() -> None:
    rng = np.random.default_rng(4)
    n = 1000
    x = rng.normal(size=n)
    X = pd.DataFrame({"x": x, "plan": np.where(x > 1.0, "gold", rng.choice(["a", "b"], n))})
    y = pd.Series(np.where(x > 1.0, "yes", "no"), name="y")
    Xr, yr = GenerativeOversampler(random_state=0).fit_resample(X, y)
    new = Xr.iloc[n:]
    assert (yr.iloc[n:] == "yes").all()
    assert new["x"].mean() > 1.0 > X.loc[y == "no", "x"].max() - 0.5  # conditional, not marginal
    # gold is 16% of all rows, 100% of the minority: the condition carries the association
    assert (new["plan"] == "gold").mean() > 3 * (X["plan"] == "gold").mean()


def test_missing_numeric_values_travel_with_an_indicator(mixed: pd.DataFrame) -> None:
    out, _ = resample_frame(mixed, "churn", make_oversampler("borderline", random_state=0))
    new = out.iloc[len(mixed) :]
    assert new["spend"].isna().any()  # missing stays possible where the input has gaps
    assert new["spend"].dropna().between(mixed["spend"].min(), mixed["spend"].max()).all()


def test_drops_into_an_imblearn_pipeline(mixed: pd.DataFrame) -> None:
    from imblearn.pipeline import Pipeline

    X = mixed[["age", "x", "tier"]]
    y = mixed["churn"]
    pipe = Pipeline(
        [
            ("os", SMOTEOversampler(random_state=0)),
            ("clf", HistGradientBoostingClassifier(categorical_features="from_dtype")),
        ]
    )
    with one_thread():  # OpenMP threads spin on a busy machine
        pipe.fit(X, y)
        assert pipe.predict_proba(X).shape == (len(X), 2)
    os2 = clone(pipe.named_steps["os"])
    assert os2.get_params()["kind"] == "smote" and not hasattr(os2, "counts_after_")


# ------------------------------------------------------------------------------ bad input
def _small_frame(n_min: int = 4, n_maj: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = n_min + n_maj
    return pd.DataFrame({"x": rng.normal(size=n), "y": ["m"] * n_min + ["M"] * n_maj})


def test_one_class_target_is_refused() -> None:
    df = _small_frame()
    df["y"] = "M"
    with pytest.raises(DataError, match="single class"):
        rebalance(df, "y")


def test_continuous_target_is_refused() -> None:
    df = _small_frame()
    df["y"] = np.linspace(0, 1, len(df))
    with pytest.raises(DataError, match=r"looks continuous.*qcut"):
        rebalance(df, "y")


@pytest.mark.parametrize("ratio", [0.05, 4 / 60, 1.5, 0.0])
def test_ratio_at_or_below_current_or_out_of_range(ratio: float) -> None:
    df = _small_frame()  # current ratio 4 / 60 = 0.0667
    msg = "not above the current ratio" if 0 < ratio <= 1 else r"must be in \(0, 1\]"
    with pytest.raises(DataError, match=msg):
        rebalance(df, "y", "smote", ratio)


def test_too_few_minority_rows_for_k_names_the_largest_workable_k() -> None:
    with pytest.raises(DataError, match=r"'m' has only 4 row.*largest workable k_neighbors is 3"):
        rebalance(_small_frame(4), "y", "smote", 1.0, k_neighbors=5)
    out = rebalance(_small_frame(4), "y", "smote", 1.0, k_neighbors=3, random_state=0)
    assert (out["y"] == "m").sum() == 60
    with pytest.raises(DataError, match="single row"):
        rebalance(_small_frame(1), "y", "adasyn", 1.0)
    out = rebalance(_small_frame(1), "y", "generative", 1.0, random_state=0)  # no neighbours
    assert (out["y"] == "m").sum() == 60


def test_free_text_column_is_refused_by_name() -> None:
    rng = np.random.default_rng(6)
    n = 80
    words = np.array(["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog"])
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "review": [" ".join(rng.choice(words, 8)) + f" {i}" for i in range(n)],
            "y": ["a"] * 10 + ["b"] * (n - 10),
        }
    )
    with pytest.raises(DataError, match=r"free-text column\(s\) \['review'\].*--drop"):
        rebalance(df, "y")
    out = rebalance(df.drop(columns=["review"]), "y", random_state=0)
    assert (out["y"] == "a").sum() == n - 10


def test_unknown_method_and_target() -> None:
    with pytest.raises(DataError, match="unknown oversampling method 'smot'"):
        rebalance(_small_frame(), "y", "smot")
    with pytest.raises(DataError, match="target 'nope' is not a column"):
        rebalance(_small_frame(), "nope")


# ------------------------------------------------------------------------------------ CLI
def test_cli_rebalance_writes_the_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from synthcust.cli import app

    src, dst = tmp_path / "d.csv", tmp_path / "o.csv"
    df = _small_frame(10, 90)
    df["age"] = np.arange(len(df)) % 50 + 20
    df.to_csv(src, index=False)
    res = CliRunner().invoke(
        app,
        ["rebalance", str(src), "--target", "y", "--ratio", "0.5", "-o", str(dst), "--seed", "1"],
    )
    assert res.exit_code == 0, res.output
    out = pd.read_csv(dst)
    assert list(out.columns) == list(df.columns)
    assert (out["y"] == "m").sum() == 45 and len(out) == 135
    assert (out["age"] == out["age"].round()).all()
    assert "35 new" in res.output
    bad = CliRunner().invoke(
        app, ["rebalance", str(src), "--target", "y", "--ratio", "0.05", "-o", str(dst)]
    )
    assert bad.exit_code != 0 and "not above the current ratio" in str(bad.exception)


def test_generative_per_class_keeps_the_minority_s_own_dependence() -> None:
    """A minority whose columns move together while the majority's move apart: one model per
    class reproduces the minority's correlation; one joint copula of the table cannot."""
    from synthcust.synthesizers.oversampling.oversample import GenerativeOversampler

    rng = np.random.default_rng(11)
    n_min, n_maj = 300, 1500
    a = rng.normal(size=n_min)
    b = rng.normal(size=n_maj)
    X = pd.DataFrame(
        {
            "x": np.r_[a, b],
            "z": np.r_[a + 0.3 * rng.normal(size=n_min), -b + 0.3 * rng.normal(size=n_maj)],
        }
    )
    y = pd.Series(["m"] * n_min + ["M"] * n_maj, name="y")
    corr = {}
    for per_class in (True, False):
        Xr, yr = GenerativeOversampler(per_class=per_class, random_state=0).fit_resample(X, y)
        new = Xr.iloc[len(X):][np.asarray(yr)[len(X):] == "m"]
        assert len(new) == n_maj - n_min
        corr[per_class] = new["x"].corr(new["z"])
    real = X.iloc[:n_min]["x"].corr(X.iloc[:n_min]["z"])
    assert abs(corr[True] - real) < 0.1 < abs(corr[False] - real)


def test_augment_study_names_unknown_synthesizers() -> None:
    from synthcust.studies.augment import augment_study

    df = _small_frame(30)
    with pytest.raises(DataError, match="unknown synthesizer 'nope'"):
        augment_study(df, "y", methods=["generative:nope"], repeats=1, small=False)
