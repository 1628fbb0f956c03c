"""evaluate_fidelity: the fidelity section (KL, accuracy, shapes, pair trends, coverage)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association

from synthcust.evaluation.binning import ks_statistic, subsample, tvd
from synthcust.evaluation.fidelity import KL_THRESHOLD, evaluate_fidelity
from synthcust.evaluation.pairs import (
    correlation_ratio,
    cramers_v,
    joint_counts,
    pairwise_corr,
)
from synthcust.evaluation.results import SectionResult
from synthcust.exceptions import DataError

HEADLINE = [
    "kl_max",
    "kl_mean",
    "accuracy",
    "accuracy_univariate",
    "accuracy_bivariate",
    "shapes",
    "pairs",
    "pairs_associated",
    "missing_rate_max_diff",
    "categories_missed",
    "categories_invented_count",
]


def world(n: int, seed: int) -> pd.DataFrame:
    """Customers driven by one latent factor: strong correlations, skew, missing values, dates."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    income = np.exp(10 + 0.6 * z + rng.normal(0, 0.15, n))
    income[rng.random(n) < 0.08] = np.nan
    plan_score = z + rng.normal(0, 0.4, n)
    plan = np.select(
        [plan_score < -0.3, plan_score < 0.7, plan_score < 1.5],
        ["basic", "pro", "team"],
        "enterprise",
    ).astype(object)
    region = rng.choice(
        ["north", "south", "east", "west", "islands"], n, p=[0.5, 0.25, 0.15, 0.07, 0.03]
    )
    region = region.astype(object)
    region[rng.random(n) < 0.05] = None
    signup = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.round(600 + 250 * z), unit="D")
    return pd.DataFrame(
        {
            "age": np.round(45 + 12 * z + rng.normal(0, 3, n)),
            "income": income,
            "tenure": 4 + 3 * z + rng.normal(0, 0.8, n),
            "plan": plan,
            "region": region,
            "signup": signup,
            "vip": z + rng.normal(0, 0.3, n) > 1.0,
        }
    )


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return world(3000, 0)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return world(1000, 1)


def values(res: SectionResult) -> dict[str, tuple[float | None, float | None]]:
    return {m.key: (m.value, m.reference) for m in res.metrics}


# ------------------------------------------------------------------ sanity properties


def test_real_vs_itself_is_perfect(train, holdout):
    res = evaluate_fidelity(train, train.copy())
    assert res.name == "fidelity"
    assert [m.key for m in res.metrics] == HEADLINE
    for key in ("accuracy", "accuracy_univariate", "accuracy_bivariate", "shapes", "pairs"):
        assert res.metric(key).value == pytest.approx(1.0, abs=1e-12), key
    assert res.metric("kl_max").value < 1e-9
    assert res.metric("kl_max").status == "pass"
    assert res.metric("missing_rate_max_diff").value == 0
    assert res.metric("categories_missed").value == 0
    assert res.metric("categories_invented_count").value == 0
    assert (res.tables["columns"]["shape"] == 1).all()
    assert np.allclose(res.tables["pairs"]["score"], 1.0)
    assert not res.skipped
    # With a holdout, accuracy compares a holdout-sized sample (as the ceiling does); the
    # figures on all rows stay perfect.
    with_holdout = evaluate_fidelity(train, train.copy(), holdout)
    assert with_holdout.metric("shapes").value == pytest.approx(1.0)
    assert with_holdout.metric("pairs").value == pytest.approx(1.0)
    acc = with_holdout.metric("accuracy")
    assert acc.value == pytest.approx(acc.reference, abs=0.02)


def test_independent_draw_scores_near_the_ceiling(train, holdout):
    res = evaluate_fidelity(train, world(3000, 2), holdout)
    for key in ("accuracy", "accuracy_univariate", "accuracy_bivariate", "shapes", "pairs"):
        m = res.metric(key)
        assert m.reference is not None and m.reference > 0.85, key
        assert m.value == pytest.approx(m.reference, abs=0.03), key
    assert res.metric("kl_max").value < KL_THRESHOLD
    assert res.metric("kl_max").status == "pass"
    # accuracy compares a holdout-sized synthetic sample, and says so
    assert "1,000 rows" in res.metric("accuracy").note


