"""Service state in the workspace store: background jobs and uploaded datasets.

Both tables live in the workspace database (SQLite WAL or PostgreSQL) next to the catalog and
the privacy ledger, and are created through the workspace's own transaction API, so:

* a job survives a page reload and a server restart: its status, progress and result are
  rows, not process memory;
* a job that was ``queued`` or ``running`` when the server died is marked ``failed`` (with a
  message saying so) by :meth:`JobStore.recover`, which the service calls on start;
* two fits of one dataset cannot both start: :meth:`JobStore.create` checks for an active job
  on the same key and inserts the new one in **one write transaction** (``BEGIN IMMEDIATE`` on
  SQLite, a transaction-level advisory lock on PostgreSQL), so the check cannot race.

>>> import tempfile
>>> from synthcust.store.workspace import Workspace
>>> ws = Workspace(tempfile.mkdtemp())
>>> jobs = JobStore(ws)
>>> job = jobs.create("fit", key="fit:d1", params={"dataset": "d1"})
>>> jobs.update(job.id, status="running", progress=0.5, message="fitting")
>>> jobs.get(job.id).progress
0.5
"""

from __future__ import annotations

import builtins
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from synthcust.exceptions import SynthcustError
from synthcust.store.workspace import Workspace

__all__ = ["ACTIVE", "DatasetEntry", "Job", "JobConflict", "JobStore", "UnknownJob", "new_id"]

#: Job states that block another job on the same key.
ACTIVE = ("queued", "running")
_STATES = ("queued", "running", "done", "failed")

