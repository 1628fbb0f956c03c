"""Where the workspace's tables live: SQLite (the default) or PostgreSQL, one interface.

Why SQLite (not DuckDB)
-----------------------
The workspace is small, write-mostly metadata that several processes (two ``synthcust fit``
runs, a notebook, the service) may write at the same moment, and whose privacy ledger must
survive a process killed mid-write. SQLite (the standard library's ``sqlite3``, no extra
dependency) fits that exactly:

* **concurrent writers**: any number of processes may open one file; ``BEGIN IMMEDIATE`` takes
  the database's write lock *before* the budget is read, so two charges are serialised and
  cannot both pass a budget that fits only one. DuckDB allows a single read-write *process* per
  file: a second ``synthcust fit`` would fail to open the workspace rather than wait its turn.
* **crash safety**: WAL journal with ``synchronous=FULL``: a committed charge is on disk before
  ``charge`` returns, and a transaction cut off by ``SIGKILL`` or a power loss simply never
  happened (the next opener rolls the WAL back to the last commit).
* **no new dependency**, a single file that is easy to back up and to inspect with any SQLite
  tool. DuckDB stays what synthcust uses it for: a fast columnar *data* source.

WAL needs a local file system (not NFS/SMB). For a team, give a PostgreSQL URL instead
(``postgresql+psycopg://user@host/db``; needs ``pip install "psycopg[binary]"``): the same
tables are created there through SQLAlchemy Core, and a per-dataset transaction-level advisory
lock (``pg_advisory_xact_lock``) plays the part of ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from synthcust.store.chain import seal_unhashed
from synthcust.store.records import WorkspaceError

__all__ = ["SCHEMA_VERSION", "PostgresBackend", "SQLiteBackend", "Transaction", "setup_tables"]

#: Version of the tables; a store written by a newer synthcust is refused.
SCHEMA_VERSION = 2  # 2: ledger and budget changes hash-chained (store/chain.py)

_DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS datasets (
        id {pk}, name TEXT, fingerprint TEXT NOT NULL UNIQUE, schema_json TEXT,
        n_rows BIGINT NOT NULL, created TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS models (
        id {pk}, dataset_id BIGINT REFERENCES datasets(id), synthesizer TEXT NOT NULL,
        path TEXT, params_json TEXT NOT NULL, metrics_json TEXT NOT NULL, created TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (
        id {pk}, kind TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
        started TEXT NOT NULL, finished TEXT, message TEXT)""",
    """CREATE TABLE IF NOT EXISTS budgets (
        fingerprint TEXT PRIMARY KEY, total {float} NOT NULL CHECK (total > 0),
        updated TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS privacy_ledger (
        id {pk}, fingerprint TEXT NOT NULL,
        epsilon {float} NOT NULL CHECK (epsilon > 0),
        delta {float} NOT NULL CHECK (delta >= 0 AND delta < 1),
        mechanism TEXT NOT NULL, synthesizer TEXT, params_json TEXT NOT NULL,
        model_id BIGINT REFERENCES models(id),
        status TEXT NOT NULL CHECK (status IN ('pending', 'committed', 'failed')),
        created TEXT NOT NULL, finished TEXT, message TEXT, prev_hash TEXT, row_hash TEXT)""",
    "CREATE INDEX IF NOT EXISTS privacy_ledger_fingerprint ON privacy_ledger (fingerprint)",
    """CREATE TABLE IF NOT EXISTS budget_changes (
        id {pk}, fingerprint TEXT NOT NULL, total {float} NOT NULL CHECK (total > 0),
        previous {float}, changed TEXT NOT NULL, prev_hash TEXT, row_hash TEXT)""",
]
#: Columns added by store version 2 (a version-1 store gets them on opening).
_V2_COLUMNS = {"privacy_ledger": ("prev_hash", "row_hash")}
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS privacy_ledger_no_delete BEFORE DELETE ON privacy_ledger
       BEGIN SELECT RAISE(ABORT, 'the privacy ledger is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS privacy_ledger_no_rewrite
       BEFORE UPDATE OF fingerprint, epsilon, delta, mechanism, created ON privacy_ledger
       BEGIN SELECT RAISE(ABORT, 'a privacy ledger charge cannot be changed'); END""",
    """CREATE TRIGGER IF NOT EXISTS privacy_ledger_no_rehash
       BEFORE UPDATE OF prev_hash, row_hash ON privacy_ledger WHEN OLD.row_hash IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'a privacy ledger charge cannot be changed'); END""",
    """CREATE TRIGGER IF NOT EXISTS budget_changes_no_delete BEFORE DELETE ON budget_changes
       BEGIN SELECT RAISE(ABORT, 'the budget history is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS budget_changes_no_rewrite BEFORE UPDATE ON budget_changes
       WHEN OLD.row_hash IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'the budget history is append-only'); END""",
]


_PG_APPEND_ONLY = [
    """CREATE OR REPLACE FUNCTION synthcust_ledger_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
           RAISE EXCEPTION 'the privacy ledger is append-only';
         END IF;
         IF NEW.fingerprint IS DISTINCT FROM OLD.fingerprint
            OR NEW.epsilon IS DISTINCT FROM OLD.epsilon OR NEW.delta IS DISTINCT FROM OLD.delta
            OR NEW.mechanism IS DISTINCT FROM OLD.mechanism
            OR NEW.created IS DISTINCT FROM OLD.created
            OR (OLD.row_hash IS NOT NULL AND (NEW.row_hash IS DISTINCT FROM OLD.row_hash
                OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash)) THEN
           RAISE EXCEPTION 'a privacy ledger charge cannot be changed';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS privacy_ledger_guard ON privacy_ledger",
    """CREATE TRIGGER privacy_ledger_guard BEFORE UPDATE OR DELETE ON privacy_ledger
       FOR EACH ROW EXECUTE FUNCTION synthcust_ledger_guard()""",
    # TRUNCATE skips row triggers: refuse it too
    "DROP TRIGGER IF EXISTS privacy_ledger_no_truncate ON privacy_ledger",
    """CREATE TRIGGER privacy_ledger_no_truncate BEFORE TRUNCATE ON privacy_ledger
       FOR EACH STATEMENT EXECUTE FUNCTION synthcust_ledger_guard()""",
    """CREATE OR REPLACE FUNCTION synthcust_budget_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP IN ('DELETE', 'TRUNCATE') OR OLD.row_hash IS NOT NULL THEN
           RAISE EXCEPTION 'the budget history is append-only';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS budget_changes_guard ON budget_changes",
    """CREATE TRIGGER budget_changes_guard BEFORE UPDATE OR DELETE ON budget_changes
       FOR EACH ROW EXECUTE FUNCTION synthcust_budget_guard()""",
]


class Transaction:
    """One open transaction: ``rows``/``one`` for queries, ``insert`` returning the new id."""

    def __init__(self, execute: Callable[[str, Mapping[str, Any]], list[dict]]):
        self._execute = execute

    def rows(self, sql: str, **params: Any) -> list[dict]:
        return self._execute(sql, params)

    def one(self, sql: str, **params: Any) -> dict | None:
        r = self._execute(sql, params)
        return r[0] if r else None

    def insert(self, sql: str, **params: Any) -> int:
        return int(self._execute(sql + " RETURNING id", params)[0]["id"])


class SQLiteBackend:
    kind = "sqlite"
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    float_type = "REAL"

    def __init__(self, path: Path, timeout: float):
        self.path = path
        try:
            self.conn = sqlite3.connect(
                str(path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as e:
            raise WorkspaceError(
                f"{path} is not a synthcust workspace (SQLite says: {e}); give another "
                "--workspace location or move that file away"
            ) from e
        if str(mode).lower() != "wal":
            raise WorkspaceError(
                f"cannot use write-ahead logging for {path} (journal mode {mode!r}); put the "
                "workspace on a local disk"
            )
        self.lock = threading.RLock()

    @contextlib.contextmanager
    def transaction(self, write: bool) -> Iterator[Transaction]:
        def execute(sql: str, params: Mapping[str, Any]) -> list[dict]:
            return [dict(r) for r in self.conn.execute(sql, dict(params)).fetchall()]

        with self.lock:
            # IMMEDIATE takes the write lock now, so what we read cannot change before we write
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Transaction(execute)
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def lock_dataset(self, tx: Transaction, fingerprint: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already serialises every writer."""

    def columns(self, tx: Transaction, table: str) -> set[str]:
        """Names of ``table``'s columns."""
        return {str(r["name"]) for r in tx.rows(f"PRAGMA table_info({table})")}

    def setup_extra(self, tx: Transaction) -> None:
        for sql in _SQLITE_TRIGGERS:
            tx.rows(sql)

    def integrity_check(self) -> str:
        with self.lock:
            return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


