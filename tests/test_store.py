"""The workspace store and the privacy ledger: fingerprints, budgets, races and crashes."""

from __future__ import annotations

import math
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _cli import run
from synthcust.cli import common as cli
from synthcust.exceptions import DataError, SynthcustError
from synthcust.store import (
    DEFAULT_BUDGET,
    BudgetError,
    PrivacyParameterError,
    Workspace,
    WorkspaceError,
    fingerprint_frame,
)

FP = "ab" * 32  # a well-formed fingerprint of no particular table


@pytest.fixture(autouse=True)
def _no_real_home(tmp_path, monkeypatch):
    """Never touch the user's ~/.synthcust, even through the default location."""
    monkeypatch.setenv("SYNTHCUST_HOME", str(tmp_path / "home"))


@pytest.fixture
def ws(tmp_path):
    with Workspace(tmp_path / "ws.db") as w:
        yield w


def _frame(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "spend": rng.normal(100, 20, n).round(2),
            "segment": rng.choice(["a", "b", "c"], n),
            "joined": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
        }
    )


# --------------------------------------------------------------------------- fingerprints
def test_fingerprint_ignores_index_row_and_column_order_and_storage_flavour():
    df = _frame()
    fp = fingerprint_frame(df)
    assert len(fp) == 64 and fp == fingerprint_frame(df.copy())
    assert fingerprint_frame(df.set_axis(range(100, 150))) == fp  # index labels
    assert fingerprint_frame(df.sample(frac=1, random_state=1)) == fp  # row order
    assert fingerprint_frame(df[["segment", "joined", "age", "spend"]]) == fp  # column order
    assert fingerprint_frame(df.astype({"segment": object})) == fp  # pandas 2 vs 3 text
    assert fingerprint_frame(df.astype({"segment": "category"})) == fp
    assert fingerprint_frame(df.astype({"age": "Int64"})) == fp
    assert fingerprint_frame(df.assign(joined=df["joined"].dt.as_unit("s"))) == fp


def test_fingerprint_changes_with_content():
    df = _frame()
    fp = fingerprint_frame(df)
    changed = df.copy()
    changed.loc[7, "spend"] += 0.01
    with_nan = df.copy()
    with_nan.loc[3, "spend"] = np.nan
    others = [
        changed,
        with_nan,
        df.rename(columns={"spend": "spent"}),
        df.astype({"age": float}),  # same numbers, another dtype family
        df.iloc[:-1],
        pd.concat([df, df.iloc[:1]]),  # a duplicated row is a different multiset
        df.drop(columns="segment"),
    ]
    fps = {fingerprint_frame(o) for o in others}
    assert fp not in fps and len(fps) == len(others)
    assert fingerprint_frame(df.iloc[:0]) != fingerprint_frame(df.iloc[:0, :2])


def test_fingerprint_bad_input():
    with pytest.raises(DataError, match="DataFrame"):
        fingerprint_frame([1, 2])
    with pytest.raises(DataError, match="duplicate column names"):
        fingerprint_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]))


# --------------------------------------------------------------------------- budget
def test_budget_refusal_says_what_is_left(ws):
    ds = ws.register_dataset(_frame(), name="customers.csv")
    assert ws.budget(ds.fingerprint).total == DEFAULT_BUDGET
    ws.set_budget(ds.fingerprint, 3)
    with ws.charge(ds, 2.0, 1e-4, "MST (zCDP)", synthesizer="mst", params={"rho": 0.1}):
        pass
    with pytest.raises(BudgetError) as exc:
        ws.reserve(ds.fingerprint, 1.5, 0.0, "MST (zCDP)")
    msg = str(exc.value)
    assert "customers.csv" in msg and "asked for epsilon=1.5" in msg
    assert "only 1 of 3 is left" in msg and "--set-budget" in msg
    assert isinstance(exc.value, SynthcustError) and isinstance(exc.value, ValueError)
    assert len(ws.ledger(ds.fingerprint)) == 1  # a refused charge records nothing
    # 0.1 + 0.2 + 0.7: float sums that land on the budget exactly still fit
    for eps in (0.1, 0.2, 0.7):
        ws.reserve(ds.fingerprint, eps, 0.0, "laplace").commit()
    b = ws.budget(ds.fingerprint)
    assert math.isclose(b.spent, 3.0) and b.remaining == pytest.approx(0)
    assert b.delta_spent == pytest.approx(1e-4) and b.charges == 4 and not b.is_default
    with pytest.raises(BudgetError, match="only 0 of 3"):
        ws.reserve(ds.fingerprint, 0.01, 0.0, "laplace")
    # lowering the total below the spend is allowed; nothing is forgotten
    assert ws.set_budget(ds.fingerprint, 1).remaining == 0
    assert ws.budget(ds.fingerprint).spent == pytest.approx(3.0)


