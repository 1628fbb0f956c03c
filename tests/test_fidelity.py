"""Per-column KL divergence as BENCHMARKS.md defines it."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

import synthcust.evaluation.fidelity as fidelity
from synthcust.demo import simulate_customers
from synthcust.evaluation import KL_THRESHOLD, KLSummary, kl_divergence, kl_per_column, kl_summary
from synthcust.exceptions import DataError


def _kl(p, q, eps=1e-6):
    """Reference implementation on probability lists, written out by hand."""
    p = np.asarray(p, float) / np.sum(p) + eps
    q = np.asarray(q, float) / np.sum(q) + eps
    p, q = p / p.sum(), q / q.sum()
    return float(sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True)))


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return simulate_customers(5000, random_state=0)


def test_identical_frames_score_zero(demo):
    kl = kl_per_column(demo, demo.copy())
    assert list(kl.index) == list(demo.columns)
    assert (kl < 1e-4).all()
    assert (kl >= 0).all()


def test_independent_samples_of_the_same_world_score_low():
    a = simulate_customers(20_000, random_state=0, with_pii=False).drop(columns="customer_id")
    b = simulate_customers(20_000, random_state=1, with_pii=False).drop(columns="customer_id")
    summary = kl_summary(a, b)
    assert summary.passed, summary.per_column.sort_values().tail()
    assert summary.max < 0.01


def test_hand_computed_two_categories():
    real = pd.DataFrame({"x": ["a"] * 50 + ["b"] * 50})
    synth = pd.DataFrame({"x": ["a"] * 90 + ["b"] * 10})
    expected = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    assert kl_per_column(real, synth)["x"] == pytest.approx(expected, abs=1e-4)
    assert expected == pytest.approx(0.5108, abs=1e-4)


def test_kl_is_not_symmetric_and_direction_is_real_to_synthetic():
    real = pd.DataFrame({"x": ["a"] * 50 + ["b"] * 50})
    synth = pd.DataFrame({"x": ["a"] * 90 + ["b"] * 10})
    forward = kl_per_column(real, synth)["x"]
    backward = kl_per_column(synth, real)["x"]
    assert forward == pytest.approx(_kl([0.5, 0.5], [0.9, 0.1]))
    assert backward == pytest.approx(_kl([0.9, 0.1], [0.5, 0.5]))
    assert abs(forward - backward) > 0.05


def test_shifted_numeric_distribution_scores_high():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(0, 1, 5000)})
    same = pd.DataFrame({"x": rng.normal(0, 1, 5000)})
    shifted = pd.DataFrame({"x": rng.normal(3, 1, 5000)})
    assert kl_per_column(real, same)["x"] < 0.02
    assert kl_per_column(real, shifted)["x"] > 1


def test_numeric_bins_are_real_quantiles_and_outside_values_join_outer_bins():
    real = pd.DataFrame({"x": np.arange(100, dtype=float)})  # 20 bins of 5 values
    # All synthetic mass far beyond the real range lands in the last bin only.
    synth = pd.DataFrame({"x": np.full(40, 1e9)})
    p = np.full(20, 0.05)
    q = np.zeros(20)
    q[-1] = 1.0
    assert kl_per_column(real, synth)["x"] == pytest.approx(_kl(p, q), rel=1e-9)
    below = pd.DataFrame({"x": np.full(40, -1e9)})
    q_low = np.zeros(20)
    q_low[0] = 1.0
    assert kl_per_column(real, below)["x"] == pytest.approx(_kl(p, q_low), rel=1e-9)
    # Uniform synthetic data over the same range scores (almost) zero.
    assert kl_per_column(real, pd.DataFrame({"x": np.arange(100.0)}))["x"] < 1e-9


def test_bins_argument_changes_the_binning():
    real = pd.DataFrame({"x": np.arange(100, dtype=float)})
    synth = pd.DataFrame({"x": np.arange(50, dtype=float)})
    # First half of the real range: with 2 bins q = (1, 0); with 20 bins q puts 0.1 per bin
    # on the first ten.
    assert kl_per_column(real, synth, bins=2)["x"] == pytest.approx(_kl([0.5, 0.5], [1, 0]))
    p20 = np.full(20, 0.05)
    q20 = np.r_[np.full(10, 0.1), np.zeros(10)]
    assert kl_per_column(real, synth)["x"] == pytest.approx(_kl(p20, q20))


def test_unseen_synthetic_category_increases_kl():
    real = pd.DataFrame({"x": ["a"] * 50 + ["b"] * 50})
    base = pd.DataFrame({"x": ["a"] * 50 + ["b"] * 50})
    unseen = pd.DataFrame({"x": ["a"] * 40 + ["b"] * 40 + ["zzz"] * 20})
    assert kl_per_column(real, base)["x"] < 1e-9
    got = kl_per_column(real, unseen)["x"]
    assert got == pytest.approx(_kl([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]))
    assert got > 0.2


def test_missing_values_are_their_own_bin_numeric_and_categorical():
    real_num = pd.DataFrame({"x": np.r_[np.arange(50.0), np.full(50, np.nan)]})
    synth_num = pd.DataFrame({"x": np.arange(100.0)})
    kl_num = kl_per_column(real_num, synth_num)["x"]
    # Real: 20 bins of 0.025 + missing 0.5; synthetic puts nothing in the missing bin.
    assert kl_num > 5
    real_cat = pd.DataFrame({"x": ["a"] * 50 + [None] * 50})
    synth_cat = pd.DataFrame({"x": ["a"] * 100})
    assert kl_per_column(real_cat, synth_cat)["x"] == pytest.approx(_kl([0.5, 0.5], [1, 0]))
    assert kl_per_column(real_cat, synth_cat)["x"] > 5


def test_missing_counts_match_across_missing_markers():
    real = pd.DataFrame({"x": pd.array([1, 2, None, 4] * 25, dtype="Int64")})
    synth = pd.DataFrame({"x": np.array([1.0, 2.0, np.nan, 4.0] * 25)})
    assert kl_per_column(real, synth)["x"] < 1e-9
    real_s = pd.DataFrame({"c": pd.Series(["a", None, "b", "a"] * 10, dtype="str")})
    synth_s = pd.DataFrame({"c": pd.Series(["a", np.nan, "b", "a"] * 10, dtype=object)})
    assert kl_per_column(real_s, synth_s)["c"] < 1e-9


def test_point_mass_heavy_column_merges_duplicate_edges():
    rng = np.random.default_rng(1)
    real = pd.DataFrame({"x": np.r_[np.zeros(900), rng.exponential(100, 100)]})
    synth_same = pd.DataFrame({"x": np.r_[np.zeros(900), rng.exponential(100, 100)]})
    synth_no_zeros = pd.DataFrame({"x": rng.exponential(100, 1000)})
    assert kl_per_column(real, synth_same)["x"] < 0.05
    assert kl_per_column(real, synth_no_zeros)["x"] > 1
    # The zero point mass is one bin holding 90% of the real data; the remaining edges are
    # the distinct upper quantiles. Check against np.histogram on the merged edges.
    half = pd.DataFrame({"x": np.r_[np.zeros(500), rng.exponential(100, 500)]})
    edges = np.unique(np.quantile(real["x"], np.linspace(0, 1, 21)))
    assert len(edges) < 21
    clipped = np.clip(half["x"], edges[0], edges[-1])
    p = np.histogram(real["x"], edges)[0]
    q = np.histogram(clipped, edges)[0]
    assert p[0] == 900
    assert kl_per_column(real, half)["x"] == pytest.approx(_kl(p, q), rel=1e-9)
    assert kl_per_column(real, half)["x"] > 0.3


def test_constant_and_all_missing_columns():
    real = pd.DataFrame({"c": np.full(10, 3.0), "m": np.full(10, np.nan)})
    synth = pd.DataFrame({"c": np.full(10, 7.0), "m": np.full(10, np.nan)})
    kl = kl_per_column(real, synth)
    # A constant real column is one bin: every value lands in it.
    assert kl["c"] < 1e-9
    assert kl["m"] < 1e-9


def test_bool_is_categorical_and_must_not_be_confused_with_numbers():
    real = pd.DataFrame({"b": [True] * 70 + [False] * 30})
    synth = pd.DataFrame({"b": pd.array([True] * 50 + [False] * 50, dtype="boolean")})
    assert kl_per_column(real, synth)["b"] == pytest.approx(_kl([0.7, 0.3], [0.5, 0.5]))
    with pytest.raises(DataError, match="'n'"):
        kl_per_column(pd.DataFrame({"n": [1.0, 2.0]}), pd.DataFrame({"n": [True, False]}))


def test_category_dtype_against_strings():
    real = pd.DataFrame({"x": pd.Categorical(["a", "b", "b", "c"] * 10)})
    synth = pd.DataFrame({"x": ["a", "b", "b", "c"] * 10})
    assert kl_per_column(real, synth)["x"] < 1e-9


def test_datetime_columns_are_numeric_and_units_do_not_matter():
    dates = pd.Series(pd.date_range("2020-01-01", periods=500, freq="D"))
    real = pd.DataFrame({"d": dates.astype("datetime64[ns]")})
    synth = pd.DataFrame({"d": dates.astype("datetime64[s]")})
    assert kl_per_column(real, synth)["d"] < 1e-9
    later = pd.DataFrame({"d": dates + pd.Timedelta(days=400)})
    assert kl_per_column(real, later)["d"] > 1
    aware = pd.DataFrame({"d": dates.dt.tz_localize("UTC")})
    assert kl_per_column(aware, aware.copy())["d"] < 1e-9
    with pytest.raises(DataError, match="'d'"):
        kl_per_column(real, pd.DataFrame({"d": dates.astype(str)}))


def test_missing_column_raises_naming_it():
    real = pd.DataFrame({"a": [1, 2], "income": [3.0, 4.0]})
    with pytest.raises(DataError, match="income"):
        kl_per_column(real, pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(DataError, match="nope"):
        kl_per_column(real, real, columns=["nope"])


def test_numeric_in_real_but_not_in_synthetic_raises_naming_it():
    real = pd.DataFrame({"spend": [1.0, 2.0, 3.0]})
    synth = pd.DataFrame({"spend": ["1", "2", "3"]})
    with pytest.raises(DataError, match="spend"):
        kl_per_column(real, synth)


def test_empty_frames_and_bad_arguments_raise():
    real = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(DataError, match="synthetic"):
        kl_per_column(real, real.iloc[:0])
    with pytest.raises(DataError, match="real"):
        kl_per_column(real.iloc[:0], real)
    with pytest.raises(DataError, match="bins"):
        kl_per_column(real, real, bins=0)
    with pytest.raises(DataError, match="eps"):
        kl_per_column(real, real, eps=0)


def test_columns_subset_and_caller_frames_untouched(demo):
    before = demo.copy()
    kl = kl_per_column(demo, demo, columns=["age", "region"])
    assert list(kl.index) == ["age", "region"]
    pd.testing.assert_frame_equal(demo, before)


def test_shuffling_within_a_column_does_not_change_kl_but_damage_does(demo):
    rng = np.random.default_rng(0)
    shuffled = demo.sample(frac=1.0, random_state=0).reset_index(drop=True)
    assert (kl_per_column(demo, shuffled) < 1e-9).all()
    damaged = demo.copy()
    damaged["income"] = rng.permutation(damaged["income"].to_numpy()) * 3
    damaged["region"] = "north"
    kl = kl_per_column(demo, damaged)
    assert kl["income"] > 0.5
    assert kl["region"] > 1
    assert kl["age"] < 1e-9


def test_kl_summary(demo):
    synth = demo.copy()
    synth["region"] = "north"
    summary = kl_summary(demo, synth, columns=["age", "region", "income"])
    assert isinstance(summary, KLSummary)
    assert summary.threshold == KL_THRESHOLD == 0.12
    assert summary.failing == ["region"]
    assert not summary.passed
    assert summary.max == pytest.approx(summary.per_column["region"])
    assert summary.mean == pytest.approx(summary.per_column.mean())
    d = summary.to_dict()
    assert d["failing"] == ["region"]
    assert set(d["per_column"]) == {"age", "region", "income"}
    assert "quantiles" in d["method"]
    assert kl_summary(demo, demo).passed
    loose = kl_summary(demo, synth, threshold=100.0, columns=["age", "region"])
    assert loose.passed


def test_kl_divergence_validates_histograms():
    assert kl_divergence(np.array([1, 1]), np.array([1, 1])) == pytest.approx(0.0)
    with pytest.raises(DataError):
        kl_divergence(np.array([1, 1]), np.array([1, 1, 1]))
    with pytest.raises(DataError):
        kl_divergence(np.array([0, 0]), np.array([1, 1]))


def test_docstring_examples_run():
    result = doctest.testmod(fidelity)
    assert result.attempted > 0
    assert result.failed == 0