class PostgresBackend:
    kind = "postgresql"
    pk = "BIGSERIAL PRIMARY KEY"
    float_type = "DOUBLE PRECISION"

    def __init__(self, url: str, timeout: float):
        try:
            from sqlalchemy import create_engine, text
        except ImportError as e:  # pragma: no cover - sqlalchemy is a dependency
            raise WorkspaceError("a PostgreSQL workspace needs SQLAlchemy installed") from e
        self._text = text
        try:
            self.engine = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as e:
            raise WorkspaceError(
                f"a PostgreSQL workspace needs a driver: {e.name} is not installed. Run "
                "pip install 'psycopg[binary]' and use a postgresql+psycopg:// URL"
            ) from e
        except Exception as e:
            raise WorkspaceError(f"cannot use workspace URL {self._safe(url)}: {e}") from e
        try:
            with self.engine.connect():
                pass
        except Exception as e:
            raise WorkspaceError(
                f"cannot connect to the workspace database {self._safe(url)}: "
                f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            ) from e
        self.path = self._safe(url)

    @staticmethod
    def _safe(url: str) -> str:
        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)

    @contextlib.contextmanager
    def transaction(self, write: bool) -> Iterator[Transaction]:
        with self.engine.begin() as conn:

            def execute(sql: str, params: Mapping[str, Any]) -> list[dict]:
                res = conn.execute(self._text(sql), dict(params))
                return [dict(r._mapping) for r in res] if res.returns_rows else []

            yield Transaction(execute)

    def lock_dataset(self, tx: Transaction, fingerprint: str) -> None:
        """Serialise charges on one dataset until the transaction ends (commit or rollback)."""
        key = int.from_bytes(hashlib.sha256(fingerprint.encode()).digest()[:8], "big", signed=True)
        tx.rows("SELECT pg_advisory_xact_lock(:k)", k=key)

    def columns(self, tx: Transaction, table: str) -> set[str]:
        """Names of ``table``'s columns."""
        rows = tx.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
            "AND table_schema = current_schema()",
            t=table,
        )
        return {str(r["column_name"]) for r in rows}

    def setup_extra(self, tx: Transaction) -> None:
        tx.rows("SELECT pg_advisory_xact_lock(7355608)")  # one creator of the tables at a time

    def setup_after(self, tx: Transaction) -> None:
        for sql in _PG_APPEND_ONLY:  # the append-only triggers, after the tables
            tx.rows(sql)

    def integrity_check(self) -> str:
        return "ok"

    def close(self) -> None:
        self.engine.dispose()


