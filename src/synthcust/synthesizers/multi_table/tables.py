"""What the relational model remembers about each table, and how it prepares one for learning.

:class:`TableInfo` (JSON-serialisable) records a table's columns, keys, order column and the
aggregates its children contribute; :class:`KeyStyle` makes synthetic keys that look like the
real ones; :func:`add_child_aggregates` joins the per-parent summaries of a child table
(number of children, first timestamp, reach, means) onto the parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.schema.model import Column, Kind
from synthcust.schema.relational import RelationalSpec

__all__ = ["MAX_MEANS", "KeyStyle", "TableInfo", "add_child_aggregates", "time_step", "to_seconds"]

#: at most this many numeric child columns are averaged onto the parent
MAX_MEANS = 6


def to_seconds(s: pd.Series, fmt: str | None = None) -> np.ndarray:
    """Datetimes (or text dates) -> float seconds since the epoch, NaN for missing."""
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = pd.to_datetime(s, format=fmt, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = s.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
    ns[s.isna().to_numpy()] = np.nan
    return ns / 1e9


def time_step(sec: np.ndarray) -> int:
    """The coarsest unit (day, hour, minute, second) every timestamp in ``sec`` is a whole
    number of."""
    v = sec[np.isfinite(sec)]
    for step in (86400, 3600, 60, 1):
        if len(v) and np.all(np.mod(v, step) == 0):
            return step
    return 1


@dataclass
class KeyStyle:
    """How synthetic keys of one column look: integers, or a prefix and zero-padded numbers."""

    integer: bool
    prefix: str = ""
    width: int = 0
    start: int = 1

    @staticmethod
    def learn(s: pd.Series, table: str) -> KeyStyle:
        nn = s.dropna()
        if pd.api.types.is_integer_dtype(s.dtype) or (
            pd.api.types.is_float_dtype(s.dtype) and len(nn) and (nn % 1 == 0).all()
        ):
            return KeyStyle(True, start=int(nn.max()) + 1 if len(nn) else 1)
        m = nn.astype(str).str.extract(r"^(\D*?)(\d+)$")
        if len(nn) and m[1].notna().all() and m[0].nunique() == 1:
            return KeyStyle(
                False, str(m[0].iloc[0]), int(m[1].str.len().max()), int(m[1].astype(int).max()) + 1
            )
        return KeyStyle(False, f"{table}-", 8, 1)

    def make(self, n: int) -> pd.Series:
        k = np.arange(self.start, self.start + n, dtype=np.int64)
        if self.integer:
            return pd.Series(k)
        digits = np.char.zfill(k.astype(str), self.width)
        return pd.Series(np.char.add(self.prefix, digits).astype(object))


@dataclass
class TableInfo:
    """What the model remembers about one table (JSON-serialisable)."""

    name: str
    columns: list[str]  # the real table's column order
    pk: str | None
    fk: str | None
    order_by: str | None
    order_format: str | None
    time_step: int
    t_max: float | None
    modelled: list[str]  # real columns the models learn (not keys, ids, text, order_by)
    dropped: list[str]  # ids / free text left out
    features: list[str]  # modelled + aggregates: what a row of this table is described by
    means: dict[str, list[str]]  # child table -> child columns averaged onto this table
    pk_style: dict[str, Any] | None = None
    dtypes: dict[str, str] = field(default_factory=dict)


def add_child_aggregates(
    frame: pd.DataFrame,
    cols: list[Column],
    t: str,
    spec: RelationalSpec,
    infos: Mapping[str, TableInfo],
    prepared: Mapping[str, pd.DataFrame],
) -> dict[str, list[str]]:
    """Join the per-parent summaries of each child of table ``t`` onto ``frame`` (in place).

    For every child: the number of children ``__n.<child>``, with an order column the first
    timestamp ``__first.<child>`` and the reach ``__reach.<child>``, and the mean of up to
    :data:`MAX_MEANS` numeric child columns ``__mean.<child>.<col>``. Their column
    descriptions are appended to ``cols``; children must be prepared already (bottom-up).

    Returns
    -------
    dict
        Child table -> the child columns averaged onto ``t``.
    """
    means: dict[str, list[str]] = {}
    for r in spec.children_of(t):
        ci = infos[r.child]
        child = prepared[r.child]
        g = child.groupby("__key", sort=False)
        keyvals = frame["__pk"]
        n = keyvals.map(g.size()).fillna(0).to_numpy(dtype=float)
        frame[f"__n.{r.child}"] = n
        cols.append(Column(f"__n.{r.child}", Kind.NUMERIC, integer=True))
        if ci.order_by:
            first = keyvals.map(g["__t"].min()).to_numpy(dtype=float)
            last = keyvals.map(g["__t"].max()).to_numpy(dtype=float)
            frame[f"__first.{r.child}"] = first
            room = np.maximum(float(ci.t_max) - first, 1.0)  # type: ignore[arg-type]
            frame[f"__reach.{r.child}"] = np.clip((last - first) / room, 0.0, 1.0)
            cols += [
                Column(f"__first.{r.child}", Kind.NUMERIC),
                Column(f"__reach.{r.child}", Kind.NUMERIC, lower=0.0, upper=1.0),
            ]
        num = [
            c
            for c in ci.features
            if pd.api.types.is_numeric_dtype(child[c].dtype)
            and not pd.api.types.is_bool_dtype(child[c].dtype)
            and not c.startswith(("__first.", "__reach."))
        ][:MAX_MEANS]
        means[r.child] = num
        if num:
            agg = g[num].mean()
            for c in num:
                name = f"__mean.{r.child}.{c}"
                frame[name] = keyvals.map(agg[c]).to_numpy(dtype=float)
                cols.append(Column(name, Kind.NUMERIC))
    return means
