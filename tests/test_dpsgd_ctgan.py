"""DP-SGD for CTGAN (the critic, opacus): accounting, clipping, own-row conditions, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
opacus = pytest.importorskip("opacus", reason="DP-SGD needs opacus (the 'deep' extra)")

from opacus.optimizers import DPOptimizer  # noqa: E402

from synthcust.exceptions import ModelError  # noqa: E402
from synthcust.synthesizers.base import BaseSynthesizer  # noqa: E402
from synthcust.synthesizers.ctgan import CTGANSynthesizer, RowSampler  # noqa: E402

SMALL = {"embedding_dim": 8, "generator_dim": (32,), "discriminator_dim": (32,), "batch_size": 200}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 1000
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round().clip(18, 90),
            "spend": rng.lognormal(3, 0.5, n).round(2),
            "plan": rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            "active": rng.random(n) < 0.4,
        }
    )


def fit(df: pd.DataFrame, **kw) -> CTGANSynthesizer:
    params = {**SMALL, "epochs": 3, "dp_epsilon": 3.0, "random_state": 0, **kw}
    return CTGANSynthesizer(**params).fit(df)


def test_private_fit_samples_and_records_the_spend(table, tmp_path):
    m = fit(table)
    p = m.privacy_
    assert 0 < p["epsilon"] <= 3.0 and p["epsilon_target"] == 3.0 and p["delta"] == 1e-9
    assert p["steps"] == p["steps_planned"] == 15 and p["sample_rate"] == pytest.approx(0.2)
    assert "critic" in p["covered"] and m.pac_ == 1  # one row per critic input under DP
    assert any("category frequencies" in s for s in p["not_covered"])
    assert any("mode-specific transform" in s for s in p["not_covered"])
    out = m.sample(300)
    assert list(out.columns) == list(table.columns) and len(out) == 300
    assert set(out["plan"]) <= {"basic", "pro", "team"}
    assert set(m.sample(50, conditions={"plan": "team"})["plan"]) == {"team"}
    back = BaseSynthesizer.load(m.save(tmp_path / "dp.synth"))
    assert back.privacy_ == p and back.get_params()["dp_epsilon"] == 3.0
    pd.testing.assert_frame_equal(back.sample(50, random_state=1), m.sample(50, random_state=1))


def test_every_critic_row_gradient_is_clipped(table, monkeypatch):
    """Opacus sees one gradient per critic input row (real and generated, pac = 1), each
    clipped to max_grad_norm before the sum the noise is added to."""
    bound = 0.01
    seen: list[tuple[int, float, float]] = []
    original = DPOptimizer.clip_and_accumulate

    def checked(self):
        gs = [g.reshape(g.shape[0], -1) for g in self.grad_samples]
        norms = torch.cat(gs, 1).norm(dim=1)
        original(self)
        summed = torch.cat([p.summed_grad.reshape(-1) for p in self.params]).norm()
        seen.append((len(norms), float((norms > bound).float().mean()), float(summed)))

    monkeypatch.setattr(DPOptimizer, "clip_and_accumulate", checked)
    m = fit(table, max_grad_norm=bound, epochs=1)
    assert len(seen) == m.privacy_["steps"] == 5
    for rows, above, summed in seen:
        assert rows >= m.batch_  # the Poisson batch of real rows + B generated rows
        assert above > 0.5 and summed <= bound * rows + 1e-6


def test_real_rows_carry_their_own_condition(table):
    """No training-by-sampling under DP: a real row is shown with its own category."""
    m = CTGANSynthesizer(**SMALL, epochs=1, random_state=0).fit(table)
    enc = m.codec_.encode(table)
    s = RowSampler(enc.codes, m.transformer_)
    rows = np.arange(len(table))
    f = s.own_conditions(rows, m.cat_offset_, np.random.default_rng(0))
    col = s.col_of[f]
    assert set(col) == set(range(s.n_disc))  # columns drawn at random
    assert np.array_equal(f - m.cat_offset_[col], s.slots[rows, col])


def test_seeded_runs_repeat_only_without_secure_noise(table):
    a, b = fit(table, epochs=1, secure_noise=False), fit(table, epochs=1, secure_noise=False)
    pd.testing.assert_frame_equal(a.sample(100), b.sample(100))
    assert "NOT private" in a.privacy_["noise"]
    d, e = fit(table, epochs=1), fit(table, epochs=1)
    assert d.privacy_["secure_noise"] and not d.sample(100).equals(e.sample(100))


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"dp_epsilon": 0.0}, "dp_epsilon must be a positive"),
        ({"dp_epsilon": 1000.0}, "above 100"),
        ({"dp_delta": 1e-2}, "not below 1/n"),
        ({"dp_accountant": "gdp"}, "dp_accountant must be"),
    ],
)
def test_bad_privacy_parameters(table, kw, match):
    m = CTGANSynthesizer(**{**SMALL, "epochs": 1, "dp_epsilon": 2.0, **kw})
    with pytest.raises(ModelError, match=match):
        m.fit(table)
    assert not hasattr(m, "transformer_")  # refused before anything was fitted on the rows
