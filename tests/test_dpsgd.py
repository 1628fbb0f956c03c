"""DP-SGD for TVAE (opacus): accounting, per-sample clipping, seeding, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
opacus = pytest.importorskip("opacus", reason="DP-SGD needs opacus (the 'deep' extra)")

from opacus.optimizers import DPOptimizer  # noqa: E402

from synthcust.exceptions import ModelError  # noqa: E402
from synthcust.synthesizers.base import BaseSynthesizer  # noqa: E402
from synthcust.synthesizers.neural.dpsgd import sigma_layer_class  # noqa: E402
from synthcust.synthesizers.tvae import TVAESynthesizer  # noqa: E402

SMALL = {"embedding_dim": 8, "compress_dims": (32,), "decompress_dims": (32,), "batch_size": 200}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 1000
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round().clip(18, 90),
            "spend": rng.lognormal(3, 0.5, n).round(2),
            "plan": plan,
            "active": rng.random(n) < 0.4,
        }
    )


def fit(df: pd.DataFrame, **kw) -> TVAESynthesizer:
    params = {**SMALL, "epochs": 3, "dp_epsilon": 3.0, "random_state": 0, **kw}
    return TVAESynthesizer(**params).fit(df)


def test_private_fit_samples_and_records_the_spend(table, tmp_path):
    m = fit(table)
    p = m.privacy_
    assert 0 < p["epsilon"] <= 3.0 and p["epsilon_target"] == 3.0
    assert p["delta"] == 1e-9 and p["max_grad_norm"] == 1.0
    assert p["mechanism"].startswith("DP-SGD (opacus") and "rdp" in p["mechanism"]
    assert p["noise_multiplier"] > 0 and p["sample_rate"] == pytest.approx(0.2)
    assert p["steps"] == p["steps_planned"] == 15 and p["epochs"] == 3
    # what the guarantee does not cover is said, not hidden
    assert any("mode-specific transform" in s for s in p["not_covered"])
    assert m.precision_ == "float32" and m.training_log_.stopped == "epochs"
    out = m.sample(300)
    assert list(out.columns) == list(table.columns) and len(out) == 300
    assert set(out["plan"]) <= {"basic", "pro", "team"}
    # the record and the decoder survive a save / load; the file format is the non-DP one
    back = BaseSynthesizer.load(m.save(tmp_path / "dp.synth"))
    assert back.privacy_ == p and back.get_params()["dp_epsilon"] == 3.0
    pd.testing.assert_frame_equal(back.sample(50, random_state=1), m.sample(50, random_state=1))
    plain = TVAESynthesizer(**SMALL, epochs=1, random_state=0).fit(table)
    assert list(plain.decoder_.state_dict()) == list(m.decoder_.state_dict())


def test_prv_accountant(table):
    m = fit(table, dp_accountant="prv", epochs=2)
    assert 0 < m.privacy_["epsilon"] <= 3.0 and m.privacy_["accountant"] == "prv"


def test_more_privacy_means_more_noise(table):
    loose, tight = fit(table, dp_epsilon=8.0, epochs=1), fit(table, dp_epsilon=0.5, epochs=1)
    assert tight.privacy_["noise_multiplier"] > loose.privacy_["noise_multiplier"]


def test_every_row_gradient_is_clipped(table, monkeypatch):
    """The summed gradient opacus adds noise to is the sum of per-row gradients each scaled
    to norm <= max_grad_norm; with a small bound, clipping is active on most rows."""
    bound = 0.05
    seen: list[tuple[np.ndarray, float]] = []
    original = DPOptimizer.clip_and_accumulate

    def checked(self):
        gs = [g.reshape(g.shape[0], -1) for g in self.grad_samples]
        norms = torch.cat(gs, 1).norm(dim=1)
        factor = (self.max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
        expected = [torch.einsum("i,i...->...", factor, g) for g in self.grad_samples]
        original(self)
        for p, e in zip(self.params, expected, strict=True):
            torch.testing.assert_close(p.summed_grad, e, rtol=1e-4, atol=1e-6)
        summed = torch.cat([p.summed_grad.reshape(-1) for p in self.params]).norm()
        seen.append((norms.detach().numpy(), float(summed)))

    monkeypatch.setattr(DPOptimizer, "clip_and_accumulate", checked)
    m = fit(table, max_grad_norm=bound, epochs=1)
    assert m.privacy_["max_grad_norm"] == bound and len(seen) == 5
    for norms, summed in seen:
        assert (norms > bound).mean() > 0.5  # per-row gradients are far above the bound...
        assert summed <= bound * len(norms) + 1e-6  # ...and their clipped sum is within it


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_sigma_layer_per_sample_gradients_are_each_rows_own():
    """The learned deviations get opacus per-sample gradients equal to per-row autograd."""
    from opacus import GradSampleModule

    S = sigma_layer_class()
    torch.manual_seed(0)
    net = torch.nn.ModuleDict({"lin": torch.nn.Linear(3, 2), "s": S(2)})
    x = torch.randn(6, 3)

    def loss_rows(x):
        s = net["s"](x)
        err = x[:, :2] - torch.tanh(net["lin"](x))
        return (err * err / (2 * s * s) + torch.log(s)).sum(1)

    per_row = []
    for i in range(len(x)):
        net.zero_grad()
        loss_rows(x[i : i + 1]).sum().backward()
        per_row.append(net["s"].sigma.grad.clone())
    gsm = GradSampleModule(net, loss_reduction="sum")
    loss_rows(x).sum().backward()
    torch.testing.assert_close(net["s"].sigma.grad_sample, torch.stack(per_row))
    gsm.cleanup()


def test_seeded_runs_repeat_only_without_secure_noise(table):
    a, b = fit(table, epochs=1, secure_noise=False), fit(table, epochs=1, secure_noise=False)
    c = fit(table, epochs=1, random_state=1, secure_noise=False)
    wa, wb, wc = (m.decoder_.state_dict()["0.weight"] for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    pd.testing.assert_frame_equal(a.sample(100), b.sample(100))
    assert "NOT private" in a.privacy_["noise"] and not a.privacy_["secure_noise"]
    # by default the noise and the batches come from fresh entropy: the same seed differs
    d, e = fit(table, epochs=1), fit(table, epochs=1)
    assert d.privacy_["secure_noise"] and "entropy" in d.privacy_["noise"]
    assert not torch.equal(d.decoder_.state_dict()["0.weight"], e.decoder_.state_dict()["0.weight"])


def test_time_budget_stops_early_and_reports_the_steps_run(table):
    m = fit(table, max_training_time=1e-6, epochs=20)
    p = m.privacy_
    assert m.training_log_.stopped == "time_budget"
    assert p["steps"] == 1 < p["steps_planned"] == 100
    assert 0 < p["epsilon"] < p["epsilon_target"] / 2


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"dp_epsilon": 0.0}, "dp_epsilon must be a positive"),
        ({"dp_epsilon": -1.0}, "dp_epsilon must be a positive"),
        ({"dp_epsilon": math.nan}, "dp_epsilon must be a positive"),
        ({"dp_epsilon": True}, "dp_epsilon must be a positive"),
        ({"dp_epsilon": 1000.0}, "above 100"),
        ({"dp_delta": 1e-3}, "not below 1/n"),
        ({"dp_delta": 0.0}, "dp_delta must be"),
        ({"max_grad_norm": 0.0}, "max_grad_norm must be"),
        ({"dp_accountant": "gdp"}, "dp_accountant must be"),
        ({"dp_epsilon": 1e-6, "epochs": 50}, "no noise level"),
    ],
)
def test_bad_privacy_parameters(table, kw, match):
    m = TVAESynthesizer(**{**SMALL, "epochs": 1, "dp_epsilon": 2.0, **kw})
    with pytest.raises(ModelError, match=match):
        m.fit(table)
    if "no noise level" not in match:  # refused before anything was fitted on the rows
        assert not hasattr(m, "transformer_")


def test_non_private_fit_has_no_privacy_record(table):
    m = TVAESynthesizer(**SMALL, epochs=1, random_state=0).fit(table)
    assert not hasattr(m, "privacy_") and m.get_params()["dp_epsilon"] is None
    # a refit without DP drops the record of an earlier private fit
    m.dp_epsilon = 2.0
    assert hasattr(m.fit(table), "privacy_")
    m.dp_epsilon = None
    m.fit(table)
    assert not hasattr(m, "privacy_")
