"""Which columns personas are built on, and how each is read (learned in ``fit``).

:func:`plan_columns` leaves out ids, keys, PII, free text, constant and entirely missing
columns (naming one of them explicitly is an error) and learns the category levels kept per
column; :class:`ColumnPlan` then reads any table the same way (numbers as floats, dates as days
since 1970-01-01, categories as text with ``(missing)`` and ``(other)`` levels).

>>> import pandas as pd
>>> plan = plan_columns(pd.DataFrame({"age": [30, 40, 50], "plan": ["a", "b", "a"]}))
>>> plan.numeric, plan.categorical
(['age'], ['plan'])
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.validation import unknown_column_message
from synthcust.exceptions import DataError
from synthcust.privacy import infer_schema_with_pii
from synthcust.schema.model import Column, Kind, Schema

__all__ = [
    "MISSING_LEVEL",
    "OTHER_LEVEL",
    "ColumnPlan",
    "days_since_epoch",
    "plan_columns",
    "to_datetime",
]

MISSING_LEVEL = "(missing)"
OTHER_LEVEL = "(other)"


@dataclass
class ColumnPlan:
    """Which columns are used and how each is read (JSON-able; learned in ``fit``)."""

    numeric: list[str]
    dates: list[str]  # the numeric columns that hold dates (used as days since 1970)
    categorical: list[str]
    levels: dict[str, list[str]]
    markers: dict[str, list[str]]
    notes: list[str]
    formats: dict[str, str] = dataclasses.field(default_factory=dict)  # dates read from text

    @property
    def used(self) -> list[str]:
        """Every used column: numeric (dates included), then categorical."""
        return [*self.numeric, *self.categorical]

    @property
    def n_levels(self) -> list[int]:
        """The number of levels of each categorical column."""
        return [len(self.levels[c]) for c in self.categorical]

    def clean(
        self, df: pd.DataFrame, check: bool = False, keep_dates: bool = False
    ) -> pd.DataFrame:
        """The used columns: numbers as float (dates as days), categories as text or NaN."""
        if check:
            missing = [c for c in self.used if c not in df.columns]
            if missing:
                raise DataError(
                    f"columns {missing} the personas were built on are not in the table; "
                    f"it has {list(df.columns)[:20]}"
                )
        out = {}
        for c in self.used:
            s = df[c]
            if self.markers.get(c):
                s = s.mask(s.astype(str).str.strip().str.lower().isin(self.markers[c]))
            if c in self.dates:
                t = to_datetime(s, self.formats.get(c))
                out[c] = t if keep_dates else days_since_epoch(t)
            elif c in self.numeric:
                out[c] = pd.to_numeric(s, errors="coerce").astype(float)
            else:
                out[c] = s.astype(object).where(s.notna(), None).map(
                    lambda v: None if v is None else str(v)
                )
        return pd.DataFrame(out, index=df.index)

    def codes(self, clean: pd.DataFrame, col: str) -> np.ndarray:
        """Level index per row; missing -> ``(missing)``, unseen -> ``(other)``, else -1."""
        levels = self.levels[col]
        s = clean[col]
        codes = pd.Index(levels).get_indexer(s.astype(object)).astype(np.int64)  # unseen: -1
        codes[s.isna().to_numpy()] = -1
        if MISSING_LEVEL in levels:
            codes[s.isna().to_numpy()] = levels.index(MISSING_LEVEL)
        if OTHER_LEVEL in levels:
            codes[(codes < 0) & s.notna().to_numpy()] = levels.index(OTHER_LEVEL)
        return codes

    def to_dict(self) -> dict[str, Any]:
        """The plan as a JSON-able dict."""
        return asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ColumnPlan:
        """A plan from :meth:`to_dict`'s dict."""
        return ColumnPlan(
            list(d["numeric"]), list(d["dates"]), list(d["categorical"]),
            {k: list(v) for k, v in d["levels"].items()},
            {k: list(v) for k, v in d["markers"].items()}, list(d.get("notes", [])),
            {k: str(v) for k, v in (d.get("formats") or {}).items()},
        )


def to_datetime(s: pd.Series, fmt: str | None) -> pd.Series:
    """Datetimes of ``s``; text parsed with the schema's format, unparseable values missing."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    return pd.to_datetime(s, errors="coerce", format=fmt) if fmt else \
        pd.to_datetime(s, errors="coerce", format="mixed")


def days_since_epoch(t: pd.Series) -> pd.Series:
    """Datetimes as (float) days since 1970-01-01, NaN where missing."""
    t = t.dt.tz_localize(None) if getattr(t.dt, "tz", None) is not None else t
    v = t.astype("datetime64[s]").astype("int64").astype(float) / 86400.0
    return v.where(t.notna())



def _exclusion_reason(col: Column | None) -> str | None:
    """Why a column can never be used for personas (from its schema entry), or ``None``."""
    if col is None:
        return "not in the schema"
    if col.pii is not None:
        return f"PII: {col.pii.value}"
    if col.kind in (Kind.ID, Kind.TEXT):
        return f"an {col.kind.value} column" if col.kind == Kind.ID else "free text"
    if col.role is not None and col.role.value == "key":
        return "a key column"
    return None


def _masked(s: pd.Series, col: Column) -> pd.Series:
    """``s`` with the schema's missing markers (``"unknown"``, ...) read as missing."""
    mk = [m.strip().lower() for m in col.missing_markers]
    return s.mask(s.astype(str).str.strip().str.lower().isin(mk)) if mk else s


