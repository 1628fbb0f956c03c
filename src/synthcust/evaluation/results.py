"""Result types shared by every evaluation module and rendered by the report.

Evaluation functions are pure: frames in, a :class:`SectionResult` out. The report only renders
them. Every :class:`Metric` carries how it was measured (``method``), a reference value where
one exists (the real-vs-real ceiling), and, for gated figures, its threshold and status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Status = Literal["pass", "warn", "fail", "info"]


@dataclass(frozen=True)
class Metric:
    """One headline figure.

    Attributes
    ----------
    key: stable machine name (``"detection_auc"``).
    label: what a person reads ("Detection AUC (C2ST)").
    value: the figure (``None`` when it could not be computed; ``note`` says why).
    reference: the same figure for real train vs real holdout (the ceiling), if any.
    threshold: the bar the status is judged against, if any.
    better: ``"higher"``, ``"lower"`` or ``"closer_to:<x>"``; used for colouring.
    status: pass / warn / fail / info.
    method: how it was measured, in one or two sentences.
    note: anything the reader must know (skips, sample sizes).
    """

    key: str
    label: str
    value: float | None
    reference: float | None = None
    threshold: float | None = None
    better: str = "higher"
    status: Status = "info"
    method: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The metric, JSON-safe (NaN and infinities as None)."""
        return {
            "key": self.key,
            "label": self.label,
            "value": finite_or_none(self.value),
            "reference": finite_or_none(self.reference),
            "threshold": finite_or_none(self.threshold),
            "better": self.better,
            "status": self.status,
            "method": self.method,
            "note": self.note,
        }


@dataclass
class SectionResult:
    """The result of one evaluation area (fidelity, detection, utility, privacy).

    ``tables`` hold per-column or per-pair details (rendered as tables/plots);
    ``skipped`` says what was not computed and why; ``extra`` holds plot data.
    """

    name: str
    metrics: list[Metric] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    method: str = ""

    def metric(self, key: str) -> Metric:
        """The metric ``key`` (KeyError if the section has none)."""
        for m in self.metrics:
            if m.key == key:
                return m
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """The section, JSON-safe (tables as records)."""
        return {
            "name": self.name,
            "method": self.method,
            "metrics": [m.to_dict() for m in self.metrics],
            "tables": {k: frame_records(v) for k, v in self.tables.items()},
            "skipped": list(self.skipped),
            "extra": jsonable(self.extra),
        }


def finite_or_none(v: Any) -> Any:
    """``v`` as a float, None for NaN/inf/None; non-numbers as they are."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return None if math.isnan(f) or math.isinf(f) else f


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame (index as columns) as JSON-safe records."""
    return jsonable(df.reset_index().to_dict(orient="records"))


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy values, frames, series and NaN made JSON-safe (recursively)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return frame_records(obj)
    if isinstance(obj, pd.Series):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float):
        return finite_or_none(obj)
    if obj is pd.NA or obj is pd.NaT:
        return None
    return obj
