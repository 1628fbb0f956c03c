"""Issue 20, item 7: the ledger is tamper-evident (hash chain) and budget changes keep history."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from synthcust.store import Workspace
from synthcust.store.backends import SCHEMA_VERSION
from synthcust.store.chain import GENESIS, row_hash


def _ws(tmp_path, charges: int = 3) -> tuple[Workspace, str]:
    ws = Workspace(tmp_path / "ws.db")
    ds = ws.register_dataset(pd.DataFrame({"a": range(100)}), name="customers")
    ws.set_budget(ds.fingerprint, 5)
    for i in range(charges):
        ws.reserve(ds.fingerprint, 0.5 + i / 10, 0.0, "laplace").commit()
    ws.set_budget(ds.fingerprint, 8)
    return ws, ds.fingerprint


def _raw(tmp_path) -> sqlite3.Connection:
    con = sqlite3.connect(tmp_path / "ws.db", isolation_level=None)
    con.execute("DROP TRIGGER privacy_ledger_no_delete")  # what an attacker with the file does
    con.execute("DROP TRIGGER privacy_ledger_no_rewrite")
    con.execute("DROP TRIGGER IF EXISTS budget_changes_no_delete")
    return con


def test_an_untouched_ledger_verifies_and_budget_changes_are_recorded(tmp_path) -> None:
    ws, fp = _ws(tmp_path)
    rep = ws.verify_ledger()
    assert rep.ok, rep.problems
    assert rep.rows == {"ledger": 3, "budget": 2}
    assert rep.heads["ledger"].startswith("3:") and GENESIS not in rep.heads["ledger"]
    hist = ws.budget_history(fp)
    assert [(h["previous"], h["total"]) for h in hist] == [(None, 5.0), (5.0, 8.0)]
    assert ws.verify_ledger(expect_head=rep.heads["ledger"]).ok
    ws.close()


def test_the_triggers_still_refuse_plain_deletes_and_rehashing(tmp_path) -> None:
    ws, _ = _ws(tmp_path)
    ws.close()
    con = sqlite3.connect(tmp_path / "ws.db", isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM privacy_ledger WHERE id = 1")
    with pytest.raises(sqlite3.DatabaseError, match="cannot be changed"):
        con.execute("UPDATE privacy_ledger SET row_hash = 'x' WHERE id = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM budget_changes")


@pytest.mark.parametrize(
    ("attack", "says"),
    [
        ("DELETE FROM privacy_ledger WHERE id = 2", "row 3: the row before it"),
        ("DELETE FROM privacy_ledger WHERE id = 3", "recorded head (3 rows)"),
        ("UPDATE privacy_ledger SET epsilon = 0.01 WHERE id = 1", "row 1 was edited"),
        ("DELETE FROM budget_changes WHERE id = 2", "budget_changes: the recorded head"),
    ],
)
def test_drop_trigger_then_delete_or_edit_is_detected(tmp_path, attack, says) -> None:
    ws, fp = _ws(tmp_path)
    spent = ws.budget(fp).spent
    ws.close()
    con = _raw(tmp_path)
    con.execute(attack)
    con.close()
    with Workspace(tmp_path / "ws.db") as ws2:
        assert ws2.budget(fp).spent < spent or "budget" in attack  # the attack "worked"...
        rep = ws2.verify_ledger()
        assert not rep.ok  # ... and is evident
        assert any(says in p for p in rep.problems), rep.problems


def test_a_fully_rewritten_chain_is_caught_by_a_recorded_head(tmp_path) -> None:
    ws, _ = _ws(tmp_path)
    head = ws.verify_ledger().heads["ledger"]
    ws.close()
    con = _raw(tmp_path)
    con.execute("DROP TRIGGER privacy_ledger_no_rehash")
    con.execute("DELETE FROM privacy_ledger WHERE id = 3")
    con.execute("INSERT INTO privacy_ledger (fingerprint, epsilon, delta, mechanism, params_json,"
                " status, created) SELECT fingerprint, 0.01, 0, 'laplace', '{}', 'committed', "
                "created FROM privacy_ledger WHERE id = 1")  # fmt: skip
    prev = GENESIS
    con.row_factory = sqlite3.Row
    fields = ("id", "fingerprint", "epsilon", "delta", "mechanism", "synthesizer", "params_json",
              "created")  # fmt: skip
    rows = [dict(r) for r in con.execute("SELECT * FROM privacy_ledger ORDER BY id")]
    for r in rows:  # the forger recomputes every hash and the head
        h = row_hash(prev, r, fields)
        con.execute("UPDATE privacy_ledger SET prev_hash = ?, row_hash = ? WHERE id = ?",
                    (prev, h, r["id"]))  # fmt: skip
        prev = h
    con.execute("UPDATE meta SET value = ? WHERE key = 'ledger_head'", (f"{len(rows)}:{prev}",))
    con.close()
    with Workspace(tmp_path / "ws.db") as ws2:
        assert ws2.verify_ledger().ok  # self-consistent: why the head must be kept elsewhere
        rep = ws2.verify_ledger(expect_head=head)
        assert not rep.ok and "rewritten" in rep.problems[0]


def test_a_version_1_store_is_sealed_on_opening(tmp_path) -> None:
    path = tmp_path / "ws.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE privacy_ledger (
          id INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL,
          epsilon REAL NOT NULL, delta REAL NOT NULL, mechanism TEXT NOT NULL,
          synthesizer TEXT, params_json TEXT NOT NULL, model_id BIGINT,
          status TEXT NOT NULL, created TEXT NOT NULL, finished TEXT, message TEXT);
        INSERT INTO privacy_ledger (fingerprint, epsilon, delta, mechanism, params_json, status,
          created) VALUES ('f' || hex(randomblob(31)), 1.0, 0, 'laplace', '{}', 'committed',
          '2026-01-01T00:00:00Z');
        """
    )
    con.close()
    with Workspace(path) as ws:
        rep = ws.verify_ledger()
        assert rep.ok and rep.rows["ledger"] == 1, rep.problems
        assert len(ws.ledger()) == 1
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(
        SCHEMA_VERSION
    )


def test_cli_ledger_verify(tmp_path) -> None:
    from typer.testing import CliRunner

    from synthcust.cli import app

    ws, _ = _ws(tmp_path)
    ws.close()
    runner = CliRunner()
    ok = runner.invoke(app, ["ledger", "--verify", "--workspace", str(tmp_path / "ws.db")])
    said = " ".join(ok.output.split())  # rich wraps long lines
    assert ok.exit_code == 0 and "verified: 3 charge(s), 2 budget change(s)" in said
    con = _raw(tmp_path)
    con.execute("DELETE FROM privacy_ledger WHERE id = 1")
    con.close()
    bad = runner.invoke(app, ["ledger", "--verify", "--workspace", str(tmp_path / "ws.db")])
    said = " ".join(bad.output.split())
    assert bad.exit_code == 1 and "does NOT verify" in said and "row 2" in said
