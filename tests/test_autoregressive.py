"""AutoregressiveSynthesizer specifics (the shared checks in test_synthesizers.py run on it too)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from synthcust.exceptions import ConditionError, ModelError  # noqa: E402
from synthcust.synthesizers import AutoregressiveSynthesizer, Range  # noqa: E402
from synthcust.synthesizers.neural.made import order_rank  # noqa: E402
from synthcust.synthesizers.neural.tokens import ColumnTokens  # noqa: E402

FAST = {"epochs": 30, "hidden": 128, "patience": 4, "random_state": 0}


# ----------------------------------------------------------------------------- tokens
def test_numeric_tokens_keep_spikes_small_domains_and_missing():
    rng = np.random.default_rng(0)
    v = np.where(rng.random(5000) < 0.3, 0.0, rng.lognormal(3, 1, 5000))
    v[:200] = np.nan
    t = ColumnTokens.fit_numeric("spend", v, integer=False, max_bins=32)
    assert 0.0 in t.spikes and t.has_missing and t.n_bins <= 32
    tok = t.encode(v)
    back = t.decode(tok, rng.random(len(v)))
    assert np.isnan(back[:200]).all()
    assert ((back == 0) == (v == 0)).all()  # the spike is exact
    ok = ~np.isnan(v) & (v != 0)
    # within a bin a value stays inside the bin's real range
    lo = t.knots[tok[ok] - t.n_spikes, 0]
    hi = t.knots[tok[ok] - t.n_spikes, -1]
    assert ((back[ok] >= lo - 1e-9) & (back[ok] <= hi + 1e-9)).all()
    # the within-bin model reproduces the distribution: quantiles agree
    q = np.linspace(0.05, 0.95, 19)
    assert np.allclose(np.quantile(back[ok], q), np.quantile(v[ok], q), rtol=0.05)

    ages = rng.integers(18, 60, 1000).astype(float)
    ta = ColumnTokens.fit_numeric("age", ages, integer=True, max_bins=64)
    assert ta.n_bins == 0 and ta.n_spikes == len(np.unique(ages))  # small domain: exact
    assert (ta.decode(ta.encode(ages), None) == ages).all()


def test_allowed_weights_and_range_decoding():
    rng = np.random.default_rng(1)
    v = rng.normal(size=20_000)
    t = ColumnTokens.fit_numeric("x", v, integer=False, max_bins=16)
    w = t.allowed(low=-0.5, high=0.25)
    # token weights x token frequencies = the real share inside the range (within-bin model)
    freq = np.bincount(t.encode(v), minlength=t.n_tokens) / len(v)
    assert float((w * freq).sum()) == pytest.approx(((v >= -0.5) & (v <= 0.25)).mean(), abs=0.01)
    tok = np.flatnonzero(w > 0).repeat(200)
    vals = t.decode(tok, rng.random(len(tok)), -0.5, 0.25)
    assert vals.min() >= -0.5 and vals.max() <= 0.25
    cats = ColumnTokens.fit_categorical("c", np.array([0, 1, 2, -1]), 3)
    assert cats.n_tokens == 4 and list(cats.allowed(codes=[2])) == [0, 0, 1, 0]


# ----------------------------------------------------------------------------- network
def test_incremental_sampling_equals_a_full_forward_pass():
    rng = np.random.default_rng(0)
    n = 800
    df = pd.DataFrame(
        {
            "a": rng.choice(list("xyz"), n),
            "b": rng.normal(size=n),
            "c": rng.integers(0, 5, n),
            "d": rng.choice(list("pq"), n),
        }
    )
    for layers in (1, 2, 3):
        m = AutoregressiveSynthesizer(epochs=2, hidden=32, layers=layers, random_state=0).fit(df)
        for allowed in ({}, {2: np.array([0, 1, 1, 0, 0.0])}, {3: np.ones(2), 1: None}):
            allowed = {k: (v if v is not None else np.ones(m.tokens_[k].n_tokens))
                       for k, v in allowed.items()}  # fmt: skip
            trace: dict = {}
            tok, _ = m._generate(torch, 7, allowed, torch.Generator().manual_seed(0), trace)
            first = torch.zeros(4, dtype=torch.bool)
            for c in allowed:
                first[c] = True
            with torch.no_grad():
                full = m.net_(torch.as_tensor(tok), order_rank(torch, first),
                              first.float().expand(7, 4))  # fmt: skip
            for c, (a, b) in enumerate(m.net_.out_slices):
                assert torch.allclose(full[:, a:b], trace[c], atol=1e-5), (layers, c)


def _dependent_frame(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seg = rng.choice(["student", "family", "retired"], n, p=[0.3, 0.5, 0.2])
    age = np.select(
        [seg == "student", seg == "family"],
        [rng.integers(18, 28, n), rng.integers(28, 60, n)],
        rng.integers(60, 90, n),
    )
    spend = np.where(rng.random(n) < 0.25, 0.0, rng.gamma(2, 20, n) * (1 + (seg == "family")))
    big = spend > 60
    return pd.DataFrame({"segment": seg, "age": age, "spend": spend, "big": big})  # fmt: skip


def test_learns_dependence_and_conditions_on_a_late_column():
    df = _dependent_frame()
    m = AutoregressiveSynthesizer(**FAST).fit(df)
    out = m.sample(4000, random_state=1)
    means = out.groupby("segment").age.mean()
    assert means["student"] < 30 < means["family"] < 60 < means["retired"]
    assert abs((out.spend == 0).mean() - (df.spend == 0).mean()) < 0.03
    # "big" is the last column: conditioning on it puts it first (flexible order)
    big = m.sample(2000, conditions={"big": True}, random_state=2)
    assert big.big.all()
    assert (big.spend > 60).mean() > 0.9  # the rows behind the condition follow it
    real_share = df[df.big].segment.value_counts(normalize=True)
    got = big.segment.value_counts(normalize=True).reindex(real_share.index, fill_value=0)
    assert (got - real_share).abs().max() < 0.1


def test_several_conditions_hold_exactly():
    df = _dependent_frame()
    m = AutoregressiveSynthesizer(**FAST).fit(df)
    out = m.sample(
        500, conditions={"segment": ["family", "retired"], "spend": Range(10, 50)}, random_state=3
    )
    assert set(out.segment) <= {"family", "retired"}
    assert out.spend.between(10, 50).all()
    with pytest.raises(ConditionError):
        m.sample(10, conditions={"segment": "astronaut"})


def test_rebalance_sets_the_shares_and_keeps_the_conditionals():
    df = _dependent_frame()
    m = AutoregressiveSynthesizer(**FAST).fit(df)
    out = m.rebalance(3000, "segment", {"student": 1, "family": 1, "retired": 1}, random_state=0)
    assert len(out) == 3000
    assert out.segment.value_counts().to_dict() == {
        "student": 1000,
        "family": 1000,
        "retired": 1000,
    }
    # the conditionals follow the real ones (retired are 60+, students under 28), up to the
    # small smoothing error of a briefly trained model
    assert (out[out.segment == "retired"].age >= 60).mean() > 0.95
    assert (out[out.segment == "student"].age < 28).mean() > 0.95
    with pytest.raises(ConditionError):
        m.rebalance(10, "segment", {"student": -1})


def test_high_cardinality_uses_embeddings_not_one_hot():
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame({"city": [f"c{v}" for v in rng.integers(0, 800, n)], "x": rng.normal(size=n)})
    m = AutoregressiveSynthesizer(epochs=2, hidden=32, embedding_dim=8, random_state=0).fit(df)
    cards = [t.n_tokens for t in m.tokens_]
    # the input is one 8-wide embedding per column, whatever the number of categories
    assert m.net_.inp.in_features == 2 * 8
    assert m.net_.emb.num_embeddings == sum(cards) and max(cards) > 700
    out = m.sample(500, random_state=0)
    assert out.city.str.startswith("c").all()


def test_time_budget_bad_settings_and_tiny_tables():
    df = _dependent_frame(3000)
    m = AutoregressiveSynthesizer(epochs=500, patience=None, max_training_time=0.5,
                                  random_state=0).fit(df)  # fmt: skip
    assert m.training_log_.stopped == "time_budget"
    assert m.training_log_.epochs_run < 500
    assert len(m.sample(20)) == 20
    for bad in ({"max_training_time": 0}, {"hidden": 0}, {"flex_share": 1.5}, {"epochs": 0},
                {"batch_size": 1}):  # fmt: skip
        with pytest.raises(ModelError):
            AutoregressiveSynthesizer(**bad).fit(df)
    tiny = pd.DataFrame({"a": ["x", "y", "x"], "b": [1.0, 2.0, 3.0]})  # fewer rows than a batch
    assert len(AutoregressiveSynthesizer(epochs=2, random_state=0).fit(tiny).sample(5)) == 5
    one = pd.DataFrame({"only": np.random.default_rng(0).normal(size=200)})
    assert AutoregressiveSynthesizer(epochs=2, random_state=0).fit(one).sample(10).shape == (10, 1)
    x = np.random.default_rng(1).normal(size=300)
    x[:20], x[20:30] = np.nan, np.inf  # infinities are read as missing
    m = AutoregressiveSynthesizer(epochs=3, random_state=0).fit(pd.DataFrame({"x": x}))
    got = m.sample(3000, random_state=0).x
    assert np.isfinite(got.dropna()).all() and 0.05 < got.isna().mean() < 0.16
    odd = pd.DataFrame({"const": [7] * 100, "lvl": ["a"] * 100, "x": np.arange(100.0)})
    out = AutoregressiveSynthesizer(epochs=2, random_state=0).fit(odd).sample(10)
    assert (out.const == 7).all() and (out.lvl == "a").all()
