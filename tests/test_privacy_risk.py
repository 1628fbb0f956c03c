"""Privacy risk metrics and the privacy gate (BENCHMARKS.md, Privacy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcust.evaluation.distances import MixedEmbedding, nearest_neighbors, row_hashes
from synthcust.evaluation.privacy import (
    GateDecision,
    GateThresholds,
    evaluate_privacy,
    privacy_gate,
)
from synthcust.exceptions import DataError

NUMERIC = ["age", "income", "spend", "signup"]
CATEGORICAL = ["plan", "region", "active", "segment"]


def draw(n: int, seed: int) -> pd.DataFrame:
    """Customers from one fixed generator: mixed types, missing values, a spike at 0, dates.

    ``segment`` depends on plan and age but keeps noise, so it is only partly predictable.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1])
    income = rng.lognormal(10 + 0.01 * age, 0.3)
    income[rng.random(n) < 0.1] = np.nan
    spend = np.where(rng.random(n) < 0.3, 0.0, np.round(rng.lognormal(4, 0.6, n), 2))
    region = rng.choice(np.array(["north", "south", "east", None], dtype=object), n)
    signup = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    active = rng.random(n) < 0.7
    score = (plan == "pro") + (age > 45) + rng.normal(0, 0.8, n)
    segment = np.where(score > 1.2, "loyal", np.where(score > 0.3, "casual", "at-risk"))
    return pd.DataFrame(
        {
            "age": age,
            "plan": plan,
            "income": income,
            "spend": spend,
            "region": region,
            "signup": signup,
            "active": active,
            "segment": segment,
        }
    )


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return draw(2000, 1)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return draw(2000, 2)


@pytest.fixture(scope="module")
def fresh() -> pd.DataFrame:
    """An independent draw from the same generator: what an ideal synthesizer produces."""
    return draw(2000, 3)


@pytest.fixture(scope="module")
def copied(train, holdout):
    return evaluate_privacy(train, train.copy(), holdout, sensitive="segment")


@pytest.fixture(scope="module")
def independent(train, holdout, fresh):
    return evaluate_privacy(train, fresh, holdout, sensitive="segment")


def value(result, key: str) -> float:
    v = result.metric(key).value
    assert v is not None, result.metric(key).note
    return float(v)


# --- distances -----------------------------------------------------------------------------


def test_embedding_weighs_a_category_mismatch_like_one_robust_spread(train):
    emb = MixedEmbedding().fit(train, NUMERIC, CATEGORICAL)
    a = train.iloc[[0]].copy()
    b = a.copy()
    b["plan"] = "team" if a["plan"].iloc[0] != "team" else "pro"
    c = a.copy()
    c["age"] = a["age"] + emb.scale_["age"]
    ea, eb, ec = emb.transform(a), emb.transform(b), emb.transform(c)
    assert np.sum((ea - eb) ** 2) == pytest.approx(1.0)
    assert np.sum((ea - ec) ** 2) == pytest.approx(1.0)
    # missing vs present: the indicator adds 1 on top of the imputed difference
    d = a.copy()
    d["income"] = np.nan
    z = (a["income"].iloc[0] - emb.center_["income"]) / emb.scale_["income"]
    assert np.sum((ea - emb.transform(d)) ** 2) == pytest.approx(1.0 + z**2)


def test_embedding_scale_is_iqr_based_with_std_fallback():
    df = pd.DataFrame({"x": [0.0] * 90 + list(range(1, 11)), "y": np.arange(100.0)})
    emb = MixedEmbedding().fit(df, ["x", "y"], [])
    assert emb.scale_["x"] == pytest.approx(np.std(df["x"]))  # IQR is 0
    q25, q75 = np.quantile(df["y"], [0.25, 0.75])
    assert emb.scale_["y"] == pytest.approx((q75 - q25) / 1.349)


def test_unseen_and_rare_categories_share_the_other_column():
    df = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"]})
    emb = MixedEmbedding(top=2).fit(df, [], ["c"])
    e = emb.transform(pd.DataFrame({"c": ["c", "zzz", "a"]}))
    assert np.array_equal(e[0], e[1])
    assert not np.array_equal(e[0], e[2])


def test_nearest_neighbors_match_brute_force():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(700, 6))
    q = np.vstack([rng.normal(size=(300, 6)), ref[:50]])
    d, i = nearest_neighbors(q, ref, k=3)
    full = np.sqrt(((q[:, None, :] - ref[None, :, :]) ** 2).sum(-1))
    expect = np.sort(full, axis=1)[:, :3]
    np.testing.assert_allclose(d, expect, rtol=1e-10, atol=1e-12)
    assert (d[300:, 0] == 0).all()  # copies at exactly 0, not float32 rounding noise
    assert (i[300:, 0] == np.arange(50)).all()


def test_row_hashes_normalise_types_but_keep_values_apart():
    a = pd.DataFrame({"n": [1, 2, np.nan], "c": ["x", True, None]})
    b = pd.DataFrame({"n": [1.0, 2.0, None], "c": ["x", "True", np.nan]})
    assert np.array_equal(row_hashes(a, ["n"], ["c"]), row_hashes(b, ["n"], ["c"]))
    c = pd.DataFrame({"n": [1.0, 2.000001, 0.0], "c": ["x", "True", "(missing)x"]})
    assert not np.isin(row_hashes(c, ["n"], ["c"])[1:], row_hashes(a, ["n"], ["c"])).any()


