"""Detection AUC (C2ST) and its drivers (BENCHMARKS.md, Fidelity: Detection AUC)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcust.evaluation.detection import detection_status, evaluate_detection
from synthcust.exceptions import DataError

N = 500
COLUMNS = ["age", "income", "plan", "active", "signup"]


def draw(n: int, seed: int) -> pd.DataFrame:
    """Customers from one fixed process: integers, a skewed amount, a category, a flag, dates."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    return pd.DataFrame(
        {
            "age": age,
            "income": rng.lognormal(10 + 0.01 * age, 0.3),
            "plan": rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            "active": rng.random(n) < 0.7,
            "signup": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        }
    )


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return draw(N, 0)


@pytest.fixture(scope="module")
def twin(holdout):
    """An independent draw of the same process: nothing to detect."""
    return evaluate_detection(holdout, draw(N, 1))


@pytest.fixture(scope="module")
def income_shifted(holdout) -> pd.DataFrame:
    syn = draw(N, 1)
    syn["income"] = syn["income"] + 3 * holdout["income"].std()
    return syn


@pytest.fixture(scope="module")
def shifted(holdout, income_shifted):
    return evaluate_detection(holdout, income_shifted)


def test_same_distribution_is_not_detected(twin):
    m = twin.metric("detection_auc")
    assert 0.38 < m.value < 0.6
    assert m.status == "pass" and m.better == "closer_to:0.5"
    assert twin.extra["hints"] == []  # nothing gives the rows away
    assert len(twin.extra["fold_auc"]) == 5
    assert m.value == pytest.approx(np.mean(twin.extra["fold_auc"]))
    assert twin.extra["n_per_side"] == N and twin.extra["capped"] is False
    drivers = twin.tables["drivers"]
    assert (drivers["single_column_auc"] < 0.6).all()
    assert (drivers["importance"] < 0.05).all()


def test_drivers_table_layout(twin):
    drivers = twin.tables["drivers"]
    assert drivers.index.name == "column"
    assert sorted(drivers.index) == sorted(COLUMNS)
    assert list(drivers.columns) == [
        "kind",
        "importance",
        "importance_sd",
        "rank",
        "single_column_auc",
        "single_column_rank",
    ]
    kinds = drivers["kind"].to_dict()
    assert kinds == {
        "age": "numeric",
        "income": "numeric",
        "signup": "numeric",
        "plan": "categorical",
        "active": "categorical",
    }
    # sorted by importance rank; rank 1 = largest importance
    assert drivers["rank"].is_monotonic_increasing
    assert drivers["rank"].iloc[0] == 1
    assert drivers["importance"].idxmax() == drivers.index[0]
    assert (
        drivers["single_column_auc"].idxmax()
        == drivers.index[drivers["single_column_rank"].to_numpy().argmin()]
    )


def test_shifted_numeric_column_is_detected_and_named(shifted):
    m = shifted.metric("detection_auc")
    assert m.value > 0.9 and m.status == "fail"
    drivers = shifted.tables["drivers"]
    assert drivers.index[0] == "income"
    assert drivers.loc["income", "rank"] == 1 and drivers.loc["income", "single_column_rank"] == 1
    assert drivers.loc["income", "single_column_auc"] > 0.9
    assert drivers.drop(index="income")["single_column_auc"].max() < 0.6
    assert drivers.loc["income", "importance"] > 0.2
    hints = shifted.extra["hints"]
    assert hints and hints[0].startswith("'income'")
    assert "percentiles real" in hints[0] and "vs synthetic" in hints[0]


def test_swapped_category_shares_are_the_top_driver(holdout):
    syn = draw(N, 1)
    syn["plan"] = np.random.default_rng(9).choice(["basic", "pro", "team"], N, p=[0.1, 0.3, 0.6])
    res = evaluate_detection(holdout, syn, importance_repeats=1)
    assert res.metric("detection_auc").value > 0.7
    drivers = res.tables["drivers"]
    assert drivers.index[0] == "plan" and drivers.loc["plan", "single_column_rank"] == 1
    hint = res.extra["hints"][0]
    real_share = holdout["plan"].value_counts(normalize=True)
    syn_share = syn["plan"].value_counts(normalize=True)
    top = (real_share - syn_share).abs().idxmax()
    assert top in {"basic", "team"}  # the two swapped ones
    # the category whose share differs most, with both shares
    assert hint.startswith("'plan'")
    assert (
        f"{top!r} is {real_share[top]:.1%} of real rows vs {syn_share[top]:.1%} of synthetic"
        in hint
    )


def test_shifted_dates_get_a_date_hint(holdout):
    syn = draw(N, 1)
    syn["signup"] = syn["signup"] + pd.Timedelta(days=500)
    res = evaluate_detection(holdout, syn, folds=3, importance_repeats=1)
    assert res.tables["drivers"].index[0] == "signup"
    assert len(res.extra["fold_auc"]) == 3 and "3-fold" in res.method
    hint = res.extra["hints"][0]
    assert hint.startswith("'signup'")
    assert "vs synthetic 2022-" in hint or "vs synthetic 2023-" in hint  # dates, not seconds


