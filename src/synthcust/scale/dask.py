"""Partitioned sampling and simulation on Dask, writing partitioned Parquet atomically.

:func:`sample_partitioned` splits ``n`` rows into partitions of ``partition_rows``. Partition
``i`` is sampled with the seed ``SeedSequence([seed, i])``, so the output depends only on
``(model, n, partition_rows, seed)``: the same files whichever the number of workers or the
order they finish in. Each worker loads the model file once, samples its partition, writes
``part-00000.parquet``... into a temporary folder beside ``out_dir``, and returns only a few
numbers; nothing holds the whole output, and memory per worker is one partition. When every
partition is written the folder is renamed onto ``out_dir`` (an interrupted run leaves no
half-written output; ``out_dir`` is either absent/old or complete). A manifest
``_synthcust.json`` records rows, partitions, seeds and the model.

``out_dir`` must be on a file system every worker can write (local disk for a local cluster; a
shared mount on a real cluster).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.persist import load_bundle
from synthcust.exceptions import DataError, ModelError, WriteError
from synthcust.scale.cluster import dask_client, run_tasks
from synthcust.synthesizers.base import BaseSynthesizer
from synthcust.synthesizers.fitted import load_model

__all__ = [
    "PartitionedResult",
    "partition_files",
    "partition_seed",
    "sample_partitioned",
    "simulate_partitioned",
]

MANIFEST = "_synthcust.json"


@dataclass
class PartitionedResult:
    """What a partitioned run wrote, and what it cost.

    ``seconds`` is the whole call; ``rows_per_second`` counts only the partition work (from the
    moment the cluster is ready), so cluster start-up does not dilute it.
    """

    path: str
    rows: int
    partitions: int
    seconds: float
    rows_per_second: float
    worker_peak_rss_mb: float  # the largest peak RSS any worker process reported
    bytes_written: int
    workers: int | None
    startup_seconds: float = 0.0  # connecting to / starting the cluster (not in rows/s)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def partition_seed(seed: int, i: int) -> int:
    """The seed of partition ``i``: independent streams from ``SeedSequence([seed, i])``."""
    return int(np.random.SeedSequence([int(seed), int(i)]).generate_state(1)[0])


def _rss_mb() -> float:
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


@lru_cache(maxsize=4)
def _load_model(path: str, mtime: float) -> Any:
    """A model file, loaded once per worker process (``mtime`` invalidates the cache)."""
    meta, _ = load_bundle(path)
    if "column_order" in meta:  # a model of the library's fit (PII handling, column order)
        return load_model(path)
    return BaseSynthesizer.load(path)


def _sample_part(
    model_path: str, mtime: float, i: int, rows: int, seed: int, conditions: Any, tmp: str
) -> dict[str, Any]:
    t0 = time.perf_counter()
    model = _load_model(model_path, mtime)
    df = model.sample(rows, conditions=conditions or None, random_state=partition_seed(seed, i))
    dest = Path(tmp) / f"part-{i:05d}.parquet"
    df.to_parquet(dest, index=False)
    del df
    return {
        "i": i,
        "rows": rows,
        "bytes": dest.stat().st_size,
        "seconds": time.perf_counter() - t0,
        "rss_mb": _rss_mb(),
    }


def _prepare_out(out_dir: str | os.PathLike, overwrite: bool) -> tuple[Path, Path]:
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise WriteError(f"{out} exists and is a file; give a folder name for partitioned output")
    if out.exists() and not overwrite:
        raise WriteError(
            f"{out} already exists; pass overwrite=True (CLI: --overwrite) to replace it"
        )
    if not out.parent.is_dir():
        raise WriteError(f"cannot write {out}: the folder {out.parent} does not exist")
    tmp = out.parent / f".{out.name}.tmp-{secrets.token_hex(6)}"
    tmp.mkdir()
    return out, tmp


def _install(tmp: Path, out: Path) -> None:
    """Rename the finished temporary folder onto ``out`` (replacing an old one)."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{secrets.token_hex(6)}"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _model_file(model: Any, tmp: Path) -> Path:
    if isinstance(model, str | os.PathLike):
        p = Path(model).expanduser().resolve()
        if not p.is_file():
            raise ModelError(
                f"model file {str(p)!r} does not exist; create it with `synthcust fit`"
            )
        return p
    if not hasattr(model, "save") or not hasattr(model, "sample"):
        raise ModelError(
            "model must be a model file path or a fitted synthcust model, got "
            f"{type(model).__name__}"
        )
    # workers load the model from a file: no pickled model travels (shared file system assumed)
    p = tmp.parent / f".{tmp.name}.model"
    model.save(p)
    return p


