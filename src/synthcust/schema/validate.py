"""Check a table against a schema and report every problem at once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthcust.schema.model import Column, Kind, Schema


@dataclass(frozen=True)
class Problem:
    """One problem found by :func:`validate`: ``error`` blocks fitting, ``warning`` does not."""

    column: str | None
    severity: str  # "error" | "warning"
    message: str

    def __str__(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        return f"{self.severity}: {where}{self.message}"


def validate(df: pd.DataFrame, schema: Schema) -> list[Problem]:
    """Every mismatch between ``df`` and ``schema`` (empty list = fine).

    >>> from synthcust.schema.infer import infer_schema
    >>> df = pd.DataFrame({"age": [30, 40, 50]})
    >>> validate(df, infer_schema(df))
    []
    """
    problems: list[Problem] = []
    cols = [str(c) for c in df.columns]
    counts = Counter(cols)
    for d in sorted(c for c, k in counts.items() if k > 1):
        problems.append(Problem(d, "error", "appears more than once; rename the duplicates"))
    if len(df) < 2:
        problems.append(Problem(None, "error", f"the table has {len(df)} row(s); need at least 2"))
    for name in schema.names:
        if name not in counts:
            problems.append(Problem(name, "error", "is in the schema but not in the data"))
    for name in cols:
        if name not in schema:
            problems.append(
                Problem(name, "warning", "is in the data but not in the schema; it will be ignored")
            )
    for col in schema:
        if counts.get(col.name, 0) != 1:
            continue
        problems += _column_problems(col, df[col.name])
    return problems


def _column_problems(col: Column, s: pd.Series) -> list[Problem]:
    """What in the values ``s`` of one column does not fit its description ``col``."""
    problems: list[Problem] = []
    if col.missing_markers and (
        pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)
    ):
        s = s.where(~s.isin(list(col.missing_markers)))
    nn = s.dropna()
    if len(nn) == 0 and col.kind != Kind.CONSTANT:
        return [Problem(col.name, "warning", "has no values at all (all missing)")]
    if col.kind == Kind.NUMERIC:
        problems += _numeric_problems(col, nn)
    elif col.kind == Kind.DATETIME and not pd.api.types.is_datetime64_any_dtype(nn.dtype):
        parsed = pd.to_datetime(nn.astype(str), format=col.datetime_format, errors="coerce")
        bad = nn[parsed.isna()]
        if len(bad):
            problems.append(
                Problem(
                    col.name,
                    "error",
                    f"{len(bad)} value(s) do not parse as dates in format "
                    f"{col.datetime_format!r} (e.g. {bad.iloc[0]!r}); fix them or add them to "
                    "missing_markers",
                )
            )
    elif col.kind == Kind.BOOLEAN and nn.nunique() > 2:
        problems.append(
            Problem(
                col.name,
                "error",
                f"is marked boolean but has {nn.nunique()} distinct values; make it categorical",
            )
        )
    elif col.kind == Kind.CONSTANT and nn.nunique() > 1:
        problems.append(
            Problem(
                col.name,
                "error",
                f"is marked constant but has {nn.nunique()} distinct values; re-infer its kind",
            )
        )
    if col.pii is not None and col.pii_policy is not None and col.pii_policy.value == "keep":
        problems.append(
            Problem(
                col.name,
                "warning",
                f"holds PII ({col.pii.value}) and is kept by your choice",
            )
        )
    return problems


def _numeric_problems(col: Column, nn: pd.Series) -> list[Problem]:
    """Values of a numeric column (``nn``: the present ones) that are not numbers, not
    integers, infinite or out of bounds."""
    problems: list[Problem] = []
    if pd.api.types.is_numeric_dtype(nn.dtype) and not pd.api.types.is_bool_dtype(nn.dtype):
        vals = nn.to_numpy(dtype=float)
    else:
        parsed = pd.to_numeric(nn.astype(str).str.replace(",", "", regex=False), errors="coerce")
        bad = nn[parsed.isna()]
        if len(bad):
            problems.append(
                Problem(
                    col.name,
                    "error",
                    f"{len(bad)} value(s) are not numbers (e.g. {bad.iloc[0]!r}); "
                    "fix them, add "
                    "them to missing_markers, or make the column categorical",
                )
            )
        vals = parsed.dropna().to_numpy(dtype=float)
    inf = np.isinf(vals)
    if inf.any():
        problems.append(
            Problem(
                col.name,
                "warning",
                f"{int(inf.sum())} infinite value(s); they are treated as missing",
            )
        )
    fin = vals[~inf]
    if col.integer and len(fin) and np.any(np.mod(fin, 1) != 0):
        problems.append(Problem(col.name, "error", "is marked integer but has fractions"))
    if col.lower is not None and len(fin) and fin.min() < col.lower:
        problems.append(Problem(col.name, "warning", f"has values below lower {col.lower}"))
    if col.upper is not None and len(fin) and fin.max() > col.upper:
        problems.append(Problem(col.name, "warning", f"has values above upper {col.upper}"))
    return problems