def setup_tables(backend: SQLiteBackend | PostgresBackend, location: str) -> None:
    """Create the tables (and the ledger's append-only triggers) if missing; check the version.

    Raises
    ------
    WorkspaceError
        If the store was written by a newer synthcust.
    """
    b = backend
    with b.transaction(write=True) as tx:
        if b.kind == "postgresql":
            b.setup_extra(tx)  # the advisory lock, before creating anything
        for sql in _DDL:
            tx.rows(sql.format(pk=b.pk, float=b.float_type))
        for table, cols in _V2_COLUMNS.items():  # a version-1 store: add the chain's columns
            have = b.columns(tx, table)
            for col in cols:
                if col not in have:
                    tx.rows(f"ALTER TABLE {table} ADD COLUMN {col} TEXT")
        if isinstance(b, SQLiteBackend):
            b.setup_extra(tx)  # the append-only triggers, after the tables
        else:
            b.setup_after(tx)
        row = tx.one("SELECT value FROM meta WHERE key = 'schema_version'")
        if row is not None and int(row["value"]) > SCHEMA_VERSION:
            raise WorkspaceError(
                f"workspace {location} was written by a newer synthcust (store version "
                f"{row['value']}, this one reads {SCHEMA_VERSION}); upgrade synthcust"
            )
        if row is None or int(row["value"]) < SCHEMA_VERSION:
            seal_unhashed(tx)  # rows of a version-1 store join the chain, oldest first
            tx.rows(
                "INSERT INTO meta (key, value) VALUES ('schema_version', :v) "
                "ON CONFLICT (key) DO UPDATE SET value = :v",
                v=str(SCHEMA_VERSION),
            )