def test_missing_values_and_invented_categories_are_explained(holdout):
    syn = draw(N, 1)
    syn.loc[syn.index[:200], "income"] = np.nan
    syn["plan"] = np.where(np.arange(N) % 3 == 0, "enterprise", syn["plan"])
    res = evaluate_detection(holdout, syn)
    top2 = set(res.tables["drivers"].index[:2])
    assert top2 == {"income", "plan"}
    hints = {h.split(" ", 1)[0]: h for h in res.extra["hints"]}
    assert "missing 0.0% real vs 40.0% synthetic" in hints["'income'"]
    assert "'enterprise' is 0.0% of real rows vs 33.4% of synthetic" in hints["'plan'"]
    assert "1 categories appear only in the synthetic rows" in hints["'plan'"]


def test_same_seed_same_result_whatever_the_input_order(holdout, income_shifted, shifted):
    # rows shuffled (and a messy index), synthetic columns reordered, same random_state:
    # the very same figures, to the last bit
    h = holdout.sample(frac=1, random_state=1)
    s = income_shifted.sample(frac=1, random_state=2)[COLUMNS[::-1]]
    s.index = np.zeros(len(s), dtype=int)
    moved = evaluate_detection(h, s)
    assert moved.metric("detection_auc") == shifted.metric("detection_auc")
    pd.testing.assert_frame_equal(moved.tables["drivers"], shifted.tables["drivers"])
    assert moved.extra == shifted.extra


def test_unequal_sides_and_the_row_cap(holdout):
    res = evaluate_detection(holdout, draw(900, 3), max_rows=200, importance_repeats=1)
    assert res.extra["n_per_side"] == 200 and res.extra["capped"] is True
    assert res.extra["n_real_holdout"] == N and res.extra["n_synthetic"] == 900
    assert "capped at max_rows=200" in res.metric("detection_auc").note
    res = evaluate_detection(holdout.head(150), draw(400, 3), importance_repeats=1)
    assert res.extra["n_per_side"] == 150 and res.extra["capped"] is False
    assert "larger side subsampled" in res.metric("detection_auc").note


def test_column_known_in_a_single_row_is_handled(holdout):
    # some training folds see no known value of "sparse" at all
    h = holdout.assign(sparse=np.nan)
    h.loc[7, "sparse"] = 4.0
    res = evaluate_detection(h, draw(N, 1).assign(sparse=np.nan), importance_repeats=1)
    assert res.metric("detection_auc").value < 0.62
    drivers = res.tables["drivers"]
    assert "sparse" in drivers.index
    assert drivers.loc["sparse", "single_column_auc"] == pytest.approx(0.5, abs=0.02)


def test_incomparable_columns_are_skipped_and_inputs_untouched(holdout):
    syn = draw(N, 1).assign(extra=1)
    syn["age"] = syn["age"].astype(str)
    before_h, before_s = holdout.copy(), syn.copy()
    res = evaluate_detection(holdout, syn, importance_repeats=1)
    assert sorted(res.tables["drivers"].index) == ["active", "income", "plan", "signup"]
    assert any("'extra'" in s and "only in the synthetic" in s for s in res.skipped)
    assert any("'age'" in s and "numeric in the real data" in s for s in res.skipped)
    pd.testing.assert_frame_equal(holdout, before_h)
    pd.testing.assert_frame_equal(syn, before_s)


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda h, s: (h, s.iloc[:0]), "synthetic data has no rows"),
        (lambda h, s: (h.iloc[:0], s), "real data has no rows"),
        (lambda h, s: (h, s[["age"]]), r"synthetic data lacks real columns \['income'"),
        (lambda h, s: (h[["age"]], s[["age"]].astype(str)), "no column can be compared.*'age'"),
        (lambda h, s: (h.head(3), s), "at least 5 rows on each side"),
    ],
    ids=["empty-synthetic", "empty-holdout", "missing-columns", "nothing-comparable", "too-few"],
)
def test_unusable_inputs_raise_data_error(holdout, make, pattern):
    with pytest.raises(DataError, match=pattern):
        evaluate_detection(*make(holdout, draw(50, 1)))


@pytest.mark.parametrize(
    ("kw", "pattern"),
    [
        ({"folds": 1}, "folds"),
        ({"folds": True}, "folds"),
        ({"folds": 2.0}, "folds"),
        ({"max_rows": 3}, "max_rows"),
    ],
)
def test_bad_arguments_raise_data_error(holdout, kw, pattern):
    with pytest.raises(DataError, match=pattern):
        evaluate_detection(holdout, draw(50, 1), **kw)


@pytest.mark.parametrize(
    ("auc", "status"),
    [(None, "info"), (float("nan"), "info"), (0.5, "pass"), (0.6, "pass"), (0.61, "warn"),
     (0.8, "warn"), (0.81, "fail"), (0.4, "pass"), (0.39, "warn"), (0.05, "warn")],
)  # fmt: skip
def test_status_bands(auc, status):
    assert detection_status(auc) == status


def test_copied_holdout_is_flagged_not_passed(holdout):
    """Synthetic rows that are the holdout itself drive the CV AUC far below 0.5: a warning."""
    res = evaluate_detection(holdout, holdout.copy())
    m = res.metric("detection_auc")
    assert m.value < 0.4
    assert m.status == "warn" and "suspicious" in m.note