def test_failed_fit_keeps_its_charge_and_success_links_the_model(ws):
    with pytest.raises(RuntimeError), ws.charge(FP, 1.0, 0.0, "DP-SGD (RDP)") as c:
        raise RuntimeError("out of memory")
    assert c.status == "failed"
    with ws.charge(FP, 0.5, 0.0, "DP-SGD (RDP)", synthesizer="ctgan") as c2:
        c2.model_id = ws.add_model(None, "ctgan", "m.synthcust", params={"epochs": 3})
    entries = ws.ledger(FP)
    assert [e.status for e in entries] == ["failed", "committed"]
    assert "out of memory" in entries[0].message and entries[1].model_id == c2.model_id
    assert ws.budget(FP).spent == pytest.approx(1.5)
    with pytest.raises(WorkspaceError, match="already committed"):
        c2.commit()
    # the ledger is append-only, even through raw SQL
    conn = sqlite3.connect(ws.location)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM privacy_ledger")
    with pytest.raises(sqlite3.DatabaseError, match="cannot be changed"):
        conn.execute("UPDATE privacy_ledger SET epsilon = 0.001")
    conn.close()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epsilon": 0}, "epsilon must be a finite number > 0, got 0"),
        ({"epsilon": -1}, "got -1"),
        ({"epsilon": float("nan")}, "got nan"),
        ({"epsilon": float("inf")}, "got inf"),
        ({"epsilon": "lots"}, "epsilon must be a number, got 'lots'"),
        ({"epsilon": 101}, "allow_large=True"),
        ({"delta": -0.1}, "0 <= delta < 1, got -0.1"),
        ({"delta": 1}, "got 1"),
        ({"delta": float("nan")}, "got nan"),
        ({"delta": 0.05}, "not below 1/n = 0.02 for a dataset of 50 rows"),
        ({"mechanism": " "}, "must name its mechanism"),
    ],
)
def test_bad_privacy_parameters(ws, kwargs, match):
    ds = ws.register_dataset(_frame())
    args = {"epsilon": 1.0, "delta": 0.0, "mechanism": "laplace", **kwargs}
    with pytest.raises(PrivacyParameterError, match=match):
        ws.reserve(ds.fingerprint, **args)
    assert ws.ledger() == []


def test_large_epsilon_needs_allow_large_and_budget(ws):
    ws.set_budget(FP, 500)
    ws.reserve(FP, 150, 0.0, "laplace", allow_large=True).commit()
    assert ws.budget(FP).spent == 150


@pytest.mark.parametrize("total", [0, -2, float("nan"), float("inf"), "ten"])
def test_bad_budget_total(ws, total):
    with pytest.raises(BudgetError, match="finite total epsilon > 0, got"):
        ws.set_budget(FP, total)


