"""Conditional samples follow the model's own conditional distribution (issue 19, item 1).

The autoregressive model samples under conditions by importance resampling a pool drawn in a
"conditions first" order. The rows it returns must be distributed like the model's
unconditional rows filtered to the same conditions. The table is built so that the proposal
and the target disagree strongly: ``k < 5`` happens mostly in group ``b`` (whose ``y`` rate is
0.8), while the proposal picks the group before it sees ``k``. Drawing ``n`` distinct rows from
a pool of ``2 n`` (the old code) gave a ``y`` rate near 0.57 where the filtered rows give 0.68.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from synthcust.exceptions import ConditionError
from synthcust.rules.segments import Segment
from synthcust.synthesizers import Range
from synthcust.synthesizers.autoregressive import (
    AutoregressiveSynthesizer,
    ConditionWarning,
)
from synthcust.synthesizers.neural.resample import WeightedReservoir, ess_verdict

N_COND = 2_000  # conditional rows per seed
SEEDS = 3


def _table(n: int = 3_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    grp = rng.choice(["a", "b", "c", "r"], n, p=[0.495, 0.3, 0.2, 0.005])
    k = np.where(
        grp == "b",
        rng.integers(0, 6, n),
        np.where(grp == "r", rng.integers(40, 50, n), rng.integers(0, 30, n)),
    )
    x = np.where(
        grp == "a",
        rng.uniform(0, 50, n),
        np.where(grp == "b", rng.uniform(50, 100, n), rng.uniform(0, 100, n)),
    )
    y = np.where(rng.random(n) < np.where(grp == "b", 0.8, 0.1), "yes", "no")
    return pd.DataFrame({"grp": grp, "k": k, "x": np.round(x, 2), "y": y})


@pytest.fixture(scope="module")
def fitted() -> tuple[AutoregressiveSynthesizer, pd.DataFrame]:
    model = AutoregressiveSynthesizer(
        epochs=20, hidden=64, threads=1, random_state=0, verbose=False
    )
    model.fit(_table())
    return model, model.sample(60_000, random_state=1)


def _agree(model, uncond, conditions, mask) -> None:
    """The conditional ``y`` rate equals the filtered one within 4 standard errors."""
    parts, ess = [], []
    for s in range(SEEDS):
        parts.append(model.sample(N_COND, conditions=conditions, random_state=10 + s))
        ess.append(model.last_condition_ess_)
    cond = pd.concat(parts)
    assert mask(cond).all(), "a conditional row violates its condition"
    ref = uncond[mask(uncond)]
    assert len(ref) > 1_000
    p_c, p_f = (cond["y"] == "yes").mean(), (ref["y"] == "yes").mean()
    p = (p_c * len(cond) + p_f * len(ref)) / (len(cond) + len(ref))
    # resampling adds the pool's own noise: var ~ p(1-p) (1/n + 1/ESS) per seed
    var_c = sum(p * (1 - p) * (1 / N_COND + 1 / e) for e in ess) / SEEDS**2
    z = (p_c - p_f) / math.sqrt(var_c + p * (1 - p) / len(ref))
    assert abs(z) < 4, f"conditional rate {p_c:.3f} vs filtered {p_f:.3f} (z = {z:.1f})"


def test_where_rule_matches_filtered_sample(fitted) -> None:
    model, uncond = fitted
    conds = Segment.parse("w", "(grp == 'a' or grp == 'b') and k < 5 and x > 20").conditions
    _agree(model, uncond, conds, lambda d: d.grp.isin(["a", "b"]) & (d.k < 5) & (d.x > 20))


def test_equality_matches_filtered_sample(fitted) -> None:
    model, uncond = fitted
    conds = {"k": 2, "grp": ["a", "b"]}
    _agree(model, uncond, conds, lambda d: (d.k == 2) & d.grp.isin(["a", "b"]))


def test_range_matches_filtered_sample(fitted) -> None:
    model, uncond = fitted
    _agree(model, uncond, {"x": Range(40, 60)}, lambda d: (d.x >= 40) & (d.x <= 60))


def test_thin_pool_warns_with_the_ess(fitted) -> None:
    model, _ = fitted
    # group r is 0.5% of the rows and the only one with k >= 40: the proposal picks the group
    # before k, so nearly every proposed row is an improbable "a" row; on a small pool budget
    # the effective sample size stays below n
    model.condition_max_pool_factor = 4
    try:
        with pytest.warns(ConditionWarning, match=r"effective sample size of only [\d,.]+ rows"):
            out = model.sample(N_COND, conditions={"grp": ["a", "r"], "k": Range(40, None)},
                               random_state=0)  # fmt: skip
    finally:
        del model.condition_max_pool_factor
    assert model.last_condition_ess_ < N_COND
    assert out["grp"].isin(["a", "r"]).all() and (out["k"] >= 40).all()


def test_easy_condition_does_not_warn(fitted) -> None:
    model, _ = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditionWarning)
        model.sample(500, conditions={"x": Range(10, 90), "y": "yes"}, random_state=0)
    assert model.last_condition_ess_ >= model.condition_ess_factor * 500


def test_tiny_ess_is_refused() -> None:
    with pytest.raises(ConditionError, match=r"effective sample size of 3\.0 rows for 1,000"):
        ess_verdict(3.0, 1_000, "grp=r")


def test_reservoir_resamples_with_replacement_in_proportion() -> None:
    rng = np.random.default_rng(0)
    res = WeightedReservoir(20_000, rng)
    out = np.empty(20_000, dtype=np.int64)
    w = np.array([1.0, 0.0, 3.0, 6.0])
    for chunk in range(3):  # three chunks of the same rows: shares must not depend on chunking
        with np.errstate(divide="ignore"):
            slots, rows = res.add(np.log(w))
        out[slots] = rows + 10 * chunk
    share = np.bincount(out % 10, minlength=4) / len(out)
    np.testing.assert_allclose(share, w / w.sum(), atol=0.015)
    assert math.isclose(res.ess, 3 * 10.0**2 / 46.0)
