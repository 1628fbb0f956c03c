"""torch plumbing shared by the neural synthesizers: import, device, seeds, safe weights.

torch is an optional dependency (the ``deep`` extra). Importing this module never imports
torch; :func:`require_torch` does, and says how to install it when it is missing.

Weights are stored as plain NumPy arrays inside the synthcust model file (JSON + ``.npz``, read
with ``allow_pickle=False``): :func:`state_to_arrays` / :func:`arrays_to_state` convert a
``state_dict``. Nothing is ever unpickled, so a model file from an untrusted source cannot run
code (``torch.load`` of a pickle could).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from synthcust.exceptions import ModelError

_INSTALL = (
    "the neural synthesizers need torch: pip install 'synthcust[deep]' "
    "(on a CPU-only machine install the CPU build first, e.g. pip install torch==2.13.0)"
)


def require_torch() -> Any:
    """Import and return torch, or raise :class:`ModelError` saying how to install it."""
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ModelError(_INSTALL) from e
    return torch


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_device(device: str | None) -> Any:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``... or None/``"auto"`` (CUDA when present, else CPU)."""
    torch = require_torch()
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ModelError(
            f"device {device!r} is not a torch device; use 'cpu', 'cuda' or 'auto'"
        ) from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} asked for, but torch sees no CUDA GPU; use 'cpu'")
    return dev


def torch_seed(rng: np.random.Generator) -> int:
    """A torch seed drawn from the synthesizer's NumPy generator (so random_state rules all)."""
    return int(rng.integers(0, 2**63 - 1))


@contextlib.contextmanager
def deterministic(seed: int, threads: int | None = None) -> Iterator[Any]:
    """Seeded torch generator, deterministic kernels and (optionally) a thread count.

    Yields a ``torch.Generator`` to pass to every random call, so results depend on
    ``seed`` alone and not on what else ran in the process.
    """
    torch = require_torch()
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    det_mod = getattr(getattr(torch, "utils", None), "deterministic", None)
    old_fill = getattr(det_mod, "fill_uninitialized_memory", None)
    if threads is None:
        threads = min(old_threads, os.cpu_count() or 1)
    torch.set_num_threads(max(1, threads))
    torch.use_deterministic_algorithms(True, warn_only=True)
    if old_fill is not None:
        # deterministic mode NaN-fills every new tensor (a fill per allocation, ~7% of a small
        # network's step); our code never reads memory it has not written, so skip it
        det_mod.fill_uninitialized_memory = False
    gen = torch.Generator().manual_seed(seed)
    try:
        # the global RNG too (default weight inits, dropout), restored afterwards so the
        # caller's torch random state is untouched
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield gen
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)
        if old_fill is not None:
            det_mod.fill_uninitialized_memory = old_fill


def state_to_arrays(state: dict[str, Any], prefix: str = "w.") -> dict[str, np.ndarray]:
    """A module's ``state_dict`` as NumPy arrays (float32 kept as float32), keys prefixed."""
    return {prefix + k: v.detach().cpu().numpy().copy() for k, v in state.items()}


def arrays_to_state(arrays: dict[str, np.ndarray], prefix: str = "w.") -> dict[str, Any]:
    """Inverse of :func:`state_to_arrays`: tensors for ``module.load_state_dict``."""
    torch = require_torch()
    return {
        k[len(prefix) :]: torch.from_numpy(np.ascontiguousarray(v))
        for k, v in arrays.items()
        if k.startswith(prefix)
    }


PRECISIONS = ("auto", "float32", "bfloat16")


def native_bf16() -> bool:
    """True when this CPU multiplies bfloat16 matrices in hardware (AVX512-BF16 or AMX).

    On other CPUs torch emulates bfloat16 and it is slower than float32, so ``"auto"``
    precision never picks it there.
    """
    torch = require_torch()
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(cpu, probe, None)
        if fn is not None:
            try:
                if fn():
                    return True
            except (RuntimeError, AttributeError):  # pragma: no cover - old/odd builds
                pass
    return False


def resolve_precision(precision: str, device: Any) -> str:
    """``"float32"`` or ``"bfloat16"`` for the training matrix products on ``device``.

    ``"auto"`` is bfloat16 mixed precision on a CPU with native bfloat16 units (about twice
    the float32 matrix throughput; weights, optimiser state and losses stay float32) and
    float32 everywhere else, GPUs included (not tested here).
    """
    if precision not in PRECISIONS:
        raise ModelError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "auto":
        return "bfloat16" if device.type == "cpu" and native_bf16() else "float32"
    return precision


def autocast(torch: Any, device: Any, precision: str) -> Any:
    """Mixed-precision context for a training step (a no-op for float32)."""
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