def test_catalog_runs_and_locations(tmp_path, ws):
    df = _frame()
    ds = ws.register_dataset(df, name="a.csv", schema={"columns": []})
    again = ws.register_dataset(df.iloc[::-1], name="other name")
    assert again.id == ds.id and again.name == "a.csv" and again.n_rows == 50
    assert ws.dataset(ds.fingerprint[:8]) == ds and ws.dataset(ds.id).schema == {"columns": []}
    mid = ws.add_model(ds.fingerprint, "copula", tmp_path / "m.synthcust", metrics={"tvd": 0.9})
    ws.set_model_metrics(mid, {"tvd": 0.95})
    assert ws.models(ds.fingerprint)[0].metrics == {"tvd": 0.95}
    with pytest.raises(ValueError), ws.run("evaluate"):
        raise ValueError("bad column")
    with ws.run("fit"):
        pass
    assert [(r.kind, r.status) for r in ws.runs()] == [("evaluate", "failed"), ("fit", "done")]
    with pytest.raises(WorkspaceError, match="not a dataset fingerprint"):
        ws.budget("abc")
    # default location honours SYNTHCUST_HOME (set to a temp folder by the autouse fixture)
    with Workspace() as home_ws:
        assert home_ws.location == str(tmp_path / "home" / "workspace.db")
    # a folder holds workspace.db; a missing one is not created without create=True
    with Workspace(tmp_path) as folder_ws:
        assert folder_ws.location == str(tmp_path / "workspace.db")
    with pytest.raises(WorkspaceError, match="no workspace at"):
        Workspace(tmp_path / "nothing.db", create=False)
    with pytest.raises(WorkspaceError, match="does not exist"):
        Workspace(tmp_path / "no" / "ws.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(WorkspaceError, match="not a synthcust workspace"):
        Workspace(junk)
    with pytest.raises(WorkspaceError, match="unsupported workspace URL"):
        Workspace("mysql://x/y")
    conn = sqlite3.connect(ws.location)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(WorkspaceError, match="newer synthcust"):
        Workspace(ws.location)


# --------------------------------------------------------------------------- processes
_RACE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import synthcust.store.workspace as w
    loc, fp, go, out = sys.argv[1:5]
    ws = w.Workspace(loc)
    # hold the transaction open a while after the budget check, to widen the race window
    w._TEST_HOOK = lambda point: time.sleep(0.3) if point == "charge:before_commit" else None
    Path(out + ".ready").touch()
    while not Path(go).exists():
        time.sleep(0.002)
    try:
        ws.reserve(fp, 0.8, 0.0, "race")
        Path(out).write_text("ok")
    except w.BudgetError as e:
        Path(out).write_text("refused: " + str(e))
    """
)


def _wait_for(paths, procs, timeout=60.0):
    end = time.monotonic() + timeout
    while not all(Path(p).exists() for p in paths):
        for p in procs:
            if p.poll() not in (None, 0):
                raise AssertionError(f"child failed: {p.stderr.read().decode()}")
        assert time.monotonic() < end, f"timed out waiting for {paths}"
        time.sleep(0.01)


def _race(location, tmp_path):
    ws = Workspace(location)
    ws.set_budget(FP, 1.0)  # fits one charge of 0.8, not two
    go = tmp_path / "go"
    outs = [tmp_path / f"out{i}" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, str(location), FP, str(go), str(o)],
            stderr=subprocess.PIPE,
        )
        for o in outs
    ]
    try:
        _wait_for([f"{o}.ready" for o in outs], procs)
        go.touch()
        for p in procs:
            assert p.wait(timeout=60) == 0, p.stderr.read().decode()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    results = sorted(o.read_text() for o in outs)
    assert results[0] == "ok" and results[1].startswith("refused"), results
    assert "only 0.2 of 1 is left" in results[1]
    assert ws.budget(FP).spent == pytest.approx(0.8) and len(ws.ledger(FP)) == 1
    ws.close()


def test_concurrent_charges_cannot_both_pass(tmp_path):
    _race(tmp_path / "ws.db", tmp_path)


_CRASH = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import synthcust.store.workspace as w
    loc, fp, signal_file = sys.argv[1:4]
    ws = w.Workspace(loc)
    ws.reserve(fp, 1.0, 0.0, "first fit").commit()
    ws.reserve(fp, 0.5, 0.0, "second fit, killed while fitting")  # committed, left pending
    def hook(point):
        if point == "charge:before_commit":
            Path(signal_file).touch()
            time.sleep(120)
    w._TEST_HOOK = hook
    ws.reserve(fp, 2.0, 0.0, "third, killed before COMMIT")
    """
)


def test_process_killed_mid_transaction_leaves_ledger_consistent(tmp_path):
    loc = tmp_path / "ws.db"
    sig = tmp_path / "inside-transaction"
    p = subprocess.Popen(
        [sys.executable, "-c", _CRASH, str(loc), FP, str(sig)], stderr=subprocess.PIPE
    )
    try:
        _wait_for([sig], [p])
        os.kill(p.pid, signal.SIGKILL)
        assert p.wait(timeout=30) == -signal.SIGKILL
    finally:
        if p.poll() is None:
            p.kill()
    with Workspace(loc, timeout=5) as ws:
        assert ws.integrity_check() == "ok"
        entries = ws.ledger(FP)
        assert [(e.mechanism, e.status) for e in entries] == [
            ("first fit", "committed"),
            ("second fit, killed while fitting", "pending"),
        ]
        # the pending (interrupted) charge still counts; the uncommitted one never happened
        assert ws.budget(FP).spent == pytest.approx(1.5)
        start = time.monotonic()
        ws.reserve(FP, 0.1, 0.0, "after the crash").commit()  # the dead writer holds no lock
        assert time.monotonic() - start < 2
        assert len(ws.ledger(FP)) == 3


