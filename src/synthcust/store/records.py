"""What the workspace stores and returns: records, errors, budget rules and value helpers.

Split from :mod:`synthcust.store.workspace`, which re-exports every public name here.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from synthcust.exceptions import SynthcustError

__all__ = [
    "DEFAULT_BUDGET",
    "MAX_EPSILON",
    "Budget",
    "BudgetError",
    "DatasetRecord",
    "LedgerEntry",
    "ModelRecord",
    "PrivacyParameterError",
    "RunRecord",
    "WorkspaceError",
    "check_budget_total",
    "fingerprint_of",
    "from_json",
    "prefix_pattern",
    "short_fingerprint",
    "to_json",
    "utc_now",
    "validate_privacy_parameters",
]

#: Total epsilon of a dataset that has no budget of its own.
DEFAULT_BUDGET = 10.0
#: Epsilons above this are refused unless ``allow_large=True``: they promise next to nothing.
MAX_EPSILON = 100.0


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


def check_budget_total(total: Any) -> float:
    """``total`` as a valid budget (a finite epsilon > 0), or :class:`BudgetError`."""
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


# --------------------------------------------------------------------------- values
def utc_now() -> str:
    """The current UTC time as ISO text (microseconds), as the store writes it."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def to_json(obj: Any, what: str) -> str:
    """``obj`` as sorted JSON text (``None`` as ``{}``); :class:`WorkspaceError` naming ``what``."""
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


def from_json(text: str | None) -> Any:
    """JSON text back to Python (``None`` stays ``None``)."""
    return None if text is None else json.loads(text)


def short_fingerprint(fp: str) -> str:
    """The first 12 characters of a fingerprint, as messages show it."""
    return fp[:12]


def fingerprint_of(fingerprint: str | DatasetRecord) -> str:
    """The full fingerprint of a record, or checked fingerprint text (lower case)."""
    if isinstance(fingerprint, DatasetRecord):
        return fingerprint.fingerprint
    fp = str(fingerprint).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", fp):
        raise WorkspaceError(
            f"{fingerprint!r} is not a dataset fingerprint (64 hex characters from "
            "synthcust.store.fingerprint_frame); look a prefix up with Workspace.dataset()"
        )
    return fp


def prefix_pattern(prefix: str) -> str:
    """A SQL ``LIKE`` pattern for a fingerprint prefix (hex digits only)."""
    p = str(prefix).strip().lower()
    if not re.fullmatch(r"[0-9a-f]*", p):
        raise WorkspaceError(f"{prefix!r} is not a fingerprint prefix (hex digits only)")
    return p + "%"
