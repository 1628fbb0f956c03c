"""Sampling conditions checked against a fitted codec, in the units the models learn.

:func:`compile_conditions` turns the user's conditions (values, lists, :class:`Range`, see
:mod:`synthcust.rules.conditions`) into :class:`CategoricalCondition` (category codes) and
:class:`NumericCondition` (a closed interval in encoded units: numbers, days or seconds).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import ConditionError
from synthcust.rules.conditions import Range
from synthcust.transform.codec import ColumnSpec, TableCodec

__all__ = [
    "CategoricalCondition",
    "Condition",
    "NumericCondition",
    "compile_conditions",
    "show_number",
    "to_number",
]


@dataclass(frozen=True)
class CategoricalCondition:
    """A condition on a categorical column: the allowed category codes (``-1``: missing)."""

    column: str
    codes: tuple[int, ...]  # -1 = missing
    values: tuple[Any, ...]


@dataclass(frozen=True)
class NumericCondition:
    """A condition on a numeric or datetime column: ``low <= x <= high`` in encoded units."""

    column: str
    low: float  # in encoded units (numbers, days or seconds for dates)
    high: float
    shown: str  # as the user wrote it, for messages


Condition = CategoricalCondition | NumericCondition
"""A compiled condition."""


def compile_conditions(conditions: Mapping[str, Any] | None, codec: TableCodec) -> list[Condition]:
    """Validate user conditions against the fitted columns; all problems raised at once.

    Parameters
    ----------
    conditions : mapping or None
        ``{column: value | [values] | Range}`` as the user gave them.
    codec : TableCodec
        The fitted codec whose columns the conditions refer to.

    Returns
    -------
    list of Condition
        One compiled condition per column, in encoded units.

    Raises
    ------
    ConditionError
        Naming every unknown column, unknown value or empty range at once.
    """
    if not conditions:
        return []
    out: list[Condition] = []
    problems: list[str] = []
    specs = {s.name: s for s in codec.specs_}
    for col, value in conditions.items():
        spec = specs.get(col)
        if spec is None:
            hint = difflib.get_close_matches(str(col), list(specs), n=1)
            problems.append(
                f"condition on unknown column {col!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
            )
            continue
        try:
            out.append(_compile_one(spec, value))
        except ConditionError as e:
            problems.append(str(e))
    if problems:
        raise ConditionError("; ".join(problems))
    return out


def _compile_one(spec: ColumnSpec, value: Any) -> Condition:
    if spec.kind == "categorical":
        values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        if any(isinstance(v, Range) for v in values):
            raise ConditionError(f"column {spec.name!r} is categorical: give values, not a range")
        codes = []
        for v in values:
            codes.append(_category_code(spec, v))
        return CategoricalCondition(spec.name, tuple(codes), tuple(values))
    if spec.kind in ("numeric", "datetime"):
        if isinstance(value, list | tuple | set | frozenset):
            raise ConditionError(
                f"column {spec.name!r} is numeric: give one value or a range (low..high), "
                "not a list"
            )
        rng = value if isinstance(value, Range) else Range(value, value)
        lo = -math.inf if rng.low is None else to_number(spec, rng.low)
        hi = math.inf if rng.high is None else to_number(spec, rng.high)
        if not rng.low_inclusive:
            lo = np.nextafter(lo, math.inf) if not spec.integer else math.floor(lo) + 1.0
        if not rng.high_inclusive:
            hi = np.nextafter(hi, -math.inf) if not spec.integer else math.ceil(hi) - 1
        if spec.integer:
            lo = math.ceil(lo) if math.isfinite(lo) else lo
            hi = math.floor(hi) if math.isfinite(hi) else hi
        elif spec.kind == "numeric" and spec.decimals is not None:
            lo, hi = _on_grid(rng, spec, lo, hi)
        shown = (
            f"{rng.low}"
            if rng.low == rng.high
            else f"{rng.low if rng.low is not None else ''}.."
            f"{rng.high if rng.high is not None else ''}"
        )
        if lo > hi:
            grid = (
                f" at the column's {spec.decimals} decimals"
                if spec.kind == "numeric" and not spec.integer and spec.decimals is not None
                else ""
            )
            raise ConditionError(
                f"column {spec.name!r}: range {shown} is empty{grid} (low > high); widen it"
            )
        return NumericCondition(spec.name, float(lo), float(hi), shown)
    raise ConditionError(
        f"column {spec.name!r} is {spec.kind} and is not modelled, so it cannot be conditioned on"
    )


def _on_grid(rng: Range, spec: ColumnSpec, lo: float, hi: float) -> tuple[float, float]:
    """The bounds moved onto the column's decimal grid, inwards.

    Samples are rounded to the real values' decimals after they are drawn, so a value drawn
    just above a strict bound (``x > 80``) would round back onto it (80.00); with the bounds on
    the grid (80.01), rounding keeps every value inside the condition. Inclusive bounds that
    are already on the grid stay where they are (float noise such as 80.1 * 100 is tolerated).
    """
    scale = 10.0 ** int(spec.decimals or 0)
    tol = 1e-6
    if rng.low is not None and math.isfinite(lo):
        low = to_number(spec, rng.low) * scale
        k = math.floor(low + tol) + 1 if not rng.low_inclusive else math.ceil(low - tol)
        lo = k / scale
    if rng.high is not None and math.isfinite(hi):
        high = to_number(spec, rng.high) * scale
        k = math.ceil(high - tol) - 1 if not rng.high_inclusive else math.floor(high + tol)
        hi = k / scale
    return lo, hi


def _category_code(spec: ColumnSpec, v: Any) -> int:
    if (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (spec.missing_token is not None and v == spec.missing_token)
        or (isinstance(v, str) and v in spec.markers)
    ):
        return -1
    cats = spec.categories
    if v in cats:
        return cats.index(v)
    as_str = [str(c) for c in cats]
    if str(v) in as_str:
        return as_str.index(str(v))
    low = [s.lower() for s in as_str]
    if str(v).lower() in low:
        return low.index(str(v).lower())
    try:  # a number written another way: 1 for a 0/1 flag stored as 1.0
        num = float(v)
    except (TypeError, ValueError):
        num = math.nan
    same = [
        i
        for i, c in enumerate(cats)
        if isinstance(c, int | float) and not isinstance(c, bool) and float(c) == num
    ]
    if same:
        return same[0]
    if str(v) in {str(r) for r in spec.rare}:
        raise ConditionError(
            f"column {spec.name!r}: value {v!r} is one of the rare categories pooled together "
            "when fitting, so it cannot be sampled exactly; raise max_categories to keep it"
        )
    hint = difflib.get_close_matches(str(v), as_str, n=3)
    shown = ", ".join(repr(c) for c in as_str[:15]) + (" ..." if len(as_str) > 15 else "")
    raise ConditionError(
        f"column {spec.name!r} has no value {v!r} in the data"
        + (f" (did you mean {' or '.join(repr(h) for h in hint)}?)" if hint else "")
        + f"; known values: {shown}"
    )


def to_number(spec: ColumnSpec, v: Any) -> float:
    """A condition value in the codec's units: a number, or days/seconds for a date.

    Parameters
    ----------
    spec : ColumnSpec
        The fitted column.
    v : object
        The value as the user gave it (a number, numeric text with thousands commas, a date).

    Returns
    -------
    float
        The value in encoded units.

    Raises
    ------
    ConditionError
        If ``v`` is not a number (or not a date for a datetime column).
    """
    if spec.kind == "datetime":
        try:
            ts = pd.Timestamp(v)
        except (ValueError, TypeError) as e:
            raise ConditionError(
                f"column {spec.name!r}: {v!r} is not a date; write e.g. 2024-01-31"
            ) from e
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        secs = ts.value / 1e9
        return secs / 86400.0 if spec.datetime_unit == "D" else secs
    try:
        return float(str(v).replace(",", "")) if isinstance(v, str) else float(v)
    except (TypeError, ValueError) as e:
        raise ConditionError(
            f"column {spec.name!r} is numeric but condition value {v!r} is not a number"
        ) from e


def show_number(spec: ColumnSpec, v: float) -> str:
    """A modelled number as the user knows it (datetimes back as timestamps), for messages."""
    if spec.kind == "datetime":
        scale = 86400 if spec.datetime_unit == "D" else 1
        return str(pd.Timestamp(int(v * scale), unit="s"))
    return f"{v:g}"