# --------------------------------------------------------------------------- PostgreSQL
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_url():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip(
            "PostgreSQL workspace test needs the psycopg driver: pip install psycopg[binary]"
        )
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) to start a test server")
    prefix: list[str] = []
    d = Path(tempfile.mkdtemp(prefix="synthcust-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to start a server")
        os.chown(d, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = d / "data"
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", "synthcust", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = f"-p {port} -h 127.0.0.1 -k {d}"
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-l", str(d / "log"), "-w", "-o", opts, "start"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        shutil.rmtree(d, ignore_errors=True)
        pytest.skip(f"could not start a throwaway PostgreSQL server: {e}")
    try:
        yield f"postgresql+psycopg://synthcust@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(d, ignore_errors=True)


def test_postgresql_workspace(pg_url, tmp_path):
    with Workspace(pg_url) as ws:
        assert ws.backend == "postgresql"
        ds = ws.register_dataset(_frame(), name="pg.csv", schema={"v": 1})
        ws.set_budget(ds, 2.0)
        with ws.charge(ds, 1.5, 1e-5, "MST (zCDP)", params={"rho": 0.1}) as c:
            c.model_id = ws.add_model(ds, "mst", tmp_path / "m.synthcust")
        with pytest.raises(BudgetError, match=r"only 0\.5 of 2 is left"):
            ws.reserve(ds.fingerprint, 1.0, 0.0, "MST (zCDP)")
        [e] = ws.ledger(ds)
        assert (e.status, e.model_id, e.params) == ("committed", c.model_id, {"rho": 0.1})
    # append-only through raw SQL too (a second open re-creates the triggers idempotently)
    import psycopg

    with Workspace(pg_url):
        pass
    raw = pg_url.replace("postgresql+psycopg://", "postgresql://")
    for sql, match in [
        ("DELETE FROM privacy_ledger", "append-only"),
        ("TRUNCATE privacy_ledger CASCADE", "append-only"),
        ("UPDATE privacy_ledger SET epsilon = 0.001", "cannot be changed"),
    ]:
        with psycopg.connect(raw) as conn, pytest.raises(psycopg.Error, match=match):
            conn.execute(sql)
            pytest.fail(f"{sql!r} was allowed")
    with psycopg.connect(raw) as conn:  # what is allowed: the status of a charge
        conn.execute("UPDATE privacy_ledger SET message = 'audited'")
    _race(pg_url, tmp_path)


def test_postgresql_without_driver_or_server_is_a_clear_error():
    with pytest.raises(WorkspaceError, match=r"driver|connect"):
        Workspace("postgresql+pg8000://nobody@127.0.0.1:1/none", timeout=1)


# --------------------------------------------------------------------------- CLI


def test_ledger_command(tmp_path, capsys, monkeypatch):
    from synthcust.io import read_table

    monkeypatch.setattr(cli.console, "width", 200, raising=False)
    wsp = tmp_path / "ws.db"
    csv = tmp_path / "customers.csv"
    _frame().to_csv(csv, index=False)

    code, out, _ = run(["ledger", "--workspace", wsp], capsys, monkeypatch)
    assert code == 0 and "no workspace" in out and not wsp.exists()

    with Workspace(wsp) as ws:
        ds = ws.register_dataset(read_table(str(csv)), name="customers.csv")
        ws.reserve(ds, 1.0, 1e-6, "MST (zCDP)", synthesizer="mst").commit(message="ok")
        with pytest.raises(KeyError), ws.charge(ds, 0.5, 0.0, "DP-SGD (RDP)"):
            raise KeyError("boom")
        ws.reserve(FP, 0.25, 0.0, "laplace")  # another dataset, left pending

    code, out, _ = run(["ledger", csv, "--workspace", wsp], capsys, monkeypatch)
    assert code == 0, out
    for s in ("customers.csv", ds.fingerprint[:12], "MST (zCDP)", "committed", "failed"):
        assert s in out
    assert "spent 1.5" in out and "remaining 8.5" in out and "costs no budget" in out

    code, out, _ = run(["ledger", ds.fingerprint[:6], "--workspace", wsp], capsys, monkeypatch)
    assert code == 0 and "DP-SGD (RDP)" in out and "remaining 8.5" in out

    code, out, _ = run(["ledger", "--workspace", wsp], capsys, monkeypatch)
    assert code == 0
    assert ds.fingerprint[:12] in out and FP[:12] in out and "customers.csv" in out
    assert "8.5" in out and "9.75" in out

    code, out, _ = run(
        ["ledger", ds.fingerprint[:8], "--set-budget", 1, "--workspace", wsp], capsys, monkeypatch
    )
    assert code == 0 and "set to epsilon 1" in out and "exhausted" in out

    for args, expected in [
        (["ledger", "fedcba98", "--workspace", wsp], "no dataset in workspace"),
        (["ledger", "not-a-file.csv", "--workspace", wsp], "neither an existing data file"),
        (["ledger", csv, "--set-budget", 0, "--workspace", wsp], "finite total epsilon > 0"),
        (["ledger", "--set-budget", 3, "--workspace", wsp], "needs a DATASET"),
    ]:
        code, out, err = run(args, capsys, monkeypatch)
        assert code == 1, (args, out, err)
        assert err.strip().startswith("error") and expected in err, err
