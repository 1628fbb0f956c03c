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
from synthcust.synthesizers.truncnorm import sample_conditional_mvn

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
    # rules off: the importance resampling itself is under test (with the discovered rule
    # "grp == 'b' implies k in 0..5", conditions on k are checked after the repair instead)
    model.fit(_table(), rules="off")
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


# ------------------------------------------------------------------ every synthesizer
def _other_model(name: str):
    from synthcust.synthesizers import REGISTRY

    kw: dict = {"random_state": 0}
    if name in ("ctgan", "tvae"):
        kw.update(epochs=8)
    if name == "dp_marginal":
        kw.update(epsilon=50.0, bounds={"k": (0, 50), "x": (0, 100)})
    return REGISTRY[name](**kw)


@pytest.fixture(scope="module", params=["copula", "ctgan", "tvae", "dp_marginal"])
def other(request):
    # the synthesizer's own conditioning, without the discovered rules' repair (see
    # test_conditions_on_an_implied_column_after_rule_repair for that)
    model = _other_model(request.param).fit(_table(), rules="off")
    return model, model.sample(100_000, random_state=1)


def _agree_plain(model, uncond, conditions, mask, n: int = 10_000) -> None:
    """The conditional ``y`` rate equals the filtered one within 4 standard errors (rows are
    independent draws here: rejection, exact sampling or a truncated Gaussian)."""
    cond = model.sample(n, conditions=conditions, random_state=7)
    assert mask(cond).all(), "a conditional row violates its condition"
    ref = uncond[mask(uncond)]
    assert len(ref) > 300, f"only {len(ref)} filtered rows"
    p_c, p_f = (cond["y"] == "yes").mean(), (ref["y"] == "yes").mean()
    p = (p_c * len(cond) + p_f * len(ref)) / (len(cond) + len(ref))
    z = (p_c - p_f) / math.sqrt(p * (1 - p) * (1 / len(cond) + 1 / len(ref)))
    assert abs(z) < 4, f"conditional rate {p_c:.3f} vs filtered {p_f:.3f} (z = {z:.1f})"


def test_every_synthesizer_where_rule_matches_filtered(other) -> None:
    model, uncond = other
    rule = "grp == 'b' and x > 60"
    conds = Segment.parse("w", rule).conditions
    _agree_plain(model, uncond, conds, lambda d: (d.grp == "b") & (d.x > 60))


def test_every_synthesizer_mixed_conditions_match_filtered(other) -> None:
    model, uncond = other
    conds = {"grp": ["a", "b"], "k": Range(0, 4)}
    _agree_plain(model, uncond, conds, lambda d: d.grp.isin(["a", "b"]) & d.k.between(0, 4))


def test_conditions_on_an_implied_column_after_rule_repair() -> None:
    """With the data's rules enforced (``rules="auto"``: here ``grp == 'b'`` implies
    ``k in 0..5``), the conditional sample must still equal the filtered one. The implied
    column is overwritten after sampling, so a condition on it is checked on the repaired rows;
    given to the model instead, the rows repaired into the range were missing (y rate 0.53
    where the filtered rows give 0.59, z = -12)."""
    model = _other_model("copula").fit(_table())
    uncond = model.sample(100_000, random_state=1)
    _agree_plain(model, uncond, {"k": Range(0, 4)}, lambda d: d.k.between(0, 4))


def _planted(n: int = 20_000) -> pd.DataFrame:
    """Two categoricals and a binary target with known conditionals: P(y | b) = 0.1, 0.5, 0.9
    for b = 0, 1, 2, and b depends on a (so conditioning on b must not keep a's marginal)."""
    rng = np.random.default_rng(3)
    a = rng.choice(["p", "q", "r"], n, p=[0.6, 0.3, 0.1])
    pb = {"p": [0.8, 0.15, 0.05], "q": [0.2, 0.6, 0.2], "r": [0.05, 0.15, 0.8]}
    u = rng.random(n)
    cum = np.array([np.cumsum(pb[v]) for v in a])
    b = (u[:, None] > cum).sum(1)
    y = np.where(rng.random(n) < np.array([0.1, 0.5, 0.9])[b], "yes", "no")
    return pd.DataFrame({"a": a, "b": b.astype(str), "y": y})


