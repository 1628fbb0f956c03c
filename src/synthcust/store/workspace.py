"""The workspace store: catalog of datasets, models and runs, and the privacy ledger.

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

Where the workspace lives
-------------------------
``Workspace(location)``: a ``.db`` file path, a folder (``workspace.db`` inside it) or a
``postgresql://`` URL. Without one: ``$SYNTHCUST_HOME/workspace.db``, else
``~/.synthcust/workspace.db`` (the folder is created).

Privacy accounting
------------------
* Every differentially private computation on a real dataset is **charged before it starts**
  (:meth:`Workspace.charge` / :meth:`Workspace.reserve`): the budget check and the ledger
  row are one transaction, so the spend is on disk before any private data is touched.
* A charge is **never refunded**. A fit that raises is marked ``failed`` and a process killed
  mid-fit leaves its row ``pending``; both still count, because the noisy measurements it made
  may already have left the process (logs, partial files, a debugger). Spent privacy cannot be
  un-spent.
* **Composition is basic (sequential) composition** per dataset fingerprint: spent epsilon is
  the sum of the epsilons of every charge, spent delta the sum of the deltas. Each mechanism
  does its own finer accounting inside (zCDP for marginals, RDP/PRV for DP-SGD) and reports one
  final ``(epsilon, delta)`` pair; the ledger composes those pairs, which is always valid, if
  sometimes loose.
* The budget is a total **epsilon** per dataset (default :data:`DEFAULT_BUDGET` = 10,
  changed with :meth:`Workspace.set_budget`); delta is recorded and summed, and each charge's
  delta must be below ``1/n`` for a dataset of ``n`` registered rows.
* **Post-processing is free**: sampling more rows from a DP model, evaluating it or saving it
  touches no private data, so there is deliberately no charge for it.

The ledger table is append-only: triggers (SQLite and PostgreSQL) refuse deleting or truncating
rows or changing what a row charged; only its status (``pending`` -> ``committed`` /
``failed``), model and message change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synthcust.exceptions import SynthcustError

__all__ = [
    "DEFAULT_BUDGET",
    "MAX_EPSILON",
    "Budget",
    "BudgetError",
    "Charge",
    "DatasetRecord",
    "LedgerEntry",
    "ModelRecord",
    "PrivacyParameterError",
    "RunRecord",
    "Workspace",
    "WorkspaceError",
    "default_location",
    "validate_privacy_parameters",
]

#: Total epsilon of a dataset that has no budget of its own.
DEFAULT_BUDGET = 10.0
#: Epsilons above this are refused unless ``allow_large=True``: they promise next to nothing.
MAX_EPSILON = 100.0
SCHEMA_VERSION = 1
_TOL = 1e-9  # float slack when comparing sums of epsilons to a budget

# Test hook: called with a point name inside write transactions (before COMMIT). Tests set it
# to pause or kill a process mid-transaction; it is None in normal use.
_TEST_HOOK: Callable[[str], None] | None = None


class WorkspaceError(SynthcustError):
    """The workspace cannot be opened or used (missing driver, foreign file, newer version)."""


class BudgetError(SynthcustError, ValueError):
    """A charge would exceed a dataset's privacy budget, or a budget value is invalid."""


class PrivacyParameterError(SynthcustError, ValueError):
    """An epsilon or delta is invalid (not positive, not finite, absurdly large, delta >= 1/n)."""


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Budget:
    """A dataset's budget. ``spent`` counts every charge: pending, committed and failed."""

    fingerprint: str
    total: float
    spent: float
    delta_spent: float
    charges: int
    is_default: bool

    @property
    def remaining(self) -> float:
        """Epsilon still available (never negative)."""
        return max(self.total - self.spent, 0.0)


@dataclass(frozen=True)
class DatasetRecord:
    id: int
    name: str | None
    fingerprint: str
    schema: dict | None
    n_rows: int
    created: str


@dataclass(frozen=True)
class ModelRecord:
    id: int
    dataset_id: int | None
    synthesizer: str
    path: str | None
    params: dict
    metrics: dict
    created: str


