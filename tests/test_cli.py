"""The command line as a user meets it: outputs, exit codes and one-line errors."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import typer

from _cli import run
from synthcust.demo.world import DEMO_UNIQUE_PII_COLUMNS, simulate_customers


@pytest.fixture(scope="module")
def customers_csv(tmp_path_factory):
    p = tmp_path_factory.mktemp("data") / "customers.csv"
    simulate_customers(1500, random_state=3).to_csv(p, index=False)
    return p


def test_help_for_every_command(capsys, monkeypatch):
    for cmd in ("schema", "fit", "sample", "demo", "evaluate", "ledger", "constraints"):
        code, out, _ = run([cmd, "--help"], capsys, monkeypatch)
        assert code == 0 and "Usage" in out, cmd


def test_schema_command(customers_csv, tmp_path, capsys, monkeypatch):
    out_json = tmp_path / "schema.json"
    code, out, _ = run(
        ["schema", customers_csv, "-o", out_json, "--target", "churned"], capsys, monkeypatch
    )
    assert code == 0
    assert "email" in out and "person_name" in out
    d = json.loads(out_json.read_text())
    cols = {c["name"]: c for c in d["columns"]}
    assert cols["email"]["pii"] == "email"
    assert cols["churned"]["role"] == "target"
    code, out, _ = run(["schema", customers_csv, "--check", out_json], capsys, monkeypatch)
    assert code == 0 and "ok" in out


def test_fit_sample_reproducible_and_pii_free(customers_csv, tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.synthcust"
    segs = tmp_path / "segments.json"
    segs.write_text(
        json.dumps({"bargain_frequent": "discount_share > 0.3 and orders_per_year >= 6"})
    )
    code, out, err = run(
        ["fit", customers_csv, "-o", model, "--segments", segs], capsys, monkeypatch
    )
    assert code == 0, err
    assert "PII found and handled" in out
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for dest in (a, b):
        code, _, err = run(
            ["sample", model, "-n", 300, "-o", dest, "--seed", 11], capsys, monkeypatch
        )
        assert code == 0, err
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    real = pd.read_csv(customers_csv)
    text = a.read_text()
    for col in DEMO_UNIQUE_PII_COLUMNS:
        assert col not in pd.read_csv(a).columns
        assert not any(v in text for v in real[col].astype(str)), col
    seg_out = tmp_path / "seg.parquet"
    code, _, err = run(
        [
            "sample",
            model,
            "-n",
            200,
            "-o",
            seg_out,
            "--segment",
            "bargain_frequent",
            "--condition",
            "region=north|south",
            "--seed",
            1,
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    s = pd.read_parquet(seg_out)
    assert (s.discount_share > 0.3).all() and (s.orders_per_year >= 6).all()
    assert set(s.region) <= {"north", "south"}


@pytest.mark.parametrize(
    "args, expected",
    [
        (["sample", "{model}", "-n", 0, "-o", "{tmp}/x.csv"], "positive"),
        (
            ["sample", "{model}", "-n", 5, "-o", "{tmp}/x.csv", "--condition", "region=mars"],
            "'region' has no value 'mars'",
        ),
        (
            ["sample", "{model}", "-n", 5, "-o", "{tmp}/x.csv", "--segment", "nope"],
            "unknown segment 'nope'",
        ),
        (["sample", "{tmp}/corrupt.synthcust", "-n", 5, "-o", "{tmp}/x.csv"], "corrupt"),
        (["fit", "{tmp}/empty.csv", "-o", "{tmp}/m2.synthcust"], "empty"),
        (
            ["fit", "{data}", "-o", "{tmp}/m3.synthcust", "--segment", "none=age > 200"],
            "matches no customer",
        ),
        (["fit", "{data}", "-o", "{tmp}/m4.synthcust", "--pii", "email=generalise"], "email"),
    ],
)
def test_errors_are_one_line(args, expected, customers_csv, tmp_path, capsys, monkeypatch):
    model = tmp_path / "model.synthcust"
    run(["fit", customers_csv, "-o", model], capsys, monkeypatch)
    (tmp_path / "corrupt.synthcust").write_bytes(b"PK\x03\x04garbage")
    (tmp_path / "empty.csv").write_bytes(b"")
    args = [str(a).format(model=model, tmp=tmp_path, data=customers_csv) for a in args]
    code, out, err = run(args, capsys, monkeypatch)
    assert code != 0
    assert expected in " ".join(err.split()), err
    assert "Traceback" not in err + out
    assert err.strip().startswith("error")


def test_demo_command(tmp_path, capsys, monkeypatch):
    code, _, err = run(["demo", "--out", tmp_path / "demo", "--rows", 800], capsys, monkeypatch)
    assert code == 0, err
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["planted_pii_values_found_in_outputs"] == 0
    assert summary["kl_max"] < 0.12
    synth = pd.read_csv(tmp_path / "demo" / "synthetic_customers.csv")
    assert len(synth) == 800
    assert not {"email", "phone", "full_name", "street_address"} & set(synth.columns)


def test_schema_check_exits_1_on_errors(customers_csv, tmp_path, capsys, monkeypatch):
    """A failed check must reach the shell as exit code 1 (not only as red text)."""
    schema_json = tmp_path / "s.json"
    code, _, _ = run(["schema", customers_csv, "-o", schema_json], capsys, monkeypatch)
    assert code == 0
    d = json.loads(schema_json.read_text())
    # declare a text column numeric: every value is then an error
    for c in d["columns"]:
        if c["kind"] == "categorical":
            c["kind"] = "numeric"
            break
    schema_json.write_text(json.dumps(d))
    code, out, _ = run(["schema", customers_csv, "--check", schema_json], capsys, monkeypatch)
    assert code == 1, out


def test_fit_with_constraints_from_the_command_line(customers_csv, tmp_path, capsys, monkeypatch):
    """--constraint rules reach the model through PII handling; sampled rows obey them."""
    model, dest = tmp_path / "m.synthcust", tmp_path / "s.csv"
    rules = ["total_spend_12m >= orders_per_year", "if loyalty_tier == 'gold' then age >= 18"]
    args = ["fit", customers_csv, "-o", model, "--synthesizer", "copula"]
    for r in rules:
        args += ["--constraint", r]
    code, out, err = run(args, capsys, monkeypatch)
    assert code == 0, out + err
    code, out, err = run(["sample", model, "-n", 400, "-o", dest], capsys, monkeypatch)
    assert code == 0, out + err
    df = pd.read_csv(dest)
    assert len(df) == 400 and (df.total_spend_12m >= df.orders_per_year).all()
    code, out, err = run(
        ["fit", customers_csv, "-o", model, "--constraint", "total_spend_12m >= ordrs_per_year"],
        capsys,
        monkeypatch,
    )
    assert code == 1 and "did you mean 'orders_per_year'" in err


def test_fit_with_differential_privacy_charges_the_ledger(tmp_path, capsys, monkeypatch):
    """--dp-epsilon: refused without bounds (nothing charged), then charged once per fit; a
    fit beyond the budget is refused with what is left; sampling costs nothing."""
    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "plan": rng.choice(["basic", "pro"], n),
            "spend": rng.gamma(2.0, 30.0, n).round(2),
        }
    )
    data, ws = tmp_path / "d.csv", tmp_path / "ws"
    ws.mkdir()
    df.to_csv(data, index=False)
    model = tmp_path / "m.synthcust"
    base = ["fit", data, "-o", model, "--workspace", ws, "--dp-epsilon", 4]
    code, out, err = run(base, capsys, monkeypatch)
    assert code == 1 and "public bounds" in err and "'age'" in err
    code, out, err = run(["ledger", data, "--workspace", ws], capsys, monkeypatch)
    assert "nothing has been charged" in " ".join(out.split()), out
    bounds = ["--bound", "age=18..90", "--bound", "spend=0..1000"]
    code, out, err = run(base + bounds, capsys, monkeypatch)
    assert code == 0, out + err
    assert "budget left 6 of 10" in out
    sample = ["sample", model, "-n", 500, "-o", tmp_path / "s.csv"]
    code, out, err = run(sample, capsys, monkeypatch)
    assert code == 0 and len(pd.read_csv(tmp_path / "s.csv")) == 500
    code, out, err = run(base + bounds, capsys, monkeypatch)
    assert code == 0 and "budget left 2 of 10" in out
    code, out, err = run(base + bounds, capsys, monkeypatch)  # 4 > 2 left
    assert code == 1 and "budget" in err and "2" in err
    code, out, err = run(
        ["fit", data, "-o", model, "--dp-epsilon", 1, "--synthesizer", "copula"],
        capsys,
        monkeypatch,
    )
    assert code == 1 and "dp_marginal" in err


def test_fit_tvae_with_dp_sgd_is_charged_and_says_what_is_not_covered(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("opacus")
    rng = np.random.default_rng(1)
    n = 600
    df = pd.DataFrame({"x": rng.normal(size=n).round(3), "g": rng.choice(["a", "b"], n)})
    data, ws, model = tmp_path / "d.csv", tmp_path / "ws", tmp_path / "m.synthcust"
    ws.mkdir()
    df.to_csv(data, index=False)
    args = ["fit", data, "-o", model, "--workspace", ws, "--synthesizer", "tvae",
            "--param", "epochs=3", "--param", "batch_size=200"]  # fmt: skip
    code, out, err = run([*args, "--dp-epsilon", 0], capsys, monkeypatch)
    assert code == 1 and "dp_epsilon must be a positive number" in err
    assert not (ws / "workspace.db").exists()  # refused before anything was charged
    code, out, err = run([*args, "--dp-epsilon", 3], capsys, monkeypatch)
    assert code == 0, out + err
    assert "budget left 7 of 10" in out and "not covered by the guarantee" in out
    ar = ["fit", data, "-o", model, "--workspace", ws, "--synthesizer", "autoregressive",
          "--param", "epochs=2", "--dp-epsilon", 2]  # fmt: skip
    code, out, err = run(ar, capsys, monkeypatch)
    assert code == 0, out + err
    assert "budget left 5 of 10" in out and "tokenisation" in out.lower()
    gan = ["fit", data, "-o", model, "--workspace", ws, "--synthesizer", "ctgan",
           "--param", "epochs=2", "--param", "batch_size=200", "--dp-epsilon", 1]  # fmt: skip
    code, out, err = run(gan, capsys, monkeypatch)
    assert code == 0, out + err
    assert "budget left 4 of 10" in out and "category frequencies" in out


def test_sample_on_dask_is_partitioned_and_repeatable(tmp_path, capsys, monkeypatch):
    """sample --dask writes Parquet partitions; the same seed gives the same rows whatever the
    scheduler; flags the partitioned path cannot honour are refused, not ignored."""
    pytest.importorskip("distributed", reason="--dask needs the 'scale' extra")
    data, model = tmp_path / "c.csv", tmp_path / "m.synthcust"
    simulate_customers(400, random_state=0).to_csv(data, index=False)
    assert run(["fit", data, "-o", model, "--synthesizer", "copula"], capsys, monkeypatch)[0] == 0
    outs = []
    for i, sched in enumerate(["sync", "sync"]):
        out = tmp_path / f"out{i}.parquet"
        args = ["sample", model, "-n", 5000, "-o", out, "--dask", sched,
                "--partition-rows", 2000, "--seed", 4]  # fmt: skip
        code, text, err = run(args, capsys, monkeypatch)
        assert code == 0, text + err
        assert "3 Parquet" in " ".join(text.split())
        outs.append(pd.read_parquet(out))
    assert len(outs[0]) == 5000 and outs[0].equals(outs[1])
    code, text, err = run(["sample", model, "-n", 10, "-o", tmp_path / "x.parquet", "--dask",
                           "sync", "--where", "age < 30"], capsys, monkeypatch)  # fmt: skip
    assert code == 1 and "--where is not supported with --dask" in err


#: every top-level command before the CLI became one sub-app per command group
COMMANDS = {
    "schema", "fit", "sample", "evaluate", "demo", "ledger", "privacy-curve", "constraints",
    "scenario", "validate-behaviour", "choice", "abtest", "funnel", "diversity", "journeys",
    "attribution", "interview", "augment-text", "rebalance", "augment-study", "personas",
    "relational", "serve",
}  # fmt: skip


def test_top_level_commands_keep_their_names_and_each_has_help(capsys, monkeypatch):
    from synthcust.cli import app

    names = {c.name for c in typer.main.get_command(app).commands.values()}
    assert COMMANDS | {"split"} <= names, COMMANDS - names
    for name in sorted(COMMANDS | {"split"}):
        code, out, err = run([name, "--help"], capsys, monkeypatch)
        assert code == 0 and "Usage" in out, (name, err)
