"""What discovery returns (:class:`Suggestion`, :class:`CheckResult`) and the typed view and
measures every part of :mod:`synthcust.constraints.discover` shares."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust.constraints.common import count_decimals
from synthcust.constraints.plan import ConstraintPlan
from synthcust.exceptions import SchemaError
from synthcust.rules.constraints import (
    AllowedValues,
    Constraint,
    FixedCombinations,
    Identity,
    UniqueKey,
)
from synthcust.schema.model import Schema

__all__ = [
    "CheckResult",
    "Suggestion",
    "column_as_float",
    "expression_name",
    "measure",
    "stored_tolerance",
    "typed_view",
]

_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = {"and", "or", "not", "in", "is", "if", "else", "True", "False", "None"}


@dataclass(frozen=True)
class Suggestion:
    """A constraint the data (nearly) obeys.

    ``holds``: share of the checked rows that obey it; ``support``: rows it was checked on
    (rows where the columns it reads are present; every row for keys and combinations);
    ``reason``: why it is suggested. ``exact`` is ``holds == 1``: only exact suggestions can be
    enforced (a near-rule would be refused by :meth:`ConstraintPlan.fit`).
    """

    constraint: Constraint
    holds: float
    support: int
    reason: str

    @property
    def exact(self) -> bool:
        return self.holds >= 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "constraint": self.constraint.to_dict(),
            "description": self.constraint.describe(),
            "holds": self.holds,
            "support": self.support,
            "exact": self.exact,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CheckResult:
    """How many rows of a table obey one constraint (``share`` is ``None`` when not checked)."""

    constraint: Constraint
    share: float | None
    support: int
    failing: int
    note: str = ""


def typed_view(df: pd.DataFrame, schema: Schema, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` as the constraint checks see them: numbers, timestamps or raw values."""
    return ConstraintPlan((), schema).fit(df).typed(df, columns)


def column_as_float(s: pd.Series) -> np.ndarray:
    """A typed column as floats (datetimes as days since 1970); NaN where missing."""
    if pd.api.types.is_datetime64_any_dtype(s):
        v = s.to_numpy(dtype="datetime64[ns]")
        out = v.astype("int64").astype(float) / 86400e9
        out[np.isnat(v)] = np.nan
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def expression_name(col: str) -> str:
    """A column as written in an expression (backticks when it is not a plain name)."""
    if _SAFE_NAME.fullmatch(col) and col not in _KEYWORDS:
        return col
    if "`" in col:
        raise SchemaError(f"column {col!r} contains a backtick and cannot appear in an identity")
    return f"`{col}`"


def stored_tolerance(x: np.ndarray) -> float:
    """Half a unit of the last decimal the column is stored with (1e-6 when it has more)."""
    k = count_decimals(x)
    return 1e-6 if k is None else 0.5 * 10.0 ** (-k)


def measure(con: Constraint, typed: pd.DataFrame) -> tuple[float, int]:
    """Share of the checked rows of ``typed`` that obey ``con``, and how many were checked."""
    ok = con.check(typed, typed)
    if isinstance(con, Identity):
        mask = np.ones(len(typed), dtype=bool)
        for c in con.inputs:
            mask &= typed[c].notna().to_numpy()
    elif isinstance(con, FixedCombinations | UniqueKey | AllowedValues):
        mask = np.ones(len(typed), dtype=bool)
    else:
        mask = np.ones(len(typed), dtype=bool)
        for c in con.columns:
            mask &= typed[c].notna().to_numpy()
    n = int(mask.sum())
    return (float(ok[mask].mean()) if n else 1.0), n
