"""Running per-partition work on Dask: a local cluster, a remote scheduler, or in-process.

``scheduler`` everywhere in :mod:`synthcust.scale` is one of

* ``"local"``: a :class:`distributed.LocalCluster` with ``workers`` single-threaded workers
  (processes by default), started for the call and closed after it;
* ``"sync"``: no Dask at all, partitions run one after another in this process (the reference
  for determinism, and a fallback where Dask is not installed);
* a scheduler address (``"tcp://host:8786"``): an existing cluster (dask-kubernetes,
  dask-jobqueue, Coiled, ``dask scheduler`` + ``dask worker``...). If it does not answer within
  ``timeout`` seconds, :class:`~synthcust.exceptions.SynthcustError` says so (no hang);
* a ``distributed.Client`` already connected.

Tasks are top-level functions of small arguments (paths, seeds, JSON-able dicts): what travels
to the workers is a description of the work, never the data; results are small dicts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from synthcust.exceptions import SynthcustError

__all__ = ["dask_client", "run_tasks"]

INSTALL_HINT = "install the scale extra: pip install 'synthcust[scale]' (dask[distributed])"


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise SynthcustError(
            f"Dask is not installed; {INSTALL_HINT}, or use scheduler='sync'"
        ) from e
    return distributed


@contextlib.contextmanager
def dask_client(
    scheduler: Any = "local",
    workers: int = 2,
    *,
    timeout: float = 10.0,
    processes: bool = True,
) -> Iterator[Any]:
    """Yield a connected ``distributed.Client`` (or ``None`` for ``scheduler="sync"``).

    A local cluster started here is closed on exit; a client passed in is left open.
    """
    if scheduler in ("sync", "synchronous", None):
        yield None
        return
    distributed = _require_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SynthcustError(f"workers must be a whole number >= 1, got {workers!r}")
    if scheduler == "local":
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # no fixed port: never clashes with a running one
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster, timeout=timeout)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise SynthcustError(
            f"scheduler must be 'local', 'sync' or an address like tcp://host:8786, got "
            f"{scheduler!r}"
        )
    addr = scheduler.strip()
    try:
        client = distributed.Client(addr, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise SynthcustError(
            f"could not reach the Dask scheduler at {addr!r} within {timeout:g} s ({e}); check "
            "the address (e.g. tcp://host:8786) and that the scheduler is running and "
            "reachable, or use --dask local"
        ) from e
    try:
        yield client
    finally:
        client.close()


def run_tasks(
    fn: Callable[..., Any],
    args: Sequence[tuple[Any, ...]],
    client: Any,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """``[fn(*a) for a in args]``, on the cluster when ``client`` is given; results in order.

    Results are gathered as they finish (each is small), so the caller's memory does not grow
    with the work done on the workers.
    """
    total = len(args)
    out: list[Any] = [None] * total
    if client is None:
        for i, a in enumerate(args):
            out[i] = fn(*a)
            if progress:
                progress(i + 1, total)
        return out
    from distributed import as_completed

    futures = [client.submit(fn, *a, pure=False) for a in args]
    index = {f.key: i for i, f in enumerate(futures)}
    done = 0
    try:
        for fut in as_completed(futures):
            out[index[fut.key]] = fut.result()
            fut.release()
            done += 1
            if progress:
                progress(done, total)
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return out
