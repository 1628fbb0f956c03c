"""The evaluation report: orchestration, gate, HTML/JSON output and the CLI command."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from synthcust.evaluation.evaluate import evaluate
from synthcust.reporting import render_html, scorecard_table, write_report


def _world(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = np.where(x + rng.normal(scale=0.7, size=n) > 0, "a", "b")
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x + (g == "a"))))).astype(int)
    amount = np.where(rng.random(n) < 0.3, 0.0, np.exp(rng.normal(3 + 0.5 * x, 0.4)))
    return pd.DataFrame({"x": x, "g": g, "amount": amount, "y": np.where(y == 1, "yes", "no")})


@pytest.fixture(scope="module")
def frames():
    return _world(3000, 0), _world(3000, 1), _world(800, 2)


def test_independent_real_draw_passes(frames, tmp_path):
    train, synth, hold = frames
    rep = evaluate(train, synth, hold, target="y")
    assert set(rep.sections) == {"validity", "fidelity", "detection", "utility", "privacy"}
    assert rep.gate is not None and rep.gate.passed, rep.gate.reasons
    keys = [m.key for m in rep.scorecard()]
    assert {"accuracy", "detection_auc", "tstr_auc", "dcr_share", "mia_auc"} <= set(keys)
    html_path, json_path = write_report(rep, tmp_path / "report.html")
    page = html_path.read_text()
    # one distribution per column (numeric ones too), heatmap, drivers, privacy
    assert page.count("<svg") >= train.shape[1] + 3
    assert "What gives the synthetic data away" in page
    assert "real-train quantile bins" in page  # numeric columns are plotted
    assert "http://" not in page.replace("http://www.w3.org", "")  # self-contained
    assert "https://" not in page
    data = json.loads(json_path.read_text())
    assert data["gate"]["passed"] is True
    assert {m["key"] for m in data["scorecard"]} == set(keys)


def test_copy_of_train_fails_the_gate(frames):
    train, _, hold = frames
    rep = evaluate(train, train.copy(), hold, target="y")
    assert not rep.gate.passed
    assert any("cop" in r.lower() for r in rep.gate.reasons)
    fid = rep.sections["fidelity"]
    assert fid.metric("kl_max").value == 0.0
    assert fid.metric("shapes").value == pytest.approx(1.0)
    assert fid.metric("pairs").value == pytest.approx(1.0)
    # accuracy compares a holdout-sized cut of the copy: sampling noise like the ceiling's
    acc = fid.metric("accuracy")
    assert acc.value >= acc.reference - 0.02


def test_without_holdout_only_fidelity_and_it_says_so(frames):
    train, synth, _ = frames
    rep = evaluate(train, synth)
    assert list(rep.sections) == ["validity", "fidelity"]
    assert any("holdout" in s for s in rep.all_skipped())
    assert "skipped" in render_html(rep)
    scorecard_table(rep)  # renders without a gate


def test_cli_evaluate_and_gated_sample(frames, tmp_path, capsys, monkeypatch):
    from synthcust import api, cli

    train, synth, hold = frames
    for name, df in (("train", train), ("synth", synth), ("hold", hold)):
        df.to_csv(tmp_path / f"{name}.csv", index=False)

    def run(*args):
        monkeypatch.setattr(sys, "argv", ["synthcust", *map(str, args)])
        try:
            cli.main()
            code = 0
        except SystemExit as e:
            code = e.code or 0
        return code, *capsys.readouterr()

    out = tmp_path / "r.html"
    code, stdout, err = run(
        "evaluate",
        tmp_path / "train.csv",
        tmp_path / "synth.csv",
        "--holdout",
        tmp_path / "hold.csv",
        "--target",
        "y",
        "-o",
        out,
    )
    assert code == 0, err
    assert out.exists() and out.with_suffix(".json").exists()
    assert "Detection AUC" in stdout or "detection" in stdout.lower()
    api.fit(train, random_state=0).save(tmp_path / "m.synthcust")
    ok = tmp_path / "ok.csv"
    code, stdout, err = run(
        "sample",
        tmp_path / "m.synthcust",
        "-n",
        2000,
        "-o",
        ok,
        "--gate",
        "--real",
        tmp_path / "train.csv",
        "--holdout",
        tmp_path / "hold.csv",
    )
    assert code == 0, err
    assert ok.exists() and "gate passed" in stdout
    strict = tmp_path / "strict.csv"
    code, stdout, err = run(
        "sample",
        tmp_path / "m.synthcust",
        "-n",
        2000,
        "-o",
        strict,
        "--gate",
        "--real",
        tmp_path / "train.csv",
        "--holdout",
        tmp_path / "hold.csv",
        "--max-mia-auc",
        "0.0",
    )
    assert code == 1 and not strict.exists()
    assert "privacy gate failed" in err
    code, _, err = run("sample", tmp_path / "m.synthcust", "-n", 5, "-o", strict, "--gate")
    assert code == 1 and "--real" in err