def test_planted_conditional_rates_are_the_analytic_ones() -> None:
    """Given b (placed late in the order), y's rate is 0.1 / 0.5 / 0.9 and a's share of "r" is
    P(a=r | b=2) = 0.1 * 0.8 / (0.6 * 0.05 + 0.3 * 0.2 + 0.1 * 0.8) = 0.08 / 0.17 = 0.47
    (a's marginal share is 0.1)."""
    model = AutoregressiveSynthesizer(epochs=15, hidden=32, threads=1, random_state=0,
                                      verbose=False).fit(_planted())  # fmt: skip
    for b, rate in (("0", 0.1), ("1", 0.5), ("2", 0.9)):
        out = model.sample(3_000, conditions={"b": b}, random_state=int(b))
        assert (out["b"] == b).all()
        assert abs((out["y"] == "yes").mean() - rate) < 0.04, (b, (out["y"] == "yes").mean())
    out = model.sample(3_000, conditions={"b": "2"}, random_state=5)
    assert abs((out["a"] == "r").mean() - 0.08 / 0.17) < 0.04


def test_where_and_conditions_together_through_the_workflow() -> None:
    """``sample --where`` plus ``--condition`` reach the model as one set of exact conditions."""
    from synthcust.synthesizers import GaussianCopulaSynthesizer
    from synthcust.synthesizers.fitted import SynthModel
    from synthcust.workflows.sample import sample

    df = _table()
    m = GaussianCopulaSynthesizer(random_state=0).fit(df)
    sm = SynthModel(synthesizer=m, schema=None, pii=None, column_order=list(df.columns))
    out = sample(sm, 500, conditions=["x=20..80"], where="grp in ['a', 'b'] and k < 5",
                 random_state=0)  # fmt: skip
    assert len(out) == 500
    assert out.grp.isin(["a", "b"]).all() and (out.k < 5).all() and out.x.between(20, 80).all()


def test_truncated_normal_on_separated_intervals_is_exact() -> None:
    """The copula's latent draw given a set of categories far apart (a union of separated
    intervals) and a correlated range: Gibbs sweeps from a GHK start (the former method) stay
    in the interval they start in and give P(z0 > 0) = 0.57 where rejection from the
    unconditional normal gives 0.88; GHK proposals with exact rejection match."""
    corr = np.array([[1, 0.9, 0.5], [0.9, 1, 0.5], [0.5, 0.5, 1.0]])
    inf = np.inf
    cond = {0: np.array([[-inf, -1.0], [1.5, inf]]), 1: np.array([[-0.5, inf]])}
    z = np.random.default_rng(0).multivariate_normal(np.zeros(3), corr, 1_000_000)
    ref = z[((z[:, 0] <= -1) | (z[:, 0] >= 1.5)) & (z[:, 1] >= -0.5)]
    s = sample_conditional_mvn(corr, 100_000, cond, np.random.default_rng(1))
    assert (((s[:, 0] <= -1) | (s[:, 0] >= 1.5)) & (s[:, 1] >= -0.5)).all()
    for stat in (lambda a: (a[:, 0] > 0).mean(), lambda a: (a[:, 2] > 1).mean()):
        p_r, p_s = stat(ref), stat(s)
        se = math.sqrt(p_r * (1 - p_r) * (1 / len(ref) + 1 / len(s)))
        assert abs(p_s - p_r) < 4 * se, (p_s, p_r)


def test_repairs_of_a_conditional_sample_take_unconditional_donors() -> None:
    """A rule with several allowed values is repaired from donor rows; were the donors the
    conditional batch itself, the repaired values would follow the condition (here 0.96 instead
    of 0.85), not the model's rows filtered to it."""
    from synthcust.synthesizers import REGISTRY

    rng = np.random.default_rng(0)
    n = 6000
    a = rng.choice(["p", "q"], n)
    b = np.where(a == "p", rng.choice([1, 2], n), rng.integers(1, 6, n))
    df = pd.DataFrame({"A": a, "B": b.astype(str), "C": b * 10 + rng.normal(0, 8, n)})
    m = REGISTRY["copula"](random_state=0).fit(df)
    assert m.rules_, "the planted rule is discovered"
    cond = m.sample(8_000, conditions={"C": Range(35, None)}, random_state=1)
    uncond = m.sample(200_000, random_state=2)
    filt = uncond[uncond["C"] >= 35]

    def share(d: pd.DataFrame) -> float:
        return float((d.loc[d["A"] == "p", "B"] == "2").mean())

    assert abs(share(cond) - share(filt)) < 0.04, (share(cond), share(filt))
