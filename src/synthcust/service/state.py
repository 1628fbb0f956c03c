"""What the service holds between requests: workspace, job store, data folder, caches, runner.

Every piece of logic here is a call into the workflow layer (:mod:`synthcust.workflows`: the
same fit, split, evaluation and defaults as the command line and the library); this module
only keeps files under generated names, caches loaded frames and models, and runs long work as
jobs whose state lives in the workspace store (:class:`synthcust.store.jobs.JobStore`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.exceptions import SynthcustError
from synthcust.io import ReadLimits, read_table, sweep_stale_temps
from synthcust.reporting import write_report
from synthcust.schema import Schema
from synthcust.store.jobs import DatasetEntry, Job, JobStore, UnknownJob, new_id
from synthcust.store.workspace import Workspace
from synthcust.synthesizers.fitted import load_model
from synthcust.workflows import defaults
from synthcust.workflows.evaluate import evaluate_model
from synthcust.workflows.fit import fit as fit_workflow
from synthcust.workflows.personas import segment_personas
from synthcust.workflows.split import split as split_workflow

log = logging.getLogger("synthcust.service")

#: rows of the real data kept out of every fit, to evaluate against (never used to train)
HOLDOUT = defaults.HOLDOUT
#: seconds a DP fit request waits for its checks and ledger charge before answering 202
CHECK_WAIT = 30.0
#: uploads streamed at the same time; more are answered 503 with Retry-After
MAX_PARALLEL_UPLOADS = 4


class _LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int):
        self.size = size
        self._d: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = make()
        with self._lock:
            self._d[key] = value
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return value

    def drop(self, key: Any) -> None:
        with self._lock:
            self._d.pop(key, None)


class _Checks:
    """A job's "every check passed" signal: set when its work starts (the workflow's first
    progress call comes after every check and the privacy charge) or when it fails."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


@contextlib.contextmanager
def _elapsed(report: Callable[[float], None], every: float = 2.0) -> Iterator[None]:
    """Call ``report(seconds)`` every ``every`` s while the block runs.

    The synthesizers have no progress callback, so a fit reports honest elapsed time rather
    than an invented percentage.
    """
    stop = threading.Event()
    t0 = time.monotonic()

    def loop() -> None:
        while not stop.wait(every):
            report(time.monotonic() - t0)

    th = threading.Thread(target=loop, daemon=True)
    th.start()
    try:
        yield
    finally:
        stop.set()
        th.join()


#: What one upload may decode to, by default (``serve --max-read-mb/--max-rows/...``).
SERVICE_LIMITS = ReadLimits(
    max_bytes=2 * 2**30, max_rows=20_000_000, max_columns=2_000, max_cell_chars=1_000_000
)