# --- sanity properties -----------------------------------------------------------------------


def test_train_as_synthetic_is_flagged_as_copying(copied):
    assert value(copied, "exact_copy_rate") == 1.0
    assert value(copied, "dcr_share") > 0.95
    assert value(copied, "dcr_share_adjusted") > 0.95
    assert value(copied, "mia_auc") > 0.95
    assert value(copied, "dcr_median_ratio") == 0.0
    assert value(copied, "nndr") == 0.0
    statuses = {m.key: m.status for m in copied.metrics}
    assert statuses["exact_copy_rate"] == statuses["dcr_share"] == statuses["mia_auc"] == "fail"
    gate = privacy_gate(copied)
    assert isinstance(gate, GateDecision) and not gate.passed
    assert len(gate.reasons) == 3
    copy_reason = gate.reasons[0]
    assert copy_reason.startswith("exact-copy rate 1.0000 >")
    assert "copying" in copy_reason and "2,000 synthetic rows" in copy_reason
    assert any(r.startswith("DCR share") and "memorising" in r for r in gate.reasons)
    assert any("membership-inference AUC" in r for r in gate.reasons)


def test_independent_draw_passes(independent):
    assert value(independent, "exact_copy_rate") == 0.0
    assert value(independent, "dcr_share") == pytest.approx(0.5, abs=0.04)
    assert value(independent, "dcr_share_adjusted") == pytest.approx(0.5, abs=0.04)
    assert value(independent, "mia_auc") == pytest.approx(0.5, abs=0.04)
    assert value(independent, "dcr_median_ratio") == pytest.approx(1.0, abs=0.1)
    nndr = independent.metric("nndr")
    assert nndr.value == pytest.approx(nndr.reference, abs=0.05)
    gate = privacy_gate(independent)
    assert gate.passed, gate.reasons
    assert gate.reasons == []
    assert all(m.status == "pass" for m in independent.metrics if m.threshold is not None)


def test_noisy_copies_are_caught_without_exact_copies(train, holdout):
    rng = np.random.default_rng(5)
    noisy = train.copy()
    for c in ["age", "income", "spend"]:
        noisy[c] = noisy[c] + rng.normal(0, 0.02 * noisy[c].std(), len(noisy))
    res = evaluate_privacy(train, noisy, holdout)
    assert value(res, "exact_copy_rate") == 0.0
    assert value(res, "dcr_share") > 0.9
    assert value(res, "mia_auc") > 0.9
    assert value(res, "dcr_median_ratio") < 0.2
    gate = privacy_gate(res)
    assert not gate.passed
    assert any(r.startswith("DCR share") for r in gate.reasons)
    assert not any(r.startswith("exact-copy") for r in gate.reasons)


def test_dcr_share_is_diluted_when_train_is_larger_than_holdout(train):
    """Train is subsampled to the holdout's size: a full copy scores ~0.5 + 0.5 * n_h / n_t."""
    small = draw(500, 2)
    res = evaluate_privacy(train, train, small)
    assert value(res, "dcr_share") == pytest.approx(0.5 + 0.5 * 500 / 2000, abs=0.04)
    assert value(res, "dcr_share_adjusted") > 0.95  # the undiluted figure sees the copy
    assert res.metric("dcr_share").status == "fail"  # 0.625 > 0.55 still fails


