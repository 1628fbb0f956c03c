"""DP-SGD for the autoregressive synthesizer (opacus): per-row gradients of the masked layers,
accounting, seeding, bad input, and the non-private path left as it was."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
opacus = pytest.importorskip("opacus", reason="DP-SGD needs opacus (the 'deep' extra)")

from synthcust.exceptions import ModelError  # noqa: E402
from synthcust.synthesizers.autoregressive import AutoregressiveSynthesizer  # noqa: E402
from synthcust.synthesizers.base import BaseSynthesizer  # noqa: E402
from synthcust.synthesizers.neural.made import (  # noqa: E402
    build_net,
    order_rank,
    register_masked_grad_sampler,
)

SMALL = {"embedding_dim": 4, "hidden": 24, "batch_size": 100}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round().clip(18, 90),
            "spend": rng.lognormal(3, 0.5, n).round(2),
            "plan": rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            "active": rng.random(n) < 0.4,
        }
    )


def fit(df: pd.DataFrame, **kw) -> AutoregressiveSynthesizer:
    params = {**SMALL, "epochs": 2, "dp_epsilon": 3.0, "random_state": 0, **kw}
    return AutoregressiveSynthesizer(**params).fit(df)


def test_private_fit_samples_and_records_the_spend(table, tmp_path):
    m = fit(table)
    p = m.privacy_
    assert 0 < p["epsilon"] <= 3.0 and p["epsilon_target"] == 3.0
    assert p["delta"] == 1e-9 and p["max_grad_norm"] == 1.0 and p["noise_multiplier"] > 0
    assert p["sample_rate"] == pytest.approx(0.25)
    # every planned epoch runs: no validation split, no early stopping on private rows
    assert p["steps"] == p["steps_planned"] == 8 and p["epochs"] == 2
    assert m.training_log_.stopped == "epochs" and m.training_log_.val_loss == []
    assert any("tokenisation" in s for s in p["not_covered"])
    assert any("codec" in s for s in p["not_covered"])
    out = m.sample(200)
    assert list(out.columns) == list(table.columns) and len(out) == 200
    assert set(out["plan"]) <= {"basic", "pro", "team"}
    cond = m.sample(50, conditions={"plan": "team"})
    assert (cond["plan"] == "team").all()
    back = BaseSynthesizer.load(m.save(tmp_path / "dp.synth"))
    assert back.privacy_ == p and back.get_params()["dp_epsilon"] == 3.0
    pd.testing.assert_frame_equal(back.sample(50, random_state=1), m.sample(50, random_state=1))


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("flex", [False, True])
def test_masked_layers_per_sample_gradients_are_each_rows_own(flex):
    """opacus' per-sample gradients of every weight (embeddings, masked linears, subset
    indicator) equal per-row autograd, in the default order and a "subset first" one."""
    from opacus import GradSampleModule

    register_masked_grad_sampler(torch)
    n_tokens = [3, 5, 2, 4]
    m = len(n_tokens)
    torch.manual_seed(0)
    net = build_net(torch, n_tokens, 3, 12, 3)
    with torch.no_grad():
        net.direct.weight.normal_()  # built as zeros: make its gradient path non-trivial
    tok = torch.stack([torch.randint(0, k, (7,)) for k in n_tokens], 1)
    first = torch.tensor([False, False, True, True]) if flex else torch.zeros(m, dtype=bool)
    rank = order_rank(torch, first)

    def loss_rows(tok):
        logits = net(tok, rank, first.float().expand(len(tok), m))
        return sum(
            torch.nn.functional.cross_entropy(logits[:, a:b], tok[:, c], reduction="none")
            for c, (a, b) in enumerate(net.out_slices)
        )

    params = dict(net.named_parameters())
    per_row = {k: [] for k in params}
    for i in range(len(tok)):
        net.zero_grad()
        loss_rows(tok[i : i + 1]).sum().backward()
        for k, p in params.items():
            per_row[k].append(p.grad.clone())
    net.zero_grad()
    gsm = GradSampleModule(net, loss_reduction="sum")
    loss_rows(tok).sum().backward()
    for k, p in params.items():
        expected = torch.stack(per_row[k])
        torch.testing.assert_close(p.grad_sample, expected, rtol=1e-4, atol=1e-6, msg=k)
    # the masks hold: a row's gradient never reaches a masked-out weight
    m_in = net.masks(rank)[0]
    assert (net.inp.weight.grad_sample * (1 - m_in)).abs().max() == 0
    gsm.cleanup()


def test_seeded_runs_repeat_only_without_secure_noise(table):
    a, b = fit(table, epochs=1, secure_noise=False), fit(table, epochs=1, secure_noise=False)
    c = fit(table, epochs=1, random_state=1, secure_noise=False)
    wa, wb, wc = (s.net_.state_dict()["inp.weight"] for s in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    pd.testing.assert_frame_equal(a.sample(100), b.sample(100))
    assert "NOT private" in a.privacy_["noise"] and not a.privacy_["secure_noise"]
    d, e = fit(table, epochs=1), fit(table, epochs=1)
    assert d.privacy_["secure_noise"] and "entropy" in d.privacy_["noise"]
    assert not torch.equal(d.net_.state_dict()["inp.weight"], e.net_.state_dict()["inp.weight"])


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"dp_epsilon": 0.0}, "dp_epsilon must be a positive"),
        ({"dp_epsilon": math.nan}, "dp_epsilon must be a positive"),
        ({"dp_epsilon": True}, "dp_epsilon must be a positive"),
        ({"dp_epsilon": 1000.0}, "above 100"),
        ({"dp_delta": 1e-2}, "not below 1/n"),
        ({"max_grad_norm": -1.0}, "max_grad_norm must be"),
        ({"dp_accountant": "gdp"}, "dp_accountant must be"),
        ({"dp_epsilon": 1e-6, "epochs": 50}, "no noise level"),
    ],
)
def test_bad_privacy_parameters(table, kw, match):
    m = AutoregressiveSynthesizer(**{**SMALL, "epochs": 1, "dp_epsilon": 2.0, **kw})
    with pytest.raises(ModelError, match=match):
        m.fit(table)
    if "no noise level" not in match:  # refused before the tokenisation saw the rows
        assert not hasattr(m, "tokens_")


def test_non_private_fit_has_no_privacy_record(table):
    m = fit(table, epochs=1)
    assert hasattr(m, "privacy_")
    m.dp_epsilon = None
    m.fit(table)  # a refit without DP drops the record of the private fit
    assert not hasattr(m, "privacy_") and m.get_params()["dp_epsilon"] is None
    assert m.training_log_.val_loss  # the non-private path still validates