class ServiceState:
    """Shared state of one service instance (see :func:`synthcust.service.create_app`)."""

    def __init__(self, workspace: Workspace, data_dir: Path, max_upload_bytes: int,
                 llm_backend: Any = None, workers: int = 2,
                 read_limits: ReadLimits | None = None,
                 upload_timeout_s: float = 30.0):  # fmt: skip
        self.ws = workspace
        self.store = JobStore(workspace)
        self.recovered = self.store.recover()
        self.data_dir = Path(data_dir)
        for sub in ("uploads", "models", "reports"):
            folder = self.data_dir / sub
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # real data: owner only
            sweep_stale_temps(folder)  # half-written files of a server killed mid-write
        for part in (self.data_dir / "uploads").glob(".upload-*"):
            part.unlink(missing_ok=True)  # left by a server killed mid-upload: never registered
        self.max_upload_bytes = int(max_upload_bytes)
        self.read_limits = SERVICE_LIMITS if read_limits is None else read_limits
        self.upload_timeout_s = float(upload_timeout_s)
        self.upload_slots = threading.BoundedSemaphore(MAX_PARALLEL_UPLOADS)
        self.llm_backend = llm_backend
        self.frames = _LRU(4)
        self.models = _LRU(8)
        self.choice_models = _LRU(8)
        self.checks: dict[str, _Checks] = {}
        self._checks_lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synthcust-job")

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ datasets
    def dataset_path(self, entry: DatasetEntry) -> Path:
        return self.data_dir / "uploads" / entry.file  # entry.file is a generated name

    def frame(self, dataset_id: str) -> pd.DataFrame:
        """The real data of a dataset (kept in the server; never sent to a client)."""
        entry = self.store.dataset(dataset_id)
        return self.frames.get(
            dataset_id, lambda: read_table(self.dataset_path(entry), limits=self.read_limits)
        )

    def split(self, dataset_id: str, seed: int,
              target: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
        """Train and holdout rows (:func:`synthcust.workflows.split.split`: 80/20 by ``seed``,
        stratified by ``target``): fits see only train."""
        return split_workflow(self.frame(dataset_id), target=target, holdout=HOLDOUT,
                              random_state=seed)  # fmt: skip

    # ------------------------------------------------------------------ models
    def model_record(self, model_id: int) -> Any:
        for m in self.ws.models():
            if m.id == int(model_id) and m.params.get("service_dataset"):
                return m
        raise UnknownJob(f"no model {model_id!r}")

    def model(self, model_id: int) -> Any:
        """A fitted :class:`~synthcust.synthesizers.fitted.SynthModel` (cached)."""
        rec = self.model_record(model_id)
        return self.models.get(int(model_id), lambda: load_model(rec.path))

    # ------------------------------------------------------------------ jobs
    def submit(self, kind: str, key: str | None, params: dict[str, Any],
               work: Callable[[Job, Callable[[float, str], None]], Any],
               wait_checks: bool = False) -> Job:  # fmt: skip
        """Record a job (409 on a clash via JobConflict) and run ``work`` in the pool.

        Parameters
        ----------
        kind, key, params
            The job record (a running job with the same ``key`` is a clash).
        work
            ``work(job, progress)`` returns the job's result.
        wait_checks
            Wait (up to :data:`CHECK_WAIT` s) until the work has passed its checks -- for a DP
            fit: parameters, bounds and the privacy-budget charge -- and raise the error that
            refused it, so that the request is answered with it (e.g. over budget).

        Returns
        -------
        Job
            The recorded job (queued).
        """
        job = self.store.create(kind, key=key, params=params)
        gate = _Checks() if wait_checks else None
        if gate is not None:
            with self._checks_lock:
                self.checks[job.id] = gate
        self.pool.submit(self._run, job, work)
        if gate is not None:
            gate.done.wait(CHECK_WAIT)
            with self._checks_lock:
                self.checks.pop(job.id, None)
            if gate.error is not None:
                raise gate.error
        return job

    def checks_passed(self, job_id: str) -> None:
        """Called by a job's work once its checks passed: a waiting request may answer."""
        gate = self.checks.get(job_id)
        if gate is not None:
            gate.done.set()

    def _run(self, job: Job, work: Callable) -> None:
        def progress(p: float, message: str) -> None:
            self.store.update(job.id, progress=p, message=message)

        try:
            self.store.update(job.id, status="running", progress=0.01, message="starting")
            result = work(job, progress)
            self.store.update(job.id, status="done", progress=1.0, message="done", result=result)
        except SynthcustError as e:
            self.store.update(job.id, status="failed", error=str(e), message="failed")
            self._refused(job.id, e)
        except Exception as e:  # a bug: log it, show a short message, never a traceback
            log.error("job %s (%s) failed:\n%s", job.id, job.kind, traceback.format_exc())
            self.store.update(job.id, status="failed", message="failed",
                              error=f"internal error ({type(e).__name__}); see the server log")
            self._refused(job.id, SynthcustError(
                f"internal error ({type(e).__name__}); see the server log"))
        finally:
            self.checks_passed(job.id)

    def _refused(self, job_id: str, error: BaseException) -> None:
        gate = self.checks.get(job_id)
        if gate is not None and not gate.done.is_set():
            gate.error = error

    # ------------------------------------------------------------------ job bodies
    def fit_job(self, job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
        """Fit through :func:`synthcust.workflows.fit.fit` on the train rows; DP fits are charged
        to the uploaded table's budget in the workspace ledger."""
        p = job.params
        ds = p["dataset"]
        seed, target = int(p["seed"]), p.get("target") or None
        progress(0.1, "reading the data")
        entry = self.store.dataset(ds)
        train, holdout = self.split(ds, seed, target)
        schema = Schema.from_dict(entry.schema)  # inferred once, at upload
        path = self.data_dir / "models" / f"{new_id('m')}.synthcust"
        now = {"what": "fitting"}

        def say(message: str) -> None:  # the workflow's steps, after its checks
            self.checks_passed(job.id)
            now["what"] = message
            progress(0.9 if message == "saving" else 0.25, message)

        with _elapsed(lambda s: progress(0.25, f"{now['what']} ({s:.0f} s so far)")):
            res = fit_workflow(
                train, schema=schema, synthesizer=p.get("synthesizer"), target=target,
                random_state=seed, constraints=p.get("constraints") or None,
                segments=p.get("segments") or None,
                dp_epsilon=p.get("dp_epsilon"), dp_delta=float(p.get("dp_delta") or
                                                                defaults.DP_DELTA),
                bounds=p.get("bounds") or None, workspace=self.ws, dataset=self.frame(ds),
                dataset_name=entry.name, save_to=path, progress=say,
                record_params={"service_dataset": ds, "seed": seed, "target": target,
                               "holdout": HOLDOUT, "train_rows": len(train), "job": job.id},
            )  # fmt: skip
        model = res.model
        acts = {} if model.pii is None else model.pii.actions
        handled = {k: a.policy.value for k, a in acts.items()}
        privacy = None
        if res.dp is not None:
            privacy = {"epsilon": res.dp.epsilon, "delta": res.dp.delta,
                       "mechanism": res.dp.mechanism, "budget_left": res.dp.remaining,
                       "budget_total": res.dp.total, "not_covered": res.dp.not_covered}  # fmt: skip
        return {"model_id": res.model_id, "dataset": ds, "synthesizer": res.synthesizer,
                "target": target, "train_rows": len(train), "holdout_rows": len(holdout),
                "columns": model.column_order, "pii_handled": handled,
                "notes": list(model.notes), "privacy": privacy,
                "warnings": list(model.training_warnings)}  # fmt: skip

    def model_split(self, model_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The train and holdout rows of a model's fit (its seed and target)."""
        rec = self.model_record(model_id)
        return self.split(rec.params["service_dataset"], int(rec.params["seed"]),
                          rec.params.get("target") or None)  # fmt: skip

    def evaluate_job(self, job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
        """Evaluate through :func:`synthcust.workflows.evaluate.evaluate_model` on the fit's
        split: the figures the CLI and the library give on the same split and seed."""
        mid = int(job.params["model_id"])
        rec = self.model_record(mid)
        model = self.model(mid)
        target = job.params.get("target") or rec.params.get("target") or None
        progress(0.1, "sampling synthetic customers")
        train, holdout = self.model_split(mid)
        progress(0.3, "measuring fidelity, detection, privacy and utility")
        steps = [0]

        def step(message: str) -> None:  # the number of steps varies: approach 0.9 smoothly
            steps[0] += 1
            progress(0.3 + 0.6 * (1 - 0.75 ** steps[0]), message)

        report = evaluate_model(model, train, holdout, target=target,
                                random_state=int(job.params.get("seed", defaults.SEED)),
                                progress=step)  # fmt: skip
        progress(0.9, "writing the report")
        _, json_path = write_report(report, self.data_dir / "reports" / f"{job.id}.html")
        return {"model_id": mid, "target": target, "report": json.loads(json_path.read_text()),
                "html": f"/api/jobs/{job.id}/report.html"}  # fmt: skip

    def personas_job(self, job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
        """Personas through :func:`synthcust.workflows.personas.segment_personas` on the whole
        uploaded table (segmenting trains no synthesizer on a split: the cards describe it)."""
        p = job.params
        ds = p["dataset"]
        progress(0.1, "reading the data")
        df = self.frame(ds)
        schema = Schema.from_dict(self.store.dataset(ds).schema)  # inferred once, at upload

        def step(i: int, total: int, message: str) -> None:
            progress(0.1 + 0.8 * (i - 1) / total, message)

        res = segment_personas(df, schema=schema, k=p.get("k"), k_range=(2, int(p.get("max_k", 6))),
                               members=int(p.get("members", 3)), kpi=list(p.get("kpi") or []),
                               random_state=int(p.get("seed", defaults.SEED)),
                               members_random_state=0, progress=step)  # fmt: skip
        return {"dataset": ds, "cards": res.cards.to_dict()}

    def save_upload_entry(self, upload: Any, df: pd.DataFrame, schema: Any, pii: dict) -> Any:
        """Register an uploaded, parsed file (catalog + service table) under a new id."""
        did = new_id("d")
        final = self.data_dir / "uploads" / f"{did}{upload.extension}"
        upload.path.replace(final)
        try:
            rec = self.ws.register_dataset(df, name=upload.filename, schema=schema)
            entry = DatasetEntry(
                id=did, name=upload.filename, file=final.name, format=upload.format,
                size=upload.size, n_rows=len(df), n_cols=df.shape[1],
                fingerprint=rec.fingerprint, schema=schema.to_dict(), pii=pii,
                created=datetime.now(UTC).isoformat(timespec="milliseconds"),
            )  # fmt: skip
            return self.store.add_dataset(entry)
        except BaseException:
            final.unlink(missing_ok=True)
            raise


def rows_json(df: pd.DataFrame) -> str:
    """Rows as a JSON array (pandas' vectorised writer; NaN -> null, dates -> ISO 8601)."""
    return df.to_json(orient="records", date_format="iso", default_handler=str)