def test_columnwise_shuffle_keeps_shapes_but_breaks_pairs(train, holdout):
    rng = np.random.default_rng(5)
    shuffled = pd.DataFrame(
        {c: train[c].to_numpy()[rng.permutation(len(train))] for c in train.columns}
    )
    res = evaluate_fidelity(train, shuffled, holdout)
    # every marginal is exactly the real one
    assert res.metric("shapes").value == pytest.approx(1.0)
    assert res.metric("kl_max").value < 1e-9
    pairs = res.metric("pairs")
    assert pairs.value < 0.85
    assert pairs.value < pairs.reference - 0.1
    bi = res.metric("accuracy_bivariate")
    assert bi.value < bi.reference - 0.1
    tab = res.tables["pairs"].set_index(["col_a", "col_b"])
    assert tab.loc[("age", "income"), "real"] > 0.7
    assert abs(tab.loc[("age", "income"), "synthetic"]) < 0.1
    assert tab.loc[("age", "income"), "score"] < 0.7


def test_uniform_noise_scores_low(train, holdout):
    rng = np.random.default_rng(7)
    n = len(train)
    noise = pd.DataFrame(
        {
            "age": rng.uniform(train["age"].min(), train["age"].max(), n),
            "income": rng.uniform(train["income"].min(), train["income"].max(), n),
            "tenure": rng.uniform(train["tenure"].min(), train["tenure"].max(), n),
            "plan": rng.choice(train["plan"].unique(), n),
            "region": rng.choice(train["region"].dropna().unique(), n),
            "signup": pd.to_datetime(
                rng.uniform(train["signup"].min().value, train["signup"].max().value, n)
            ),
            "vip": rng.random(n) < 0.5,
        }
    )
    res = evaluate_fidelity(train, noise, holdout)
    assert res.metric("shapes").value < 0.75
    assert res.metric("accuracy").value < 0.75
    assert res.metric("pairs").value < 0.8
    assert res.metric("kl_max").status == "fail"
    assert res.metric("shapes").reference > 0.9


def test_row_and_column_order_of_the_synthetic_data_do_not_matter(train, holdout):
    synth = world(4000, 3)
    shuffled = synth.sample(frac=1, random_state=11)[list(reversed(synth.columns))]
    shuffled = shuffled.reset_index(drop=True)
    # max_rows below the synthetic size exercises the row draw, the holdout the
    # holdout-sized sample for accuracy
    a = evaluate_fidelity(train, synth, holdout, max_rows=2500)
    b = evaluate_fidelity(train, shuffled, holdout, max_rows=2500)
    assert "2,500 of 4,000" in a.metric("shapes").note
    va, vb = values(a), values(b)
    for key in HEADLINE:
        assert vb[key][0] == pytest.approx(va[key][0], rel=1e-9, abs=1e-12), key
        assert vb[key][1] == pytest.approx(va[key][1], rel=1e-9, abs=1e-12), key
    pd.testing.assert_frame_equal(a.tables["columns"], b.tables["columns"], rtol=1e-9)
    pd.testing.assert_frame_equal(a.tables["pairs"], b.tables["pairs"], rtol=1e-9)


def test_subsample_is_row_order_invariant_and_seeded():
    df = world(500, 4)
    a = subsample(df, 100, random_state=3)
    b = subsample(df.iloc[::-1], 100, random_state=3)
    assert len(a) == 100
    assert sorted(a.index) == sorted(b.index)
    assert sorted(subsample(df, 100, random_state=4).index) != sorted(a.index)


# ------------------------------------------------------------------ bad input


def test_different_column_sets_raise(train):
    with pytest.raises(DataError, match="income"):
        evaluate_fidelity(train, train.drop(columns="income"))


def test_empty_synthetic_raises(train):
    with pytest.raises(DataError, match="no rows"):
        evaluate_fidelity(train, train.iloc[:0])


def test_bad_max_rows_raises(train):
    with pytest.raises(DataError, match="max_rows"):
        evaluate_fidelity(train, train, max_rows=0)


def test_all_missing_column_is_skipped_and_the_rest_computed(train):
    real = train.assign(empty=np.nan)
    res = evaluate_fidelity(real, train.assign(empty=1.0))
    assert any("'empty'" in s and "missing" in s for s in res.skipped)
    assert "empty" not in res.tables["columns"].index
    assert res.metric("accuracy").value == pytest.approx(1.0)
    assert res.metric("pairs").value == pytest.approx(1.0)