def _category_levels(
    name: str, s: pd.Series, max_levels: int, explicit: bool, notes: list[str]
) -> tuple[list[str] | None, str | None]:
    """``(levels, None)`` for a usable categorical column, ``(None, reason)`` otherwise."""
    text = s.dropna().astype(str)
    vc = text.value_counts()
    if not explicit and len(vc) > 50 and len(vc) > 0.5 * len(text):
        return None, f"near-unique categories ({len(vc):,} distinct)"
    keep = [str(v) for v in vc.index[: max_levels if len(vc) <= max_levels else max_levels - 1]]
    if len(vc) > len(keep):
        keep.append(OTHER_LEVEL)
        notes.append(
            f"column {name!r}: {len(vc) - len(keep) + 1} rare categories pooled "
            f"as {OTHER_LEVEL!r} (max_levels={max_levels})"
        )
    if s.isna().any():
        keep.append(MISSING_LEVEL)
    return keep, None


def _candidate_names(
    df: pd.DataFrame, columns: list[str] | None, exclude: list[str] | None
) -> list[str]:
    known = [str(c) for c in df.columns]
    if columns is not None:
        if not columns:
            raise DataError("columns is empty; name at least one column to segment on")
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise DataError(unknown_column_message(unknown[0], known))
        return list(dict.fromkeys(columns))
    skip = set(exclude or [])
    unknown = sorted(skip - set(known))
    if unknown:
        raise DataError(unknown_column_message(unknown[0], known))
    return [c for c in df.columns if c not in skip]


def plan_columns(
    df: pd.DataFrame,
    *,
    schema: Schema | None = None,
    columns: list[str] | None = None,
    exclude: list[str] | None = None,
    max_levels: int = 30,
) -> ColumnPlan:
    """Pick the columns personas are built on and learn how to read each.

    Never used: id/key columns, PII (any column the schema marks with a PII kind), free text,
    constant or entirely missing columns. Naming one of those in ``columns`` is an error;
    the automatic choice leaves them out and says so in ``notes``.

    Parameters
    ----------
    df
        The customer table.
    schema
        Its schema (default: inferred from ``df``).
    columns
        Columns to use (default: every usable one).
    exclude
        Columns to leave out of the automatic choice.
    max_levels
        Category levels kept per column; rarer ones are pooled as ``(other)``.

    Returns
    -------
    ColumnPlan
        The used columns and how each is read, with ``notes`` on what was left out and why.
    """
    if schema is None:
        schema = infer_schema_with_pii(df)
    explicit = columns is not None
    names = _candidate_names(df, columns, exclude)
    numeric: list[str] = []
    dates: list[str] = []
    cats: list[str] = []
    notes: list[str] = []
    why: list[str] = []
    levels: dict[str, list[str]] = {}
    markers: dict[str, list[str]] = {}
    formats: dict[str, str] = {}
    for name in names:
        col = schema[name] if name in schema else None  # noqa: SIM401 (Schema has no get)
        reason = _exclusion_reason(col)
        if reason is None:
            assert col is not None
            s = _masked(df[name], col)
            if s.isna().all():
                reason = "entirely missing"
            elif s.nunique(dropna=True) < 2:
                reason = "constant (one value)"
            elif col.kind in (Kind.NUMERIC, Kind.DATETIME):
                is_date = col.kind == Kind.DATETIME
                vals = days_since_epoch(to_datetime(s, col.datetime_format)) if is_date \
                    else pd.to_numeric(s, errors="coerce")
                if vals.notna().sum() == 0:
                    reason = "entirely missing (no value reads as a number or date)"
                else:
                    numeric.append(name)
                    if is_date:
                        dates.append(name)
                        if col.datetime_format:
                            formats[name] = col.datetime_format
            else:
                keep, reason = _category_levels(name, s, max_levels, explicit, notes)
                if keep is not None:
                    levels[name] = keep
                    cats.append(name)
        if reason is not None:
            if explicit:
                raise DataError(
                    f"column {name!r} cannot be used for personas: it is {reason}; "
                    "leave it out of the columns"
                )
            why.append(f"{name} ({reason})")
        elif col is not None and col.missing_markers:
            markers[name] = [m.strip().lower() for m in col.missing_markers]
    if not numeric and not cats:
        detail = "; ".join(why) if why else "no columns"
        raise DataError(
            f"no usable columns for personas: {detail}. Personas need numeric, categorical, "
            "boolean or date columns that are not ids or PII"
        )
    if why:
        notes.insert(0, "left out (ids, PII and free text are never used): " + ", ".join(why))
    notes.extend(f"date column {c!r} used as days since 1970-01-01" for c in dates)
    return ColumnPlan(numeric, dates, cats, levels, markers, notes, formats)
