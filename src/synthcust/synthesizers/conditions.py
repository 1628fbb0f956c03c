"""Sampling conditions: fixed values, sets of values and numeric/date ranges per column.

Python: ``{"sex": "Female", "workclass": ["Private", "State-gov"], "age": Range(30, 40)}``.
CLI: ``--condition sex=Female``, ``workclass=Private|State-gov``, ``age=30..40``, ``age>=30``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import ConditionError
from synthcust.transform.codec import ColumnSpec, TableCodec


@dataclass(frozen=True)
class Range:
    """A closed numeric (or date) range; either end may be open (``None``)."""

    low: Any = None
    high: Any = None
    low_inclusive: bool = True
    high_inclusive: bool = True


@dataclass(frozen=True)
class CategoricalCondition:
    column: str
    codes: tuple[int, ...]  # -1 = missing
    values: tuple[Any, ...]


@dataclass(frozen=True)
class NumericCondition:
    column: str
    low: float  # in encoded units (numbers, days or seconds for dates)
    high: float
    shown: str  # as the user wrote it, for messages


Condition = CategoricalCondition | NumericCondition

_OP_RE = re.compile(r"^\s*([^<>=!]+?)\s*(>=|<=|==|=|>|<)\s*(.*?)\s*$")


def parse_condition_text(text: str) -> tuple[str, Any]:
    """Parse one CLI condition (``col=value``, ``col=a|b``, ``col=lo..hi``, ``col>=x``)."""
    m = _OP_RE.match(text)
    if not m or not m.group(3):
        raise ConditionError(
            f"cannot read condition {text!r}; write col=value, col=a|b, col=low..high or col>=x"
        )
    col, op, val = m.group(1).strip(), m.group(2), m.group(3)
    if op in ("=", "=="):
        if ".." in val:
            lo, hi = val.split("..", 1)
            return col, Range(lo or None, hi or None)
        if "|" in val:
            return col, val.split("|")
        return col, val
    if op == ">=":
        return col, Range(val, None)
    if op == ">":
        return col, Range(val, None, low_inclusive=False)
    if op == "<=":
        return col, Range(None, val)
    return col, Range(None, val, high_inclusive=False)


def compile_conditions(conditions: Mapping[str, Any] | None, codec: TableCodec) -> list[Condition]:
    """Validate user conditions against the fitted columns; all problems raised at once."""
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
        lo = -math.inf if rng.low is None else _to_number(spec, rng.low)
        hi = math.inf if rng.high is None else _to_number(spec, rng.high)
        if not rng.low_inclusive:
            lo = np.nextafter(lo, math.inf) if not spec.integer else math.floor(lo) + 1.0
        if not rng.high_inclusive:
            hi = np.nextafter(hi, -math.inf) if not spec.integer else math.ceil(hi) - 1
        if spec.integer:
            lo = math.ceil(lo) if math.isfinite(lo) else lo
            hi = math.floor(hi) if math.isfinite(hi) else hi
        shown = (
            f"{rng.low}"
            if rng.low == rng.high
            else f"{rng.low if rng.low is not None else ''}.."
            f"{rng.high if rng.high is not None else ''}"
        )
        if lo > hi:
            raise ConditionError(f"column {spec.name!r}: range {shown} is empty (low > high)")
        return NumericCondition(spec.name, float(lo), float(hi), shown)
    raise ConditionError(
        f"column {spec.name!r} is {spec.kind} and is not modelled, so it cannot be conditioned on"
    )


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


def _to_number(spec: ColumnSpec, v: Any) -> float:
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
        import pandas as pd

        scale = 86400 if spec.datetime_unit == "D" else 1
        return str(pd.Timestamp(int(v * scale), unit="s"))
    return f"{v:g}"
