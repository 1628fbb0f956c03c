"""Declarative business-rule constraints: what they mean, JSON, and a vectorised check.

Every constraint reads a few columns and says, per row, whether the row obeys it
(:meth:`Constraint.check`, a boolean NumPy array). A row in which a value the constraint reads
is missing obeys it, except for :class:`AllowedValues` (missing only when listed as ``None``)
and :class:`UniqueKey` (a key is never missing). How a synthesizer *enforces* them is in
:mod:`synthcust.constraints.plan`.

=====================  ==========================================  ===============================
JSON ``type``          meaning                                     enforced by
=====================  ==========================================  ===============================
``inequality``         ``high >= low`` (``>`` when ``strict``)     modelling ``high - low``
``range``              ``low <= column <= high``                   rejection
``fixed_combinations`` only combinations seen in the real data     one token for the combination
``identity``           ``column == expression`` (within tolerance) deriving the column
``rule``               ``if <predicate> then <predicate>``         rejection
``allowed_values``     ``column in values``                        rejection
``unique_key``         unique, never missing, optional ``format``  generating the keys
=====================  ==========================================  ===============================
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthcust.exceptions import SchemaError
from synthcust.rules.expr import Expr, parse


def _as_bool(r: Any, n: int) -> np.ndarray:
    if isinstance(r, pd.Series):
        return r.fillna(False).to_numpy(dtype=bool)
    return np.full(n, bool(r))


def _present(df: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    ok = np.ones(len(df), dtype=bool)
    for c in cols:
        ok &= df[c].notna().to_numpy()
    return ok


def _bound(v: Any) -> Any:
    """A bound from JSON: a number, or a date/time given as ISO text."""
    if v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
        return v
    if isinstance(v, str):
        try:
            return pd.Timestamp(v)
        except ValueError:
            pass
    raise SchemaError(f"bound {v!r} must be a number or an ISO date/time like '2024-01-31'")


def _json_bound(v: Any) -> Any:
    return v.isoformat() if isinstance(v, pd.Timestamp) else v


@dataclass(frozen=True)
class Constraint:
    """Base class; see the module table for the kinds."""

    type: ClassVar[str] = ""

    @property
    def columns(self) -> tuple[str, ...]:
        raise NotImplementedError

    def check(self, df: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
        """Per row of ``df``: does it obey the constraint? (``reference``: the real data,
        for the constraints that depend on it.)"""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class Inequality(Constraint):
    """``high >= low`` (or ``high > low``): numbers or dates, e.g. last order after first."""

    low: str
    high: str
    strict: bool = False
    type: ClassVar[str] = "inequality"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.low, self.high)

    def check(self, df: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
        a, b = df[self.low], df[self.high]
        r = (b > a) if self.strict else (b >= a)
        return _as_bool(r, len(df)) | ~_present(df, self.columns)

    def describe(self) -> str:
        return f"{self.high} {'>' if self.strict else '>='} {self.low}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "low": self.low, "high": self.high}
        if self.strict:
            d["strict"] = True
        return d


@dataclass(frozen=True)
class Range(Constraint):
    """``low <= column <= high`` (either side may be open); numbers or dates."""

    column: str
    low: Any = None
    high: Any = None
    type: ClassVar[str] = "range"

    def __post_init__(self) -> None:
        object.__setattr__(self, "low", _bound(self.low))
        object.__setattr__(self, "high", _bound(self.high))
        if self.low is None and self.high is None:
            raise SchemaError(f"range on {self.column!r} needs a low or a high bound")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise SchemaError(
                f"range on {self.column!r}: low {self.low} is above high {self.high}; "
                "no value can satisfy it"
            )

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def check(self, df: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
        s = df[self.column]
        ok = np.ones(len(df), dtype=bool)
        if self.low is not None:
            ok &= _as_bool(s >= self.low, len(df))
        if self.high is not None:
            ok &= _as_bool(s <= self.high, len(df))
        return ok | s.isna().to_numpy()

    def describe(self) -> str:
        lo = "" if self.low is None else f"{_json_bound(self.low)} <= "
        hi = "" if self.high is None else f" <= {_json_bound(self.high)}"
        return f"{lo}{self.column}{hi}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "column": self.column}
        if self.low is not None:
            d["low"] = _json_bound(self.low)
        if self.high is not None:
            d["high"] = _json_bound(self.high)
        return d


@dataclass(frozen=True)
class FixedCombinations(Constraint):
    """Only the combinations of ``columns`` that occur in the real data (city/region pairs).

    Also how a functional dependency (``StoreID`` decides ``Store7``) is kept.
    """

    columns_: tuple[str, ...]
    type: ClassVar[str] = "fixed_combinations"

    def __post_init__(self) -> None:
        cols = tuple(self.columns_)
        object.__setattr__(self, "columns_", cols)
        if len(cols) < 2 or len(set(cols)) != len(cols):
            raise SchemaError(
                f"fixed_combinations needs two or more different columns, got {list(cols)}"
            )

    @property
    def columns(self) -> tuple[str, ...]:
        return self.columns_

    def check(self, df: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
        if reference is None:
            raise SchemaError(f"checking {self.describe()} needs the real data as reference")
        seen = combo_keys(reference, self.columns_)
        return np.isin(combo_keys(df, self.columns_), np.unique(seen))

    def describe(self) -> str:
        return f"fixed combinations of {', '.join(self.columns_)}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "columns": list(self.columns_)}


def combo_keys(df: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    """One text key per row for the values of ``cols`` (missing values included), vectorised.

    Whole numbers are written without a decimal part whatever the dtype, so ``1`` in an
    integer column and ``1.0`` in a float column give the same key.
    """
    key = None
    for c in cols:
        part = _key_part(df[c])
        key = part if key is None else key + "\x1f" + part
    assert key is not None
    return key.to_numpy(dtype=object)


def _key_part(s: pd.Series) -> pd.Series:
    s = s.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean").astype(str)
    if pd.api.types.is_numeric_dtype(s.dtype):
        x = s.to_numpy(dtype=float, na_value=np.nan)
        fin = np.isfinite(x)
        if np.all(np.mod(x[fin], 1) == 0):
            return (
                pd.Series(pd.array(np.where(fin, x, 0).astype(np.int64), dtype="Int64"))
                .where(fin, pd.NA)
                .astype(str)
            )
        return pd.Series(x).astype(str)
    return s.astype(object).where(s.notna(), None).astype(str)


@dataclass(frozen=True)
class Identity(Constraint):
    """``column == expression`` within ``tolerance``, e.g. ``SalePriceMM == PriceMM - DiscMM``."""

    column: str
    expression: str
    tolerance: float = 1e-6
    _expr: Expr = field(init=False, repr=False, compare=False)
    type: ClassVar[str] = "identity"

    def __post_init__(self) -> None:
        e = parse(self.expression, f"identity for {self.column!r}")
        if self.column in e.columns:
            raise SchemaError(
                f"identity {self.column} == {self.expression}: the column appears on both sides"
            )
        if not e.columns:
            raise SchemaError(
                f"identity {self.column} == {self.expression} reads no column; "
                f"use a range or allowed values to fix {self.column!r} to a constant"
            )
        if not isinstance(self.tolerance, int | float) or self.tolerance < 0:
            raise SchemaError(f"identity tolerance must be a number >= 0, got {self.tolerance!r}")
        object.__setattr__(self, "_expr", e)

    @property
    def inputs(self) -> tuple[str, ...]:
        return self._expr.columns

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *self._expr.columns)

    def compute(self, df: pd.DataFrame) -> pd.Series:
        v = self._expr.evaluate(df, lambda c: pd.to_numeric(df[c], errors="coerce"))
        if not isinstance(v, pd.Series):
            v = pd.Series(v, index=df.index)
        return v.astype(float)

    def check(self, df: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
        want = self.compute(df).to_numpy()
        got = pd.to_numeric(df[self.column], errors="coerce").to_numpy(dtype=float)
        ok = np.abs(got - want) <= self.tolerance + 1e-9 * np.abs(want)
        return ok | np.isnan(want) | np.isnan(got) & np.isnan(want)

    def describe(self) -> str:
        return f"{self.column} == {self.expression}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "column": self.column,
            "expression": self.expression,
        }
        if self.tolerance != 1e-6:
            d["tolerance"] = self.tolerance
        return d


@dataclass(frozen=True)
class Rule(Constraint):
    """``if <condition> then <requirement>``, e.g. ``if segment == 'student' then age <= 30``.

    Without ``if_`` the requirement holds on every row.
    """

    then: str
    if_: str | None = None
    _then: Expr = field(init=False, repr=False, compare=False)
    _if: Expr | None = field(init=False, repr=False, compare=False)
    type: ClassVar[str] = "rule"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_then", parse(self.then, "rule 'then' part", predicate=True))
        cond = None if self.if_ is None else parse(self.if_, "rule 'if' part", predicate=True)
        object.__setattr__(self, "_if", cond)
        for e in (self._then, self._if):
            if e is not None and not _is_condition(e.tree):
                raise SchemaError(
                    f"rule part {e.text!r} is not a condition; write e.g. 'age <= 30'"
                )

    @property
    def if_expr(self) -> Expr | None:
        """The parsed ``if`` part (``None`` when the requirement holds on every row)."""
        return self._if

    @property
    def then_expr(self) -> Expr:
        """The parsed requirement."""
        return self._then

    @property
    def columns(self) -> tuple[str, ...]:
        cols = self._then.columns + (self._if.columns if self._if else ())
        return tuple(dict.fromkeys(cols))

    def check(self, df: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
        n = len(df)
        then = _as_bool(self._then.evaluate(df), n) | ~_present(df, self._then.columns)
        if self._if is None:
            return then
        return ~_as_bool(self._if.evaluate(df), n) | then

    def describe(self) -> str:
        return self.then if self.if_ is None else f"if {self.if_} then {self.then}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        if self.if_ is not None:
            d["if"] = self.if_
        d["then"] = self.then
        return d


def _is_condition(tree: ast.expr) -> bool:
    if isinstance(tree, ast.Compare | ast.BoolOp | ast.UnaryOp):
        return True
    return (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Name)
        and tree.func.id in ("isnull", "notnull")
    )


@dataclass(frozen=True)
class AllowedValues(Constraint):
    """``column`` takes only ``values`` (``None`` in the list allows missing)."""

    column: str
    values: tuple[Any, ...]
    type: ClassVar[str] = "allowed_values"

    def __post_init__(self) -> None:
        vals = tuple(self.values)
        if not vals:
            raise SchemaError(f"allowed_values for {self.column!r} lists no value")
        object.__setattr__(self, "values", vals)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def check(self, df: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
        s = df[self.column]
        ok = s.isin([v for v in self.values if v is not None]).to_numpy(dtype=bool)
        if None in self.values:
            ok |= s.isna().to_numpy()
        return ok

    def describe(self) -> str:
        return f"{self.column} in {list(self.values)}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "column": self.column, "values": list(self.values)}


_FORMAT_RE = re.compile(r"#+")


@dataclass(frozen=True)
class UniqueKey(Constraint):
    """Unique, never-missing keys; ``format`` like ``CUST-######`` (``#`` = one digit)."""

    column: str
    format: str | None = None
    type: ClassVar[str] = "unique_key"

    def __post_init__(self) -> None:
        f = self.format
        if f is not None and (not isinstance(f, str) or len(_FORMAT_RE.findall(f)) != 1):
            raise SchemaError(
                f"unique_key format for {self.column!r} must hold one run of '#' digits, "
                f"e.g. 'CUST-######'; got {f!r}"
            )

    @property
    def capacity(self) -> int | None:
        """How many distinct keys the format can produce (``None``: unlimited)."""
        if self.format is None:
            return None
        return 10 ** len(_FORMAT_RE.search(self.format).group(0))  # type: ignore[union-attr]

    @property
    def regex(self) -> re.Pattern[str] | None:
        if self.format is None:
            return None
        m = _FORMAT_RE.search(self.format)
        assert m is not None
        pre, post = self.format[: m.start()], self.format[m.end() :]
        return re.compile(f"{re.escape(pre)}\\d{{{m.end() - m.start()}}}{re.escape(post)}")

    def make(self, n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` distinct keys in random order (raises when the format has too few)."""
        cap = self.capacity
        if cap is not None and n > cap:
            raise SchemaError(
                f"unique_key {self.column!r}: format {self.format!r} makes at most {cap:,} "
                f"distinct keys, {n:,} rows asked for; add '#' digits to the format"
            )
        if cap is None:
            return pd.Series(np.arange(1, n + 1))
        nums = rng.choice(cap, size=n, replace=False)
        m = _FORMAT_RE.search(self.format)  # type: ignore[arg-type]
        assert m is not None
        width = m.end() - m.start()
        digits = pd.Series(nums).astype(str).str.zfill(width)
        return self.format[: m.start()] + digits + self.format[m.end() :]  # type: ignore[index]

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def check(self, df: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
        s = df[self.column]
        ok = s.notna().to_numpy() & ~s.duplicated(keep=False).to_numpy()
        rx = self.regex
        if rx is not None:
            ok &= s.astype(str).str.fullmatch(rx).fillna(False).to_numpy(dtype=bool)
        return ok

    def describe(self) -> str:
        return f"{self.column} is a unique key" + (f" like {self.format}" if self.format else "")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "column": self.column}
        if self.format is not None:
            d["format"] = self.format
        return d