@dataclass(frozen=True)
class RunRecord:
    id: int
    kind: str
    status: str  # running | done | failed (a killed process leaves "running")
    started: str
    finished: str | None
    message: str | None


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    fingerprint: str
    epsilon: float
    delta: float
    mechanism: str
    synthesizer: str | None
    params: dict
    model_id: int | None
    status: str  # pending | committed | failed; all three count against the budget
    created: str
    finished: str | None
    message: str | None


# --------------------------------------------------------------------------- validation
def _num(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise PrivacyParameterError(f"{what} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PrivacyParameterError(f"{what} must be a number, got {value!r}") from None


def validate_privacy_parameters(
    epsilon: float, delta: float = 0.0, *, n_rows: int | None = None, allow_large: bool = False
) -> tuple[float, float]:
    """Check one ``(epsilon, delta)`` pair; return it as floats or raise a clear error.

    epsilon must be finite and > 0, and at most :data:`MAX_EPSILON` unless ``allow_large``;
    delta must be finite, 0 <= delta < 1, and below ``1/n_rows`` when ``n_rows`` is known.

    Raises
    ------
    PrivacyParameterError
        Naming the value at fault and what to give instead.
    """
    eps = _num(epsilon, "epsilon")
    dlt = _num(delta, "delta")
    if not math.isfinite(eps) or eps <= 0:
        raise PrivacyParameterError(
            f"epsilon must be a finite number > 0, got {epsilon!r}; typical values are 0.1 to 10 "
            "(smaller is more private)"
        )
    if eps > MAX_EPSILON and not allow_large:
        raise PrivacyParameterError(
            f"epsilon={eps:g} is above {MAX_EPSILON:g}: at that level differential privacy "
            "promises next to nothing. Use a smaller epsilon (0.1 to 10 is usual), or pass "
            "allow_large=True if you really mean it"
        )
    if not math.isfinite(dlt) or dlt < 0 or dlt >= 1:
        raise PrivacyParameterError(
            f"delta must be a finite number with 0 <= delta < 1, got {delta!r}; use 0 for pure "
            "epsilon-DP or a value well below 1/rows (e.g. 1e-6)"
        )
    if n_rows is not None and n_rows > 0 and dlt >= 1.0 / n_rows:
        raise PrivacyParameterError(
            f"delta={dlt:g} is not below 1/n = {1.0 / n_rows:g} for a dataset of {n_rows:,} rows: "
            "such a delta allows publishing whole records. Use delta <= "
            f"{0.1 / n_rows:.3g} (a tenth of 1/n) or 0"
        )
    return eps, dlt


def _check_total(total: Any) -> float:
    try:
        t = float(total) if not isinstance(total, bool) else math.nan
    except (TypeError, ValueError):
        t = math.nan
    if not math.isfinite(t) or t <= 0:
        raise BudgetError(
            f"a privacy budget must be a finite total epsilon > 0, got {total!r}; e.g. "
            f"{DEFAULT_BUDGET:g} (the default) or 1 for a strict policy"
        )
    return t


# --------------------------------------------------------------------------- helpers
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _dumps(obj: Any, what: str) -> str:
    try:
        return json.dumps(obj if obj is not None else {}, sort_keys=True, default=_json_default)
    except (TypeError, ValueError) as e:
        raise WorkspaceError(f"{what} cannot be stored as JSON: {e}") from e


def _json_default(o: Any) -> Any:
    # numpy scalars/arrays and paths, without importing numpy here
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _hook(point: str) -> None:
    if _TEST_HOOK is not None:
        _TEST_HOOK(point)


def default_location() -> Path:
    """``$SYNTHCUST_HOME/workspace.db``, else ``~/.synthcust/workspace.db``."""
    home = os.environ.get("SYNTHCUST_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".synthcust"
    return base / "workspace.db"


def _is_url(location: str) -> bool:
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", location) is not None


def _short(fp: str) -> str:
    return fp[:12]


# --------------------------------------------------------------------------- backends
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
        created TEXT NOT NULL, finished TEXT, message TEXT)""",
    "CREATE INDEX IF NOT EXISTS privacy_ledger_fingerprint ON privacy_ledger (fingerprint)",
]
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS privacy_ledger_no_delete BEFORE DELETE ON privacy_ledger
       BEGIN SELECT RAISE(ABORT, 'the privacy ledger is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS privacy_ledger_no_rewrite
       BEFORE UPDATE OF fingerprint, epsilon, delta, mechanism, created ON privacy_ledger
       BEGIN SELECT RAISE(ABORT, 'a privacy ledger charge cannot be changed'); END""",
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
            OR NEW.created IS DISTINCT FROM OLD.created THEN
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
]


class _Tx:
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


class _SQLiteBackend:
    kind = "sqlite"
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    float = "REAL"

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
    def transaction(self, write: bool) -> Iterator[_Tx]:
        def execute(sql: str, params: Mapping[str, Any]) -> list[dict]:
            return [dict(r) for r in self.conn.execute(sql, dict(params)).fetchall()]

        with self.lock:
            # IMMEDIATE takes the write lock now, so what we read cannot change before we write
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _Tx(execute)
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def lock_dataset(self, tx: _Tx, fingerprint: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already serialises every writer."""

    def setup_extra(self, tx: _Tx) -> None:
        for sql in _SQLITE_TRIGGERS:
            tx.rows(sql)

    def integrity_check(self) -> str:
        with self.lock:
            return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


class _PostgresBackend:
    kind = "postgresql"
    pk = "BIGSERIAL PRIMARY KEY"
    float = "DOUBLE PRECISION"

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
    def transaction(self, write: bool) -> Iterator[_Tx]:
        with self.engine.begin() as conn:

            def execute(sql: str, params: Mapping[str, Any]) -> list[dict]:
                res = conn.execute(self._text(sql), dict(params))
                return [dict(r._mapping) for r in res] if res.returns_rows else []

            yield _Tx(execute)

    def lock_dataset(self, tx: _Tx, fingerprint: str) -> None:
        """Serialise charges on one dataset until the transaction ends (commit or rollback)."""
        key = int.from_bytes(hashlib.sha256(fingerprint.encode()).digest()[:8], "big", signed=True)
        tx.rows("SELECT pg_advisory_xact_lock(:k)", k=key)

    def setup_extra(self, tx: _Tx) -> None:
        tx.rows("SELECT pg_advisory_xact_lock(7355608)")  # one creator of the tables at a time

    def setup_after(self, tx: _Tx) -> None:
        for sql in _PG_APPEND_ONLY:  # the append-only triggers, after the tables
            tx.rows(sql)

    def integrity_check(self) -> str:
        return "ok"

    def close(self) -> None:
        self.engine.dispose()


# --------------------------------------------------------------------------- charge
class Charge:
    """One recorded spend of privacy budget (a row of the ledger).

    Made by :meth:`Workspace.reserve` (or yielded by :meth:`Workspace.charge`) *after* the spend
    is committed: from then on it counts against the budget whatever happens. Finish it with
    :meth:`commit` when the DP computation succeeded or :meth:`fail` when it did not; a process
    killed before either leaves it ``pending``, still counted.
    """

    def __init__(self, workspace: Workspace, entry_id: int, fingerprint: str, eps, delta):
        self.workspace = workspace
        self.id = entry_id
        self.fingerprint = fingerprint
        self.epsilon = eps
        self.delta = delta
        self.status = "pending"
        #: Set this (e.g. to :meth:`Workspace.add_model`'s id) inside ``with ws.charge(...)``.
        self.model_id: int | None = None

    def commit(self, model_id: int | None = None, message: str | None = None) -> None:
        """Mark the charge ``committed`` (the DP computation finished), linking its model."""
        if model_id is not None:
            self.model_id = model_id
        self.workspace._finish_charge(self, "committed", message)

    def fail(self, message: str) -> None:
        """Mark the charge ``failed``; it still counts (spent privacy cannot be un-spent)."""
        self.workspace._finish_charge(self, "failed", message)

    def __repr__(self) -> str:
        return (
            f"Charge(id={self.id}, dataset={_short(self.fingerprint)}, epsilon={self.epsilon:g}, "
            f"delta={self.delta:g}, status={self.status!r})"
        )


# --------------------------------------------------------------------------- workspace
class Workspace:
    """The embedded catalog and privacy ledger. See the module docs for the guarantees.

    Parameters
    ----------
    location
        A SQLite file, a folder (``workspace.db`` inside it), or a ``postgresql://`` URL.
        ``None``: :func:`default_location`.
    create
        Create a missing SQLite file (the default). With ``False`` a missing file raises
        :class:`WorkspaceError` instead, so read-only commands do not leave files behind.
    timeout
        Seconds to wait for another process's write transaction before giving up.

    Typical use by a DP synthesizer::

        ws = Workspace()
        ds = ws.register_dataset(real_df, name="customers.csv", schema=schema.to_dict())
        with ws.charge(ds.fingerprint, epsilon=1.0, delta=1e-6, mechanism="MST (zCDP)",
                       synthesizer="mst", params={"rho": 0.02}) as charge:
            model = fit_privately(real_df)          # the spend is already on disk here
            model.save(path)
            charge.model_id = ws.add_model(ds.fingerprint, "mst", path, params={...})
        # later: model.sample(...) as often as you like, free (post-processing)
    """

    def __init__(
        self, location: str | os.PathLike | None = None, *, create: bool = True, timeout=30.0
    ):
        self._backend: _SQLiteBackend | _PostgresBackend
        if location is not None and _is_url(str(location)):
            url = str(location)
            scheme = url.split("://", 1)[0].lower()
            if scheme.startswith("sqlite") and ":///" in url:
                location = url.split(":///", 1)[1]  # sqlite:///rel.db, sqlite:////abs.db
            elif scheme.startswith(("postgresql", "postgres")):
                if scheme.startswith("postgres") and not scheme.startswith("postgresql"):
                    url = "postgresql" + url[len("postgres") :]
                self._backend = _PostgresBackend(url, timeout)
                self.location = self._backend.path
                self._setup()
                return
            else:
                raise WorkspaceError(
                    f"unsupported workspace URL scheme {scheme!r}; give a file path or a "
                    "postgresql:// URL"
                )
        path = Path(location).expanduser() if location is not None else default_location()
        if path.is_dir():
            path = path / "workspace.db"
        if not path.exists():
            if not create:
                raise WorkspaceError(
                    f"there is no workspace at {path} yet (the first DP fit creates it)"
                )
            if location is None:  # the default home folder is ours to create
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise WorkspaceError(
                    f"cannot create workspace {path}: the folder {path.parent} does not exist; "
                    "create it first"
                )
        self._backend = _SQLiteBackend(path, timeout)
        self.location = str(path)
        self._setup()

    # ---------------------------------------------------------------- plumbing
    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._backend.kind

    def _setup(self) -> None:
        b = self._backend
        with b.transaction(write=True) as tx:
            if b.kind == "postgresql":
                b.setup_extra(tx)  # the advisory lock, before creating anything
            for sql in _DDL:
                tx.rows(sql.format(pk=b.pk, float=b.float))
            if b.kind == "sqlite":
                b.setup_extra(tx)  # the append-only triggers, after the tables
            else:
                b.setup_after(tx)
            row = tx.one("SELECT value FROM meta WHERE key = 'schema_version'")
            if row is None:
                tx.rows(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', :v)",
                    v=str(SCHEMA_VERSION),
                )
            elif int(row["value"]) > SCHEMA_VERSION:
                raise WorkspaceError(
                    f"workspace {self.location} was written by a newer synthcust (store version "
                    f"{row['value']}, this one reads {SCHEMA_VERSION}); upgrade synthcust"
                )

    def close(self) -> None:
        """Close the connection (the database stays consistent whether or not you do)."""
        self._backend.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({self.location!r})"

    def integrity_check(self) -> str:
        """``"ok"`` when the database file is sound (SQLite ``PRAGMA integrity_check``)."""
        return self._backend.integrity_check()

    # ---------------------------------------------------------------- datasets
    def register_dataset(self, data, name: str | None = None, schema: Any = None) -> DatasetRecord:
        """Fingerprint ``data`` (a DataFrame) and add it to the catalog; return its record.

        Registering the same content again returns the existing record (filling in a name or
        schema it lacked). ``schema``: a dict or an object with ``to_dict()`` (a Schema).
        """
        from synthcust.store.fingerprint import fingerprint_frame

        fp = fingerprint_frame(data)
        if schema is not None and hasattr(schema, "to_dict"):
            schema = schema.to_dict()
        schema_json = _dumps(schema, "the schema") if schema is not None else None
        with self._backend.transaction(write=True) as tx:
            row = tx.one("SELECT id FROM datasets WHERE fingerprint = :fp", fp=fp)
            if row is None:
                tx.insert(
                    "INSERT INTO datasets (name, fingerprint, schema_json, n_rows, created) "
                    "VALUES (:name, :fp, :schema, :n, :created)",
                    name=name,
                    fp=fp,
                    schema=schema_json,
                    n=len(data),
                    created=_now(),
                )
            else:
                tx.rows(
                    "UPDATE datasets SET name = COALESCE(name, :name), "
                    "schema_json = COALESCE(schema_json, :schema) WHERE id = :id",
                    name=name,
                    schema=schema_json,
                    id=row["id"],
                )
            _hook("register_dataset:before_commit")
        return self.dataset(fp)

    @staticmethod
    def _dataset(r: dict) -> DatasetRecord:
        return DatasetRecord(
            id=int(r["id"]),
            name=r["name"],
            fingerprint=r["fingerprint"],
            schema=_loads(r["schema_json"]),
            n_rows=int(r["n_rows"]),
            created=r["created"],
        )

    def datasets(self) -> list[DatasetRecord]:
        """Every registered dataset, oldest first."""
        with self._backend.transaction(write=False) as tx:
            return [self._dataset(r) for r in tx.rows("SELECT * FROM datasets ORDER BY id")]

    def dataset(self, key: str | int) -> DatasetRecord:
        """A registered dataset by id, full fingerprint or unique fingerprint prefix.

        Raises
        ------
        WorkspaceError
            If nothing or more than one dataset matches.
        """
        with self._backend.transaction(write=False) as tx:
            if isinstance(key, int):
                rows = tx.rows("SELECT * FROM datasets WHERE id = :id", id=key)
            else:
                rows = tx.rows(
                    "SELECT * FROM datasets WHERE fingerprint LIKE :p ORDER BY id",
                    p=_prefix_pattern(key),
                )
        if len(rows) == 1:
            return self._dataset(rows[0])
        if not rows:
            raise WorkspaceError(f"no dataset {key!r} in workspace {self.location}")
        raise WorkspaceError(
            f"{len(rows)} datasets have fingerprints starting with {key!r} "
            f"({', '.join(_short(r['fingerprint']) for r in rows)}); give more characters"
        )

    def fingerprints(self, prefix: str = "") -> list[str]:
        """Fingerprints known to the workspace (catalog or ledger) starting with ``prefix``."""
        p = _prefix_pattern(prefix)
        with self._backend.transaction(write=False) as tx:
            rows = tx.rows(
                "SELECT fingerprint FROM datasets WHERE fingerprint LIKE :p UNION "
                "SELECT fingerprint FROM privacy_ledger WHERE fingerprint LIKE :p UNION "
                "SELECT fingerprint FROM budgets WHERE fingerprint LIKE :p",
                p=p,
            )
        return sorted(r["fingerprint"] for r in rows)

    # ---------------------------------------------------------------- models
    def add_model(
        self,
        dataset: str | int | DatasetRecord | None,
        synthesizer: str,
        path: str | os.PathLike | None,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> int:
        """Record a saved model file (written atomically by ``model.save``); return its id.

        ``dataset``: a fingerprint (or prefix), id or record of a *registered* dataset, or None.
        The store keeps only paths and JSON; it never reads or unpickles model files.
        """
        ds_id = None
        if isinstance(dataset, DatasetRecord):
            ds_id = dataset.id
        elif dataset is not None:
            ds_id = self.dataset(dataset).id
        with self._backend.transaction(write=True) as tx:
            mid = tx.insert(
                "INSERT INTO models (dataset_id, synthesizer, path, params_json, metrics_json, "
                "created) VALUES (:ds, :syn, :path, :params, :metrics, :created)",
                ds=ds_id,
                syn=str(synthesizer),
                path=None if path is None else str(Path(path).expanduser().resolve()),
                params=_dumps(dict(params or {}), "the model parameters"),
                metrics=_dumps(dict(metrics or {}), "the model metrics"),
                created=_now(),
            )
            _hook("add_model:before_commit")
        return mid

    def set_model_metrics(self, model_id: int, metrics: Mapping[str, Any]) -> None:
        """Replace a model's metrics (e.g. after ``synthcust evaluate``)."""
        with self._backend.transaction(write=True) as tx:
            tx.rows(
                "UPDATE models SET metrics_json = :m WHERE id = :id",
                m=_dumps(dict(metrics), "the model metrics"),
                id=int(model_id),
            )

    def models(self, dataset: str | int | None = None) -> list[ModelRecord]:
        """Recorded models, oldest first; only those of ``dataset`` when given."""
        sql, params = "SELECT * FROM models", {}
        if dataset is not None:
            sql, params = sql + " WHERE dataset_id = :ds", {"ds": self.dataset(dataset).id}
        with self._backend.transaction(write=False) as tx:
            rows = tx.rows(sql + " ORDER BY id", **params)
        return [
            ModelRecord(
                id=int(r["id"]),
                dataset_id=r["dataset_id"],
                synthesizer=r["synthesizer"],
                path=r["path"],
                params=_loads(r["params_json"]),
                metrics=_loads(r["metrics_json"]),
                created=r["created"],
            )
            for r in rows
        ]

    # ---------------------------------------------------------------- runs
    def start_run(self, kind: str, message: str | None = None) -> int:
        """Record that a job (``"fit"``, ``"evaluate"``...) started; return the run id."""
        with self._backend.transaction(write=True) as tx:
            return tx.insert(
                "INSERT INTO runs (kind, status, started, message) "
                "VALUES (:kind, 'running', :now, :msg)",
                kind=str(kind),
                now=_now(),
                msg=message,
            )

    def finish_run(self, run_id: int, status: str = "done", message: str | None = None) -> None:
        """Mark a run ``done`` or ``failed``. A killed process leaves its run ``running``."""
        if status not in ("done", "failed"):
            raise WorkspaceError(f"a run finishes 'done' or 'failed', not {status!r}")
        with self._backend.transaction(write=True) as tx:
            tx.rows(
                "UPDATE runs SET status = :s, finished = :now, "
                "message = COALESCE(:msg, message) WHERE id = :id",
                s=status,
                now=_now(),
                msg=message,
                id=int(run_id),
            )

    @contextlib.contextmanager
    def run(self, kind: str, message: str | None = None) -> Iterator[int]:
        """``with ws.run("fit") as run_id:`` -- ``done`` on success, ``failed`` (with the error)
        when the block raises."""
        rid = self.start_run(kind, message)
        try:
            yield rid
        except BaseException as e:
            self.finish_run(rid, "failed", f"{type(e).__name__}: {e}")
            raise
        self.finish_run(rid, "done")

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first."""
        with self._backend.transaction(write=False) as tx:
            rows = tx.rows("SELECT * FROM runs ORDER BY id")
        return [RunRecord(**{k: r[k] for k in RunRecord.__dataclass_fields__}) for r in rows]

    # ---------------------------------------------------------------- budget
    def _budget(self, tx: _Tx, fp: str) -> Budget:
        row = tx.one("SELECT total FROM budgets WHERE fingerprint = :fp", fp=fp)
        agg = tx.one(
            "SELECT COALESCE(SUM(epsilon), 0) AS eps, COALESCE(SUM(delta), 0) AS dlt, "
            "COUNT(*) AS n FROM privacy_ledger WHERE fingerprint = :fp",
            fp=fp,
        )
        assert agg is not None
        return Budget(
            fingerprint=fp,
            total=float(row["total"]) if row else DEFAULT_BUDGET,
            spent=float(agg["eps"]),
            delta_spent=float(agg["dlt"]),
            charges=int(agg["n"]),
            is_default=row is None,
        )

    def budget(self, fingerprint: str | DatasetRecord) -> Budget:
        """The dataset's budget: ``total``, ``spent`` and ``remaining`` epsilon, ``delta_spent``.

        Every charge counts, whatever its status (pending, committed or failed).
        """
        fp = _fp(fingerprint)
        with self._backend.transaction(write=False) as tx:
            return self._budget(tx, fp)

    def set_budget(self, fingerprint: str | DatasetRecord, total: float) -> Budget:
        """Set the dataset's total epsilon (a finite number > 0).

        Lowering it below what is already spent is allowed (``remaining`` becomes 0 and every
        further charge is refused); nothing already spent is forgotten.
        """
        fp = _fp(fingerprint)
        t = _check_total(total)
        with self._backend.transaction(write=True) as tx:
            self._backend.lock_dataset(tx, fp)
            tx.rows(
                "INSERT INTO budgets (fingerprint, total, updated) VALUES (:fp, :t, :now) "
                "ON CONFLICT (fingerprint) DO UPDATE SET total = :t, updated = :now",
                fp=fp,
                t=t,
                now=_now(),
            )
            return self._budget(tx, fp)

    def reserve(
        self,
        fingerprint: str | DatasetRecord,
        epsilon: float,
        delta: float = 0.0,
        mechanism: str = "",
        *,
        synthesizer: str | None = None,
        params: Mapping[str, Any] | None = None,
        allow_large: bool = False,
    ) -> Charge:
        """Phase one of a DP computation: check the budget and record the spend, atomically.

        Call it *before* touching the private data. The returned :class:`Charge` is already
        counted; call ``.commit(model_id)`` or ``.fail(message)`` afterwards (or use
        :meth:`charge`, which does so for you). ``mechanism`` names what spends it and how it
        was accounted (e.g. ``"MST (zCDP)"``, ``"DP-SGD (RDP)"``); ``params`` are its settings.

        Raises
        ------
        PrivacyParameterError
            A bad epsilon/delta (see :func:`validate_privacy_parameters`); delta must also be
            below 1/n when the dataset is registered with n rows.
        BudgetError
            The charge would take the dataset past its budget; nothing is recorded and the
            message says what is left.
        """
        fp = _fp(fingerprint)
        if not str(mechanism).strip():
            raise PrivacyParameterError(
                "a charge must name its mechanism, e.g. mechanism='MST (zCDP)'"
            )
        params_json = _dumps(dict(params or {}), "the mechanism parameters")
        validate_privacy_parameters(epsilon, delta, allow_large=allow_large)
        with self._backend.transaction(write=True) as tx:
            self._backend.lock_dataset(tx, fp)
            ds = tx.one("SELECT name, n_rows FROM datasets WHERE fingerprint = :fp", fp=fp)
            eps, dlt = validate_privacy_parameters(
                epsilon, delta, n_rows=int(ds["n_rows"]) if ds else None, allow_large=allow_large
            )
            b = self._budget(tx, fp)
            if b.spent + eps > b.total * (1 + _TOL) + _TOL:
                what = f"dataset {ds['name']!r} ({_short(fp)})" if ds and ds["name"] else _short(fp)
                raise BudgetError(
                    f"privacy budget exceeded for {what}: asked for epsilon={eps:g}, but only "
                    f"{b.remaining:g} of {b.total:g} is left ({b.spent:g} spent over "
                    f"{b.charges} charge(s)). Use epsilon <= {b.remaining:g}, or raise the "
                    f"budget (synthcust ledger {_short(fp)} --set-budget TOTAL) if your privacy "
                    "policy allows; sampling more rows from an existing DP model is free"
                )
            entry_id = tx.insert(
                "INSERT INTO privacy_ledger (fingerprint, epsilon, delta, mechanism, synthesizer, "
                "params_json, model_id, status, created) VALUES (:fp, :eps, :dlt, :mech, :syn, "
                ":params, NULL, 'pending', :now)",
                fp=fp,
                eps=eps,
                dlt=dlt,
                mech=str(mechanism),
                syn=synthesizer,
                params=params_json,
                now=_now(),
            )
            _hook("charge:before_commit")
        return Charge(self, entry_id, fp, eps, dlt)

    @contextlib.contextmanager
    def charge(
        self,
        fingerprint: str | DatasetRecord,
        epsilon: float,
        delta: float = 0.0,
        mechanism: str = "",
        *,
        synthesizer: str | None = None,
        params: Mapping[str, Any] | None = None,
        allow_large: bool = False,
    ) -> Iterator[Charge]:
        """``with ws.charge(fp, eps, delta, mechanism) as c:`` run the DP computation inside.

        The spend is committed on entry (see :meth:`reserve`, which raises the same errors
        before the block runs). On normal exit the charge is marked ``committed`` with
        ``c.model_id``; if the block raises it is marked ``failed`` and the error propagates.
        Either way the epsilon stays spent.
        """
        c = self.reserve(
            fingerprint,
            epsilon,
            delta,
            mechanism,
            synthesizer=synthesizer,
            params=params,
            allow_large=allow_large,
        )
        try:
            yield c
        except BaseException as e:
            if c.status == "pending":
                c.fail(f"{type(e).__name__}: {e}")
            raise
        if c.status == "pending":
            c.commit()

    def _finish_charge(self, c: Charge, status: str, message: str | None) -> None:
        if c.status != "pending":
            raise WorkspaceError(f"charge {c.id} is already {c.status}")
        with self._backend.transaction(write=True) as tx:
            tx.rows(
                "UPDATE privacy_ledger SET status = :s, finished = :now, model_id = :mid, "
                "message = :msg WHERE id = :id AND status = 'pending'",
                s=status,
                now=_now(),
                mid=c.model_id,
                msg=message,
                id=c.id,
            )
        c.status = status

    def ledger(self, fingerprint: str | DatasetRecord | None = None) -> list[LedgerEntry]:
        """Ledger entries, oldest first; only those of one dataset when given."""
        sql, params = "SELECT * FROM privacy_ledger", {}
        if fingerprint is not None:
            sql, params = sql + " WHERE fingerprint = :fp", {"fp": _fp(fingerprint)}
        with self._backend.transaction(write=False) as tx:
            rows = tx.rows(sql + " ORDER BY id", **params)
        out = []
        for r in rows:
            d = {k: r[k] for k in LedgerEntry.__dataclass_fields__ if k != "params"}
            d.update(
                epsilon=float(d["epsilon"]),
                delta=float(d["delta"]),
                params=_loads(r["params_json"]),
            )
            out.append(LedgerEntry(**d))
        return out


def _fp(fingerprint: str | DatasetRecord) -> str:
    if isinstance(fingerprint, DatasetRecord):
        return fingerprint.fingerprint
    fp = str(fingerprint).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", fp):
        raise WorkspaceError(
            f"{fingerprint!r} is not a dataset fingerprint (64 hex characters from "
            "synthcust.store.fingerprint_frame); look a prefix up with Workspace.dataset()"
        )
    return fp


def _prefix_pattern(prefix: str) -> str:
    p = str(prefix).strip().lower()
    if not re.fullmatch(r"[0-9a-f]*", p):
        raise WorkspaceError(f"{prefix!r} is not a fingerprint prefix (hex digits only)")
    return p + "%"