_DDL = [
    """CREATE TABLE IF NOT EXISTS service_jobs (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, job_key TEXT,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        progress {float} NOT NULL DEFAULT 0, message TEXT, params_json TEXT NOT NULL,
        result_json TEXT, error TEXT, created TEXT NOT NULL, updated TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS service_jobs_key ON service_jobs (job_key, status)",
    """CREATE TABLE IF NOT EXISTS service_datasets (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, file TEXT NOT NULL, format TEXT NOT NULL,
        size BIGINT NOT NULL, n_rows BIGINT NOT NULL, n_cols BIGINT NOT NULL,
        fingerprint TEXT, schema_json TEXT NOT NULL, pii_json TEXT NOT NULL,
        created TEXT NOT NULL)""",
]


class JobConflict(SynthcustError):
    """Another job on the same key (e.g. a fit of the same dataset) is queued or running."""


class UnknownJob(SynthcustError, KeyError):
    """No job (or dataset) with that id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown id"


def new_id(prefix: str) -> str:
    """A random, URL-safe id (``prefix`` + 16 hex chars); never derived from user input."""
    return prefix + secrets.token_hex(8)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Job:
    """One background job as stored: ``status`` is queued | running | done | failed."""

    id: str
    kind: str
    key: str | None
    status: str
    progress: float
    message: str | None
    params: dict
    result: Any
    error: str | None
    created: str
    updated: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DatasetEntry:
    """An uploaded dataset: ``file`` is the generated name under the service's data folder."""

    id: str
    name: str
    file: str
    format: str
    size: int
    n_rows: int
    n_cols: int
    fingerprint: str | None
    schema: dict
    pii: dict
    created: str

    def public(self) -> dict[str, Any]:
        """What the API shows (no file path)."""
        d = asdict(self)
        d.pop("file")
        return d


def _job(r: Mapping[str, Any]) -> Job:
    return Job(
        id=r["id"],
        kind=r["kind"],
        key=r["job_key"],
        status=r["status"],
        progress=float(r["progress"]),
        message=r["message"],
        params=json.loads(r["params_json"]),
        result=None if r["result_json"] is None else json.loads(r["result_json"]),
        error=r["error"],
        created=r["created"],
        updated=r["updated"],
    )


def _entry(r: Mapping[str, Any]) -> DatasetEntry:
    return DatasetEntry(
        id=r["id"], name=r["name"], file=r["file"], format=r["format"], size=int(r["size"]),
        n_rows=int(r["n_rows"]), n_cols=int(r["n_cols"]), fingerprint=r["fingerprint"],
        schema=json.loads(r["schema_json"]), pii=json.loads(r["pii_json"]), created=r["created"],
    )  # fmt: skip


class JobStore:
    """Jobs and uploaded datasets of the HTTP service, stored in a :class:`Workspace`."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace
        b = workspace._backend
        with b.transaction(write=True) as tx:
            if b.kind == "postgresql":
                tx.rows("SELECT pg_advisory_xact_lock(7355609)")  # one creator at a time
            for sql in _DDL:
                tx.rows(sql.format(float=b.float_type))

    # ------------------------------------------------------------------ jobs
    def create(self, kind: str, *, key: str | None = None, params: Mapping[str, Any]) -> Job:
        """Insert a ``queued`` job; :class:`JobConflict` if ``key`` has an active job."""
        jid, now = new_id("j"), _now()
        b = self.ws._backend
        with b.transaction(write=True) as tx:
            if key is not None:
                b.lock_dataset(tx, "job:" + key)
                row = tx.one(
                    "SELECT id, kind FROM service_jobs WHERE job_key = :k "
                    "AND status IN ('queued', 'running')",
                    k=key,
                )
                if row is not None:
                    raise JobConflict(
                        f"job {row['id']} ({row['kind']}) is already running on this dataset; "
                        "wait for it to finish (GET /api/jobs/" + row["id"] + ")"
                    )
            tx.rows(
                "INSERT INTO service_jobs (id, kind, job_key, status, progress, params_json, "
                "created, updated) VALUES (:id, :kind, :key, 'queued', 0, :p, :now, :now)",
                id=jid, kind=kind, key=key, p=json.dumps(dict(params), default=str), now=now,
            )  # fmt: skip
        return self.get(jid)

    def update(
        self,
        job_id: str,
        *,
        status: str | None = None,
        progress: float | None = None,
        message: str | None = None,
        result: Any = None,
        error: str | None = None,
    ) -> None:
        """Change a job's state; ``None`` arguments leave their field as it is."""
        if status is not None and status not in _STATES:
            raise SynthcustError(f"job status must be one of {_STATES}, not {status!r}")
        with self.ws._backend.transaction(write=True) as tx:
            tx.rows(
                "UPDATE service_jobs SET status = COALESCE(:s, status), "
                "progress = COALESCE(:p, progress), message = COALESCE(:m, message), "
                "result_json = COALESCE(:r, result_json), error = COALESCE(:e, error), "
                "updated = :now WHERE id = :id",
                s=status, p=None if progress is None else float(progress), m=message,
                r=None if result is None else json.dumps(result, default=str), e=error,
                now=_now(), id=job_id,
            )  # fmt: skip

    def get(self, job_id: str) -> Job:
        """The job ``job_id``; :class:`UnknownJob` when there is none."""
        with self.ws._backend.transaction(write=False) as tx:
            r = tx.one("SELECT * FROM service_jobs WHERE id = :id", id=str(job_id))
        if r is None:
            raise UnknownJob(f"no job {job_id!r}")
        return _job(r)

    def list(self, kind: str | None = None, limit: int = 100) -> list[Job]:
        """Most recent jobs first."""
        sql, p = "SELECT * FROM service_jobs", dict[str, Any]({"n": int(limit)})
        if kind is not None:
            sql, p = sql + " WHERE kind = :k", {**p, "k": kind}
        with self.ws._backend.transaction(write=False) as tx:
            return [_job(r) for r in tx.rows(sql + " ORDER BY created DESC LIMIT :n", **p)]

    def recover(self) -> int:
        """Mark jobs left ``queued``/``running`` by a dead server ``failed``; return how many."""
        with self.ws._backend.transaction(write=True) as tx:
            n = tx.rows("SELECT COUNT(*) AS n FROM service_jobs WHERE status IN "
                        "('queued', 'running')")[0]["n"]  # fmt: skip
            tx.rows(
                "UPDATE service_jobs SET status = 'failed', error = :e, updated = :now "
                "WHERE status IN ('queued', 'running')",
                e="the server stopped while this job was running; start it again",
                now=_now(),
            )
        return int(n)

    # ------------------------------------------------------------------ datasets
    def add_dataset(self, entry: DatasetEntry) -> DatasetEntry:
        with self.ws._backend.transaction(write=True) as tx:
            tx.rows(
                "INSERT INTO service_datasets (id, name, file, format, size, n_rows, n_cols, "
                "fingerprint, schema_json, pii_json, created) VALUES (:id, :name, :file, :fmt, "
                ":size, :r, :c, :fp, :schema, :pii, :created)",
                id=entry.id, name=entry.name, file=entry.file, fmt=entry.format, size=entry.size,
                r=entry.n_rows, c=entry.n_cols, fp=entry.fingerprint,
                schema=json.dumps(entry.schema), pii=json.dumps(entry.pii), created=entry.created,
            )  # fmt: skip
        return entry

    def datasets(self) -> builtins.list[DatasetEntry]:
        with self.ws._backend.transaction(write=False) as tx:
            return [_entry(r) for r in tx.rows("SELECT * FROM service_datasets ORDER BY created")]

    def dataset(self, dataset_id: str) -> DatasetEntry:
        with self.ws._backend.transaction(write=False) as tx:
            r = tx.one("SELECT * FROM service_datasets WHERE id = :id", id=str(dataset_id))
        if r is None:
            raise UnknownJob(f"no dataset {dataset_id!r}")
        return _entry(r)

    def set_schema(self, dataset_id: str, schema: dict) -> None:
        self.dataset(dataset_id)
        with self.ws._backend.transaction(write=True) as tx:
            tx.rows("UPDATE service_datasets SET schema_json = :s WHERE id = :id",
                    s=json.dumps(schema), id=dataset_id)  # fmt: skip
