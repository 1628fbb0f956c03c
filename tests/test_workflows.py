"""The workflow layer every face shares: the CLI and the library agree on everything."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import synthcust
from _cli import run
from synthcust import api
from synthcust.cli.common import STATE
from synthcust.cli.root import main as cli_main
from synthcust.demo.world import simulate_customers
from synthcust.io import read_table, write_table
from synthcust.store import BudgetError, Workspace, fingerprint_frame
from synthcust.synthesizers.fitted import load_model
from synthcust.workflows.defaults import default_synthesizer

BOUNDS = {"age": (18, 90), "spend": (0, 1000)}


def _dp_frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "plan": rng.choice(["basic", "pro"], n),
            "spend": rng.gamma(2.0, 30.0, n).round(2),
        }
    )


def _entries(ws_path) -> list[tuple]:
    with Workspace(ws_path, create=False) as ws:
        return [
            (e.epsilon, e.delta, e.mechanism, e.synthesizer, e.status, e.model_id is not None)
            for e in ws.ledger()
        ]


def test_library_dp_fit_is_charged_and_refused_over_budget_like_the_cli(
    tmp_path, capsys, monkeypatch
):
    df = _dp_frame()
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    real = read_table(data)  # the frame the CLI fingerprints
    lib_ws, cli_ws = tmp_path / "lib", tmp_path / "cli"
    lib_ws.mkdir()
    cli_ws.mkdir()

    # without bounds: refused before anything is charged (no workspace even created)
    with pytest.raises(synthcust.SynthcustError, match="public bounds"):
        api.fit(real, dp_epsilon=4, workspace=lib_ws, random_state=0)
    assert not (lib_ws / "workspace.db").exists()

    bound_args = [a for c, (lo, hi) in BOUNDS.items() for a in ("--bound", f"{c}={lo}..{hi}")]
    cli = ["fit", data, "-o", tmp_path / "m.synthcust", "--workspace", cli_ws,
           "--dp-epsilon", 4, *bound_args]  # fmt: skip
    for _ in range(2):
        model = api.fit(
            real, dp_epsilon=4, bounds=BOUNDS, workspace=lib_ws, dataset_name=str(data),
            random_state=0, save_to=tmp_path / "lib.synthcust",
        )  # fmt: skip
        assert model.synthesizer.name == "dp_marginal"
        code, out, err = run(cli, capsys, monkeypatch)
        assert code == 0, out + err
    assert "budget left 2 of 10" in out
    with pytest.raises(BudgetError, match="only 2 of 10 is left"):
        api.fit(real, dp_epsilon=4, bounds=BOUNDS, workspace=lib_ws, random_state=0)
    code, out, err = run(cli, capsys, monkeypatch)
    assert code == 1 and "only 2 of 10 is left" in err

    lib, cli_entries = _entries(lib_ws), _entries(cli_ws)
    assert len(lib) == 2 and {e[4] for e in lib} == {"committed"}
    # the model recorded with the charge: the library's saved model has its id, as the CLI's
    assert lib == cli_entries
    with Workspace(lib_ws, create=False) as a, Workspace(cli_ws, create=False) as b:
        fp = fingerprint_frame(real)
        assert a.budget(fp).spent == b.budget(fp).spent == 8
        assert a.dataset(fp).name == b.dataset(fp).name == str(data)


def test_library_dp_fit_without_a_saved_model_is_still_charged(tmp_path):
    df = _dp_frame()
    model = synthcust.fit(df, dp_epsilon=1, bounds=BOUNDS, workspace=tmp_path, random_state=0)
    assert len(model.sample(50, random_state=0)) == 50
    with Workspace(tmp_path, create=False) as ws:
        (entry,) = ws.ledger()
        assert entry.epsilon == 1 and entry.status == "committed"
        assert ws.budget(fingerprint_frame(df)).remaining == 9


def test_cli_and_library_fit_the_same_default_model(tmp_path, capsys, monkeypatch):
    df = simulate_customers(200, random_state=0)
    data = tmp_path / "c.csv"
    df.to_csv(data, index=False)
    params = {"epochs": 1} if default_synthesizer() == "autoregressive" else {}
    extra = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    code, out, err = run(["fit", data, "-o", tmp_path / "m.synthcust", *extra], capsys, monkeypatch)
    assert code == 0, out + err
    from_cli = load_model(tmp_path / "m.synthcust")
    from_lib = api.fit(read_table(data), synthesizer_params=params, random_state=0)
    assert from_cli.synthesizer.name == from_lib.synthesizer.name == api.default_synthesizer()
    assert from_cli.column_order == from_lib.column_order
    assert sorted(from_cli.pii.actions) == sorted(from_lib.pii.actions)


def test_cli_and_library_give_the_same_evaluation_on_the_same_split(
    tmp_path, capsys, monkeypatch
):
    df = simulate_customers(600, random_state=1)
    data = tmp_path / "c.csv"
    df.to_csv(data, index=False)
    tr, ho, syn = tmp_path / "train.csv", tmp_path / "holdout.csv", tmp_path / "syn.csv"
    steps = [
        ["split", data, "--target", "churned", "--out-train", tr, "--out-holdout", ho],
        ["fit", tr, "-o", tmp_path / "m.synthcust", "--synthesizer", "copula",
         "--target", "churned", "--seed", 0],
        ["sample", tmp_path / "m.synthcust", "-n", 480, "-o", syn, "--seed", 0],
        ["evaluate", tr, syn, "--holdout", ho, "--target", "churned", "--seed", 0,
         "-o", tmp_path / "r.html"],
    ]  # fmt: skip
    for args in steps:
        code, out, err = run(args, capsys, monkeypatch)
        assert code == 0, (args, out, err)
    cli = json.loads((tmp_path / "r.json").read_text())

    # the library's split of the same data is the CLI's split
    real = read_table(data)
    train, holdout = api.split(real, target="churned")
    assert list(train["customer_id"]) == list(read_table(tr)["customer_id"])
    assert list(holdout["customer_id"]) == list(read_table(ho)["customer_id"])
    train, holdout = read_table(tr), read_table(ho)
    model = api.fit(train, synthesizer="copula", target="churned", random_state=0)
    synth = api.sample(model, 480, random_state=0)
    write_table(synth, tmp_path / "lib.csv")  # the same rows, written the same way
    assert (tmp_path / "lib.csv").read_bytes() == syn.read_bytes()
    synth = read_table(tmp_path / "lib.csv")
    lib = api.evaluate(train, synth, holdout, target="churned", random_state=0).to_dict()

    def figures(d):
        return {m["key"]: m["value"] for m in d["scorecard"]}

    assert figures(lib) == pytest.approx(figures(cli), rel=1e-9, abs=1e-12)
    assert lib["meta"]["left_out"] == cli["meta"]["left_out"]


def test_evaluate_leaves_id_columns_out(tmp_path, capsys, monkeypatch):
    df = simulate_customers(400, random_state=2)
    train, holdout = api.split(df, target="churned")
    model = api.fit(train, synthesizer="copula", random_state=0)
    synth = model.sample(len(train), random_state=0)
    report = api.evaluate(train, synth, holdout, target="churned")
    assert "customer_id" in report.meta["left_out"]
    assert "customer_id" not in report.meta["columns"]
    fidelity = json.dumps(report.sections["fidelity"].to_dict())
    assert "customer_id" not in fidelity
    # the CLI too, from files
    for name, frame in (("tr", train), ("ho", holdout), ("sy", synth)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    code, out, err = run(
        ["evaluate", tmp_path / "tr.csv", tmp_path / "sy.csv", "--holdout", tmp_path / "ho.csv",
         "-o", tmp_path / "r.html"],
        capsys, monkeypatch,
    )  # fmt: skip
    assert code == 0, out + err
    meta = json.loads((tmp_path / "r.json").read_text())["meta"]
    assert "customer_id" in meta["left_out"] and "customer_id" not in meta["columns"]


def test_split_command_writes_a_stratified_80_20_split(tmp_path, capsys, monkeypatch):
    df = pd.DataFrame({"x": range(1000), "y": ([1] + [0] * 9) * 100})
    df.to_csv(tmp_path / "d.csv", index=False)
    args = ["split", tmp_path / "d.csv", "--target", "y", "--out-train", tmp_path / "a.parquet",
            "--out-holdout", tmp_path / "b.csv"]  # fmt: skip
    code, out, err = run(args, capsys, monkeypatch)
    assert code == 0, err
    a, b = pd.read_parquet(tmp_path / "a.parquet"), pd.read_csv(tmp_path / "b.csv")
    assert (len(a), len(b)) == (800, 200) and (a["y"].sum(), b["y"].sum()) == (80, 20)
    assert sorted([*a["x"], *b["x"]]) == list(range(1000))
    assert "800 train rows" in " ".join(out.split())
    code, out, err = run([*args[:-1], tmp_path / "a.parquet"], capsys, monkeypatch)
    assert code == 1 and "different files" in err


def test_version(capsys, monkeypatch):
    code, out, _ = run(["--version"], capsys, monkeypatch)
    assert code == 0 and out.strip() == f"synthcust {synthcust.__version__}"
    assert synthcust.__version__ != "0+unknown"  # installed: read from the package metadata


def test_import_synthcust_is_cheap_and_names_are_lazy():
    code = (
        "import sys, synthcust; heavy = [m for m in ('pandas', 'torch', 'sklearn') "
        "if m in sys.modules]; print(heavy); print(synthcust.fit.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "synthcust.api"]
    assert synthcust.SynthModel is api.SynthModel and synthcust.load is api.load


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path, capsys, monkeypatch):
    df = pd.DataFrame({"x": range(100), "y": [0, 1] * 50})
    df.to_csv(tmp_path / "d.csv", index=False)
    monkeypatch.delenv("SYNTHCUST_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "argv", ["synthcust", "fit", str(tmp_path / "d.csv"), "-o",
                                      str(tmp_path / "m.synthcust"), "--synthesizer", "copula"])
    STATE["debug"] = False
    with pytest.raises(SystemExit) as e:
        cli_main()
        raise SystemExit(0)
    assert e.value.code in (0, None)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("synthcust: ")]
    assert any("fitting copula on 100 rows" in ln for ln in lines), err
    assert "\x1b[" not in err  # plain lines, no terminal control codes