def test_row_and_column_order_do_not_matter(train, holdout, fresh):
    kw = {"sensitive": "segment", "max_rows": 600, "random_state": 3}  # forces subsampling
    base = evaluate_privacy(train, fresh, holdout, **kw)

    def shuffle(df: pd.DataFrame, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        cols = list(rng.permutation(df.columns))
        return df.iloc[rng.permutation(len(df))][cols].reset_index(drop=True)

    other = evaluate_privacy(shuffle(train, 1), shuffle(fresh, 2), shuffle(holdout, 3), **kw)
    for m in base.metrics:
        assert other.metric(m.key).value == pytest.approx(m.value, rel=1e-9, abs=1e-12), m.key
    pd.testing.assert_frame_equal(
        base.tables["attribute_inference"], other.tables["attribute_inference"]
    )


def test_same_random_state_same_result_and_sample_sizes_reported(train, holdout, fresh):
    a = evaluate_privacy(train, fresh, holdout, max_rows=500)
    b = evaluate_privacy(train, fresh, holdout, max_rows=500)
    assert [m.value for m in a.metrics] == [m.value for m in b.metrics]
    sizes = a.extra["sample_sizes"]
    assert sizes["dcr_share_queries"] == 500
    assert sizes["attack_members"] == sizes["attack_non_members"] == 250
    assert sizes["dcr_train_reference"] == 2000  # 4 * max_rows caps the reference set
    assert "500 synthetic rows" in a.metric("dcr_share").note


# --- exact copies against the holdout baseline ------------------------------------------------


def test_exact_copies_are_judged_against_the_holdout_baseline():
    """Coarse data where real rows coincide by chance: a fair draw matches the holdout rate."""

    def coarse(n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        return pd.DataFrame(
            {"a": rng.choice(["x", "y"], n), "b": rng.integers(0, 3, n), "c": rng.random(n) < 0.5}
        )

    train, holdout, fresh = coarse(2000, 1), coarse(1000, 2), coarse(2000, 3)
    res = evaluate_privacy(train, fresh, holdout)
    m = res.metric("exact_copy_rate")
    assert m.reference == 1.0  # every holdout row equals some train row: 12 possible rows
    assert m.value == 1.0
    assert m.status == "pass"  # not beyond what real data shows
    assert privacy_gate(res).passed


def test_copies_beyond_the_baseline_fail_and_thresholds_can_allow_them(train, holdout, fresh):
    leaky = pd.concat([fresh.iloc[:1900], train.iloc[:100]], ignore_index=True)
    res = evaluate_privacy(train, leaky, holdout)
    m = res.metric("exact_copy_rate")
    assert m.value == pytest.approx(0.05)
    assert m.reference == 0.0
    assert m.status == "fail"
    assert m.note.startswith("100 of 2,000 synthetic rows")
    lenient = GateThresholds(max_exact_copy_rate=0.1)
    assert privacy_gate(res, lenient).passed
    again = evaluate_privacy(train, leaky, holdout, thresholds=lenient)
    assert again.metric("exact_copy_rate").status == "pass"


# --- attribute inference ---------------------------------------------------------------------


def test_attribute_inference_copying_gives_members_an_advantage(copied, independent):
    adv_copy = value(copied, "attribute_inference_advantage")
    adv_fair = value(independent, "attribute_inference_advantage")
    assert adv_copy > 0.2
    assert abs(adv_fair) < 0.05
    table = copied.tables["attribute_inference"]
    assert list(table.index) == [1, 2, 3, 4, 5]
    assert table.loc[1, "members"] == 1.0  # the nearest synthetic row is the member itself
    assert copied.extra["attribute_inference"]["kind"] == "categorical"


def test_attribute_inference_on_a_numeric_column(train, holdout, fresh):
    res_copy = evaluate_privacy(train, train, holdout, sensitive="spend")
    res_fair = evaluate_privacy(train, fresh, holdout, sensitive="spend")
    assert res_copy.extra["attribute_inference"]["kind"] == "numeric"
    assert res_copy.tables["attribute_inference"].loc[1, "members"] == pytest.approx(0.0)
    assert value(res_copy, "attribute_inference_advantage") > 0.5
    assert abs(value(res_fair, "attribute_inference_advantage")) < 0.1


# --- thresholds, results, bad input ----------------------------------------------------------


def test_thresholds_round_trip_and_validate():
    th = GateThresholds(max_exact_copy_rate=0.01, max_dcr_share=0.6, max_mia_auc=0.55)
    assert GateThresholds.from_dict(th.to_dict()) == th
    with pytest.raises(DataError, match="max_dcr_share"):
        GateThresholds(max_dcr_share=1.5)
    with pytest.raises(DataError, match="unknown privacy thresholds"):
        GateThresholds.from_dict({"max_dcr": 0.5})
    with pytest.raises(AttributeError):
        th.max_mia_auc = 0.9  # type: ignore[misc]


def test_result_serialises(independent):
    d = independent.to_dict()
    assert d["name"] == "privacy"
    keys = [m["key"] for m in d["metrics"]]
    assert keys[:3] == ["exact_copy_rate", "dcr_share", "dcr_share_adjusted"]
    hist = d["extra"]["distance_to_closest_train_row"]
    assert set(hist) == {"edges", "synthetic", "holdout"}  # what the report's renderer plots
    assert len(hist["edges"]) == len(hist["synthetic"]) + 1 == len(hist["holdout"]) + 1
    assert sum(hist["synthetic"]) == pytest.approx(1.0)
    assert sum(hist["holdout"]) == pytest.approx(1.0)
    assert privacy_gate(independent).to_dict()["thresholds"]["max_dcr_share"] == 0.55


def test_missing_sensitive_column_is_named(train, holdout, fresh):
    with pytest.raises(DataError, match="'salary'"):
        evaluate_privacy(train, fresh, holdout, sensitive="salary")


def test_empty_synthetic_is_refused(train, holdout):
    with pytest.raises(DataError, match="synthetic data has no rows"):
        evaluate_privacy(train, train.iloc[:0], holdout)


def test_missing_holdout_and_bad_max_rows_are_refused(train, fresh):
    with pytest.raises(DataError, match="holdout"):
        evaluate_privacy(train, fresh, None)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="max_rows"):
        evaluate_privacy(train, fresh, train, max_rows=1)


def test_gate_fails_on_a_result_without_privacy_figures():
    from synthcust.evaluation.results import SectionResult

    gate = privacy_gate(SectionResult("privacy"))
    assert not gate.passed
    assert len(gate.reasons) == 3 and "evaluate_privacy" in gate.reasons[0]