def test_synthetic_column_with_no_values_scores_zero_shape(train):
    synth = train.assign(income=np.nan)
    res = evaluate_fidelity(train, synth)
    assert res.tables["columns"].loc["income", "shape"] == 0
    assert "'income'" in res.metric("shapes").note
    assert res.metric("missing_rate_max_diff").value == pytest.approx(
        1 - train["income"].isna().mean()
    )


# ------------------------------------------------------------------ hand-computed examples


def test_hand_computed_tvd_and_contingency_similarity():
    real = pd.DataFrame({"x": ["a", "a", "b", "b"] * 25, "y": ["u", "v", "u", "v"] * 25})
    synth = pd.DataFrame({"x": ["a", "a", "a", "b"] * 25, "y": ["u", "u", "v", "v"] * 25})
    res = evaluate_fidelity(real, synth)
    # x: (.5, .5) vs (.75, .25) -> TVD .25; y: identical shares -> TVD 0
    assert res.tables["columns"]["accuracy"].to_dict() == pytest.approx({"x": 0.75, "y": 1.0})
    assert res.metric("shapes").value == pytest.approx(0.875)
    # joint real: each cell .25; synthetic: (a,u) .5, (a,v) .25, (b,u) 0, (b,v) .25 -> TVD .25
    assert res.metric("pairs").value == pytest.approx(0.75)
    assert res.metric("accuracy_univariate").value == pytest.approx(0.875)
    assert res.metric("accuracy_bivariate").value == pytest.approx(0.75)
    assert res.metric("accuracy").value == pytest.approx((0.875 + 0.75) / 2)
    assert tvd(np.array([50, 50]), np.array([75, 25])) == pytest.approx(0.25)


def test_hand_computed_numeric_bins_ks_and_correlation():
    x = np.arange(10.0)
    real = pd.DataFrame({"x": x, "y": x})
    synth = pd.DataFrame({"x": np.zeros(10), "y": -x})
    res = evaluate_fidelity(real, synth)
    cols = res.tables["columns"]
    # 10 real-quantile bins hold one value each; all synthetic x fall in the first bin
    assert cols.loc["x", "accuracy"] == pytest.approx(0.1)
    # ECDFs differ most at 0: 1.0 vs 0.1
    assert cols.loc["x", "shape"] == pytest.approx(0.1)
    pair = res.tables["pairs"].iloc[0]
    # synthetic x is constant: Pearson undefined, so the pair falls back to contingency
    # similarity: all synthetic mass in (bin 0, bins 0..9) -> joint TVD .9
    assert pair["score_method"] == "contingency similarity"
    assert pair["score"] == pytest.approx(0.1)
    flipped = evaluate_fidelity(real, pd.DataFrame({"x": x, "y": -x}))
    row = flipped.tables["pairs"].iloc[0]
    assert (row["real"], row["synthetic"]) == pytest.approx((1.0, -1.0))
    assert row["score"] == pytest.approx(0.0)
    assert row["spearman_synthetic"] == pytest.approx(-1.0)


def test_category_coverage_and_missing_rates():
    real = pd.DataFrame({"c": list("aaaabbbcce") * 10, "n": [1.0, np.nan] * 50})
    synth = pd.DataFrame({"c": list("aaaabbbczz") * 10, "n": np.arange(100.0)})
    res = evaluate_fidelity(real, synth)
    row = res.tables["columns"].loc["c"]
    assert row["categories_real"] == 4
    assert row["categories_missed"] == pytest.approx(0.25)
    assert row["categories_missed_examples"] == ["e"]
    assert row["categories_invented"] == 1
    assert row["categories_invented_examples"] == ["z"]
    assert res.metric("categories_missed").value == pytest.approx(0.25)
    assert res.metric("categories_invented_count").value == 1
    assert res.tables["columns"].loc["n", "missing_real"] == pytest.approx(0.5)
    assert res.tables["columns"].loc["n", "missing_synth"] == 0
    assert res.metric("missing_rate_max_diff").value == pytest.approx(0.5)


