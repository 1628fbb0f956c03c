"""Issue 20, item 7: a DP model names its ledger charge; seeded DP noise is refused unless asked."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from synthcust.cli import app
from synthcust.demo.world import simulate_customers
from synthcust.exceptions import SynthcustError
from synthcust.store import Workspace
from synthcust.synthesizers.fitted import load_model
from synthcust.workflows.fit import fit
from synthcust.workflows.privacy import check_model_charge

BOUNDS = {"age": (18, 90)}


@pytest.fixture(scope="module")
def data():
    return simulate_customers(400, random_state=0, with_pii=False)[["age", "region", "churned"]]


def test_seeded_dp_noise_is_refused_unless_asked(tmp_path, data) -> None:
    ws = tmp_path / "ws.db"
    with pytest.raises(SynthcustError, match=r"NOT be private.*--insecure-test-noise"):
        fit(data, dp_epsilon=1.0, bounds=BOUNDS, workspace=ws,
            synthesizer_params={"secure_noise": False})  # fmt: skip
    assert not ws.exists() or Workspace(ws).ledger() == []  # nothing charged
    said: list[str] = []
    res = fit(data, dp_epsilon=1.0, bounds=BOUNDS, workspace=ws, random_state=0,
              synthesizer_params={"secure_noise": False}, insecure_test_noise=True,
              progress=said.append)  # fmt: skip
    assert any("NOT private" in m for m in said)
    assert res.model.synthesizer.get_params()["secure_noise"] is False


def test_a_dp_model_file_names_its_charge_and_checks_against_the_ledger(tmp_path, data) -> None:
    ws_path, out = tmp_path / "ws.db", tmp_path / "dp.synthcust"
    res = fit(data, dp_epsilon=0.5, bounds=BOUNDS, workspace=ws_path, save_to=out)
    model = load_model(out)
    rec = model.ledger_charge
    assert rec is not None and rec["epsilon"] == 0.5 and rec["fingerprint"] == res.dp.fingerprint
    with Workspace(ws_path) as ws:
        assert ws.ledger()[-1].id == rec["charge_id"]
        check = check_model_charge(model, ws)
        assert check.ok, check.findings
    with Workspace(tmp_path / "other.db") as other:  # a ledger that never saw the fit
        check = check_model_charge(model, other)
        assert not check.ok and "is not in the ledger" in check.findings[0]
    con = sqlite3.connect(ws_path, isolation_level=None)
    con.execute("UPDATE privacy_ledger SET status = 'failed' WHERE id = ?", (rec["charge_id"],))
    con.close()
    with Workspace(ws_path) as ws:
        check = check_model_charge(model, ws)
        assert not check.ok and any("marked failed" in f for f in check.findings)
    args = ["ledger", "--check-model", str(out), "--workspace", str(ws_path)]
    said = " ".join(CliRunner().invoke(app, args).output.split())
    assert "does NOT check out" in said and "marked failed" in said


def test_a_non_dp_model_carries_no_charge(tmp_path, data) -> None:
    res = fit(data, synthesizer="copula", save_to=tmp_path / "m.synthcust")
    assert res.model.ledger_charge is None
    assert load_model(tmp_path / "m.synthcust").ledger_charge is None