def sample_partitioned(
    model: Any,
    n: int,
    out_dir: str | os.PathLike,
    *,
    scheduler: Any = "local",
    workers: int = 2,
    partition_rows: int = 1_000_000,
    seed: int = 0,
    conditions: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    timeout: float = 10.0,
    processes: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> PartitionedResult:
    """Sample ``n`` rows from ``model`` into a folder of Parquet partitions, on Dask.

    Parameters
    ----------
    model: a model file (from ``synthcust fit``) or a fitted model (``SynthModel`` or any
        synthesizer); an object is saved to a file beside ``out_dir`` for the workers to load.
    n: total rows.
    out_dir: the folder to create (``part-00000.parquet``, ... and ``_synthcust.json``).
    scheduler: ``"local"``, ``"sync"``, a scheduler address or a ``distributed.Client``
        (see :mod:`synthcust.scale.cluster`).
    workers: workers of a local cluster.
    partition_rows: rows per partition (memory per worker is about one partition).
    seed: base seed; partition ``i`` uses :func:`partition_seed` ``(seed, i)``.
    conditions: fixed values / ranges for every row (as ``model.sample``).
    timeout: seconds to wait for a remote scheduler before giving up with a clear error.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from synthcust.synthesizers import GaussianCopulaSynthesizer
    >>> df = pd.DataFrame({"age": list(range(20, 80)) * 5, "plan": ["a", "b", "c"] * 100})
    >>> m = GaussianCopulaSynthesizer(random_state=0).fit(df)
    >>> res = sample_partitioned(m, 2500, tempfile.mkdtemp() + "/out", scheduler="sync",
    ...                          partition_rows=1000)
    >>> res.rows, res.partitions, len(pd.read_parquet(res.path))
    (2500, 3, 2500)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise ModelError(f"n must be a positive whole number of rows, got {n!r}")
    bad_rows = not isinstance(partition_rows, int) or isinstance(partition_rows, bool)
    if bad_rows or partition_rows < 1:
        raise ModelError(f"partition_rows must be a whole number >= 1, got {partition_rows!r}")
    out, tmp = _prepare_out(out_dir, overwrite)
    t0 = time.perf_counter()
    made_model = None
    try:
        path = _model_file(model, tmp)
        if not isinstance(model, str | os.PathLike):
            made_model = path
        mtime = path.stat().st_mtime
        starts = range(0, int(n), partition_rows)
        conds = dict(conditions) if conditions else None
        args = [
            (str(path), mtime, i, min(partition_rows, int(n) - s), int(seed), conds, str(tmp))
            for i, s in enumerate(starts)
        ]
        with dask_client(scheduler, workers, timeout=timeout, processes=processes) as client:
            t_ready = time.perf_counter()
            res = run_tasks(_sample_part, args, client, progress)
            t_done = time.perf_counter()
            n_workers = None if client is None else len(client.scheduler_info()["workers"])
        manifest = {
            "rows": int(n),
            "partitions": len(args),
            "partition_rows": partition_rows,
            "seed": int(seed),
            "partition_seed": "numpy SeedSequence([seed, partition index])",
            "conditions": conds,
            "model": str(model) if made_model is None else type(model).__name__,
            "files": [f"part-{r['i']:05d}.parquet" for r in res],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str))
        _install(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if made_model is not None:
            made_model.unlink(missing_ok=True)
    secs = time.perf_counter() - t0
    work = t_done - t_ready
    return PartitionedResult(
        path=str(out),
        rows=int(n),
        partitions=len(res),
        seconds=round(secs, 3),
        rows_per_second=round(n / work, 1) if work > 0 else float("inf"),
        worker_peak_rss_mb=round(max(r["rss_mb"] for r in res), 1),
        bytes_written=int(sum(r["bytes"] for r in res)),
        workers=n_workers,
        startup_seconds=round(t_ready - t0, 3),
    )


def partition_files(source: str | os.PathLike | list[Any]) -> list[Path]:
    """The partition files of ``source``: a list of files, a folder (its ``.parquet`` files,
    sorted), a glob pattern or one file.

    Raises
    ------
    DataError
        When no file matches or a listed file does not exist.
    """
    if isinstance(source, list | tuple):
        files = [Path(p) for p in source]
    else:
        p = Path(source)
        if p.is_dir():
            files = sorted(p.glob("*.parquet"))
        elif any(ch in str(source) for ch in "*?["):
            files = (
                sorted(Path().glob(str(source)))
                if not p.is_absolute()
                else sorted(Path(p.anchor).glob(str(p.relative_to(p.anchor))))
            )
        else:
            files = [p]
    missing = [str(f) for f in files if not f.is_file()]
    if not files or missing:
        raise DataError(
            f"no partition files found at {source!r}"
            + (f" (missing: {missing[:3]})" if missing else "")
            + "; give a folder of .parquet files, a glob or a list of files"
        )
    return files


def _simulate_part(fn: Callable[..., pd.DataFrame], src: str, i: int, seed: int, tmp: str):
    t0 = time.perf_counter()
    df = pd.read_parquet(src) if src.endswith((".parquet", ".pq")) else pd.read_csv(src)
    out = fn(df, np.random.default_rng(partition_seed(seed, i)))
    if not isinstance(out, pd.DataFrame):
        raise DataError(f"the simulation function returned {type(out).__name__}, not a DataFrame")
    dest = Path(tmp) / f"part-{i:05d}.parquet"
    out.to_parquet(dest, index=False)
    return {"i": i, "rows": len(out), "bytes": dest.stat().st_size,
            "seconds": time.perf_counter() - t0, "rss_mb": _rss_mb()}  # fmt: skip


def simulate_partitioned(
    source: str | os.PathLike | list[Any],
    fn: Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame],
    out_dir: str | os.PathLike,
    *,
    scheduler: Any = "local",
    workers: int = 2,
    seed: int = 0,
    overwrite: bool = False,
    timeout: float = 10.0,
    processes: bool = True,
) -> PartitionedResult:
    """Apply a vectorised per-partition function to a partitioned population, on Dask.

    ``fn(partition, rng) -> DataFrame`` is called once per input partition (e.g. the folder
    :func:`sample_partitioned` wrote) with ``rng`` seeded from ``(seed, partition index)``, so a
    scenario (a price change, an A/B variant, churn over a year...) simulated on 100 million
    synthetic customers gives the same result whatever the number of workers. ``fn`` must be
    importable by the workers (a module-level function, not a lambda, with process workers).
    Output: one Parquet file per input partition in ``out_dir``, written atomically.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"spend": [10.0, 20.0]}).to_parquet(d / "part-0.parquet")
    >>> def price_rise(df, rng):
    ...     return df.assign(spend_after=df.spend * 0.9)
    >>> r = simulate_partitioned(d, price_rise, d / "sim", scheduler="sync")
    >>> pd.read_parquet(r.path).spend_after.tolist()
    [9.0, 18.0]
    """
    files = partition_files(source)
    out, tmp = _prepare_out(out_dir, overwrite)
    t0 = time.perf_counter()
    try:
        args = [(fn, str(f), i, int(seed), str(tmp)) for i, f in enumerate(files)]
        with dask_client(scheduler, workers, timeout=timeout, processes=processes) as client:
            res = run_tasks(_simulate_part, args, client)
            n_workers = None if client is None else len(client.scheduler_info()["workers"])
        manifest = {"source": [str(f) for f in files], "seed": int(seed),
                    "function": getattr(fn, "__qualname__", str(fn))}  # fmt: skip
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        _install(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    secs = time.perf_counter() - t0
    rows = int(sum(r["rows"] for r in res))
    return PartitionedResult(
        path=str(out),
        rows=rows,
        partitions=len(res),
        seconds=round(secs, 3),
        rows_per_second=round(rows / secs, 1) if secs > 0 else float("inf"),
        worker_peak_rss_mb=round(max(r["rss_mb"] for r in res), 1),
        bytes_written=int(sum(r["bytes"] for r in res)),
        workers=n_workers,
    )