def test_statistics_match_scipy_and_pandas():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, 4))
    x[:, 1] += x[:, 0]
    x[rng.random(x.shape) < 0.1] = np.nan
    assert np.allclose(pairwise_corr(x), pd.DataFrame(x).corr().to_numpy())
    a, b = rng.normal(size=300), rng.normal(0.2, 1.3, size=500)
    assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)
    g = rng.integers(0, 4, 1500)
    h = (g + rng.integers(0, 3, 1500)) % 5
    counts, rows, cols = joint_counts([g], [h], 4, 5)
    expected = association(counts[0].reshape(4, 5), method="cramer")
    assert cramers_v(counts[0], rows, cols) == pytest.approx(expected)
    y = g + rng.normal(size=1500)
    means = pd.Series(y).groupby(g).transform("mean").to_numpy()
    eta = np.sqrt(((means - y.mean()) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert correlation_ratio(g, y) == pytest.approx(eta)


# ------------------------------------------------------------------ outputs for the report


def test_tables_extras_and_json(train, holdout):
    res = evaluate_fidelity(train, world(2000, 9), holdout)
    cols = res.tables["columns"]
    assert list(cols.index) == list(train.columns)
    assert cols.loc["signup", "kind"] == "datetime"
    for c in ("kl", "kl_holdout", "missing_real", "missing_synth", "shape", "accuracy"):
        assert cols[c].notna().all(), c
    pairs = res.tables["pairs"]
    assert len(pairs) == 7 * 6 // 2
    for c in ("col_a", "col_b", "kind", "real", "synthetic", "score"):
        assert c in pairs.columns
    kinds = pairs.set_index(["col_a", "col_b"])["statistic"]
    assert kinds[("age", "income")] == "pearson"
    assert kinds[("plan", "region")] == "cramers_v"
    assert kinds[("age", "plan")] == "eta"
    ar, asy = res.extra["association_real"], res.extra["association_synthetic"]
    assert list(ar.columns) == list(train.columns) == list(asy.index)
    assert np.allclose(ar.to_numpy(), ar.to_numpy().T, equal_nan=True)
    assert ar.loc["plan", "age"] == pytest.approx(
        pairs.set_index(["col_a", "col_b"]).loc[("age", "plan"), "real"]
    )
    assert list(res.extra["correlation_real"].columns) == ["age", "income", "tenure", "signup"]
    dist = res.extra["distributions"]
    assert set(dist) == set(train.columns)
    assert len(dist["age"]["edges"]) == len(dist["age"]["real"]) + 1
    assert sum(dist["age"]["synthetic"]) == pytest.approx(1.0)
    assert dist["income"]["missing"]["real"] == pytest.approx(
        train["income"].isna().mean(), abs=1e-6
    )
    assert dist["region"]["labels"][-1] == "(missing)"
    assert sum(dist["region"]["holdout"]) == pytest.approx(1.0)
    payload = json.dumps(res.to_dict())
    assert len(payload) < 200_000
    for m in res.metrics:
        assert m.method, m.key


def test_single_column_and_no_holdout():
    real = pd.DataFrame({"x": np.random.default_rng(0).normal(size=400)})
    res = evaluate_fidelity(real, real.copy())
    assert res.metric("pairs").value is None
    assert res.metric("accuracy").value == pytest.approx(1.0)
    assert res.metric("categories_missed").value is None
    assert all(m.reference is None for m in res.metrics)
    assert res.tables["pairs"].empty


def test_related_pairs_metric_uses_only_related_pairs():
    """pairs_associated averages only pairs related in the real data (SDMetrics' subset)."""
    rng = np.random.default_rng(5)
    n = 3_000
    x = rng.normal(size=n)
    real = pd.DataFrame(
        {
            "x": x,
            "y": x + 0.3 * rng.normal(size=n),  # strongly related to x
            "noise": rng.normal(size=n),  # unrelated to both
            "g": np.where(x > 0, "hi", "lo"),  # related to x and y
        }
    )
    shuffled = pd.DataFrame(
        {c: real[c].sample(frac=1, random_state=i).to_numpy() for i, c in enumerate(real)}
    )
    res = evaluate_fidelity(real, shuffled)
    tab = res.tables["pairs"]
    related = {
        tuple(sorted(p)) for p in tab.loc[tab["real_strength"] > 0.3, ["col_a", "col_b"]].values
    }
    assert related == {("x", "y"), ("g", "x"), ("g", "y")}
    # a column-wise shuffle breaks the related pairs: the subset scores lower than all pairs
    assert res.metric("pairs_associated").value < res.metric("pairs").value
    assert "3 of 6 pairs" in res.metric("pairs_associated").note
