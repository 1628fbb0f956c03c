"""The workspace store: catalog of datasets, models and runs, and the privacy ledger.

Storage
-------
SQLite by default (a local file; concurrent writers serialised by ``BEGIN IMMEDIATE``, WAL
with ``synchronous=FULL``), or PostgreSQL for a team; why, and how each keeps the guarantees
below: :mod:`synthcust.store.backends`. The records and errors are in
:mod:`synthcust.store.records`, the ledger methods in :mod:`synthcust.store.ledger`; this
module re-exports every public name.

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
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from synthcust.store.backends import SCHEMA_VERSION, PostgresBackend, SQLiteBackend, setup_tables
from synthcust.store.fingerprint import fingerprint_frame
from synthcust.store.ledger import Charge, LedgerMixin
from synthcust.store.records import (
    DEFAULT_BUDGET,
    MAX_EPSILON,
    Budget,
    BudgetError,
    DatasetRecord,
    LedgerEntry,
    ModelRecord,
    PrivacyParameterError,
    RunRecord,
    WorkspaceError,
    from_json,
    prefix_pattern,
    short_fingerprint,
    to_json,
    utc_now,
    validate_privacy_parameters,
)

__all__ = [
    "DEFAULT_BUDGET",
    "MAX_EPSILON",
    "SCHEMA_VERSION",
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

# Test hook: called with a point name inside write transactions (before COMMIT). Tests set it
# to pause or kill a process mid-transaction; it is None in normal use.
_TEST_HOOK: Callable[[str], None] | None = None


def default_location() -> Path:
    """``$SYNTHCUST_HOME/workspace.db``, else ``~/.synthcust/workspace.db``."""
    home = os.environ.get("SYNTHCUST_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".synthcust"
    return base / "workspace.db"


def _is_url(location: str) -> bool:
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", location) is not None


class Workspace(LedgerMixin):
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
        self._backend: SQLiteBackend | PostgresBackend
        if location is not None and _is_url(str(location)):
            url = str(location)
            scheme = url.split("://", 1)[0].lower()
            if scheme.startswith("sqlite") and ":///" in url:
                location = url.split(":///", 1)[1]  # sqlite:///rel.db, sqlite:////abs.db
            elif scheme.startswith(("postgresql", "postgres")):
                if scheme.startswith("postgres") and not scheme.startswith("postgresql"):
                    url = "postgresql" + url[len("postgres") :]
                self._backend = PostgresBackend(url, timeout)
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
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise WorkspaceError(
                    f"cannot create workspace {path}: the folder {path.parent} does not exist; "
                    "create it first"
                )
            # 0600 before SQLite opens it: its -wal and -shm files copy the database's mode
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._backend = SQLiteBackend(path, timeout)
        self.location = str(path)
        self._setup()

    # ---------------------------------------------------------------- plumbing
    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._backend.kind

    def _setup(self) -> None:
        setup_tables(self._backend, self.location)

    def _test_point(self, point: str) -> None:
        """Run the test hook (:data:`_TEST_HOOK`) at ``point``, inside a write transaction."""
        if _TEST_HOOK is not None:
            _TEST_HOOK(point)

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
        fp = fingerprint_frame(data)
        if schema is not None and hasattr(schema, "to_dict"):
            schema = schema.to_dict()
        schema_json = to_json(schema, "the schema") if schema is not None else None
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
                    created=utc_now(),
                )
            else:
                tx.rows(
                    "UPDATE datasets SET name = COALESCE(name, :name), "
                    "schema_json = COALESCE(schema_json, :schema) WHERE id = :id",
                    name=name,
                    schema=schema_json,
                    id=row["id"],
                )
            self._test_point("register_dataset:before_commit")
        return self.dataset(fp)

    @staticmethod
    def _dataset(r: dict) -> DatasetRecord:
        return DatasetRecord(
            id=int(r["id"]),
            name=r["name"],
            fingerprint=r["fingerprint"],
            schema=from_json(r["schema_json"]),
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
                    p=prefix_pattern(key),
                )
        if len(rows) == 1:
            return self._dataset(rows[0])
        if not rows:
            raise WorkspaceError(f"no dataset {key!r} in workspace {self.location}")
        raise WorkspaceError(
            f"{len(rows)} datasets have fingerprints starting with {key!r} "
            f"({', '.join(short_fingerprint(r['fingerprint']) for r in rows)}); "
            "give more characters"
        )

    def fingerprints(self, prefix: str = "") -> list[str]:
        """Fingerprints known to the workspace (catalog or ledger) starting with ``prefix``."""
        p = prefix_pattern(prefix)
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
                params=to_json(dict(params or {}), "the model parameters"),
                metrics=to_json(dict(metrics or {}), "the model metrics"),
                created=utc_now(),
            )
            self._test_point("add_model:before_commit")
        return mid

    def set_model_metrics(self, model_id: int, metrics: Mapping[str, Any]) -> None:
        """Replace a model's metrics (e.g. after ``synthcust evaluate``)."""
        with self._backend.transaction(write=True) as tx:
            tx.rows(
                "UPDATE models SET metrics_json = :m WHERE id = :id",
                m=to_json(dict(metrics), "the model metrics"),
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
                params=from_json(r["params_json"]),
                metrics=from_json(r["metrics_json"]),
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
                now=utc_now(),
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
                now=utc_now(),
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
