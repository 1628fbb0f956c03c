"""Small helpers shared by constraint enforcement (:mod:`~synthcust.constraints.plan`) and
discovery (:mod:`~synthcust.constraints.discover`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["count_decimals", "find_cycle", "frame_of_columns", "json_value"]


def frame_of_columns(cols: Mapping[str, Any], n: int) -> pd.DataFrame:
    """A frame from columns without consolidating them into 2-D blocks (no extra copy)."""
    if not cols:
        return pd.DataFrame(index=pd.RangeIndex(n))
    parts = [
        (v.reset_index(drop=True) if isinstance(v, pd.Series) else pd.Series(v)).rename(k)
        for k, v in cols.items()
    ]
    return pd.concat(parts, axis=1)


def count_decimals(x: np.ndarray) -> int | None:
    """Fewest decimals (0..10) that represent every finite value of ``x`` (None: more).

    >>> import numpy as np
    >>> count_decimals(np.array([1.5, 2.25, np.nan]))
    2
    """
    f = x[np.isfinite(x)]
    for k in range(11):
        if np.all(np.abs(np.round(f, k) - f) <= 1e-9 * np.maximum(1.0, np.abs(f))):
            return k
    return None


def json_value(v: Any) -> Any:
    """A cell as a plain JSON value: missing -> ``None``, NumPy scalars -> Python, timestamps
    -> ISO text."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
        return None if isinstance(v, float) and math.isnan(v) else v
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle in a directed graph as a node list (first node repeated at the end), or None.

    >>> find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]})
    ['a', 'b', 'c', 'a']
    >>> find_cycle({"a": ["b"]}) is None
    True
    """
    color: dict[str, int] = {}
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        color[u] = 1
        stack.append(u)
        for v in edges.get(u, ()):
            if color.get(v) == 1:
                return [*stack[stack.index(v) :], v]
            if color.get(v) is None:
                found = visit(v)
                if found:
                    return found
        stack.pop()
        color[u] = 2
        return None

    for u in list(edges):
        if color.get(u) is None:
            found = visit(u)
            if found:
                return found
    return None
