"""Rule-based segments: named conditions such as "price-sensitive frequent buyers".

A rule is a small boolean expression over columns, parsed safely with :mod:`ast` (nothing is
evaluated)::

    discount_share > 0.3 and orders_per_year >= 6
    loyalty_tier in ['gold', 'platinum'] and 25 <= age < 40
    region == 'North' or region == 'East'

Supported: comparisons (``< <= > >= == !=``), chained comparisons, ``in`` / ``not in`` lists,
``and``, and ``or`` between conditions on the *same* column. A rule compiles to exact
sampling conditions, so sampling a segment never rejects rows and always honours the rule.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.threads import AST_LOCK
from synthcust._utils.validation import unknown_column_message
from synthcust.exceptions import SegmentError
from synthcust.rules.conditions import Range


@dataclass(frozen=True)
class Segment:
    """A named rule; ``conditions`` is its compiled form, ready for ``sample(conditions=...)``."""

    name: str
    rule: str
    conditions: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @staticmethod
    def parse(name: str, rule: str) -> Segment:
        return Segment(name, rule, parse_rule(rule, name))


# internal constraint per column: ("set", frozenset) | ("notset", frozenset) | ("range", lo, hi,
# lo_incl, hi_incl)
_Constraint = tuple


def parse_rule(rule: str, name: str = "segment") -> dict[str, Any]:
    """Compile ``rule`` into sampling conditions ``{column: value | [values] | Range}``."""
    if not isinstance(rule, str) or not rule.strip():
        raise SegmentError(f"segment {name!r}: the rule is empty")
    try:
        with AST_LOCK:
            tree = ast.parse(rule.strip(), mode="eval")
    except SyntaxError as e:
        raise SegmentError(
            f"segment {name!r}: cannot read rule {rule!r} ({e.msg} at column {e.offset}); "
            'write e.g. "discount_share > 0.3 and orders_per_year >= 6"'
        ) from e
    constraints = _node(tree.body, name, rule)
    out: dict[str, Any] = {}
    for col, c in constraints.items():
        if c[0] == "set":
            vals = sorted(c[1], key=str)
            out[col] = vals[0] if len(vals) == 1 else vals
        elif c[0] == "notset":
            raise SegmentError(
                f"segment {name!r}: '{col} not in / !=' needs the list of allowed values; "
                f"write '{col} in [...]' with the values you want instead"
            )
        else:
            _, lo, hi, li, hi_incl = c
            out[col] = Range(
                None if lo == -math.inf else lo,
                None if hi == math.inf else hi,
                low_inclusive=li,
                high_inclusive=hi_incl,
            )
    return out


def _node(node: ast.AST, name: str, rule: str) -> dict[str, _Constraint]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        merged: dict[str, _Constraint] = {}
        for v in node.values:
            for col, c in _node(v, name, rule).items():
                merged[col] = _intersect(merged[col], c, col, name) if col in merged else c
        return merged
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        parts = [_node(v, name, rule) for v in node.values]
        cols = {col for p in parts for col in p}
        if len(cols) != 1 or any(len(p) != 1 for p in parts):
            raise SegmentError(
                f"segment {name!r}: 'or' is supported only between conditions on the same column "
                f"(here: {sorted(cols)}); define one segment per alternative instead"
            )
        col = cols.pop()
        cs = [p[col] for p in parts]
        if all(c[0] == "set" for c in cs):
            return {col: ("set", frozenset().union(*(c[1] for c in cs)))}
        raise SegmentError(
            f"segment {name!r}: 'or' of ranges on {col!r} is not supported; use one range"
        )
    if isinstance(node, ast.Compare):
        return _compare(node, name, rule)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        raise SegmentError(f"segment {name!r}: 'not' is not supported; state the allowed values")
    raise SegmentError(
        f"segment {name!r}: cannot use {ast.unparse(node)!r} in a rule; use comparisons of a "
        "column with numbers or strings joined by 'and'"
    )


def _literal(node: ast.AST, name: str) -> Any:
    try:
        with AST_LOCK:
            return ast.literal_eval(node)
    except (ValueError, SyntaxError) as e:
        raise SegmentError(
            f"segment {name!r}: {ast.unparse(node)!r} is not a literal value "
            "(quote strings: 'gold')"
        ) from e


def _compare(node: ast.Compare, name: str, rule: str) -> dict[str, _Constraint]:
    operands = [node.left, *node.comparators]
    out: dict[str, _Constraint] = {}
    for left, op, right in zip(operands, node.ops, operands[1:], strict=False):
        if isinstance(left, ast.Name) and not isinstance(right, ast.Name):
            col, val, flip = left.id, _literal(right, name), False
        elif isinstance(right, ast.Name) and not isinstance(left, ast.Name):
            col, val, flip = right.id, _literal(left, name), True
        else:
            raise SegmentError(
                f"segment {name!r}: {ast.unparse(node)!r} must compare one column with a value "
                "(comparing two columns is not supported)"
            )
        c = _op_constraint(op, val, flip, col, name)
        out[col] = _intersect(out[col], c, col, name) if col in out else c
    return out


def _op_constraint(op: ast.cmpop, val: Any, flip: bool, col: str, name: str) -> _Constraint:
    inf = math.inf
    if isinstance(op, ast.In | ast.NotIn):
        if flip or not isinstance(val, list | tuple | set):
            raise SegmentError(f"segment {name!r}: write '{col} in [value, ...]'")
        return ("set" if isinstance(op, ast.In) else "notset", frozenset(val))
    if isinstance(op, ast.Eq):
        return ("set", frozenset([val]))
    if isinstance(op, ast.NotEq):
        return ("notset", frozenset([val]))
    if not isinstance(val, int | float) or isinstance(val, bool):
        raise SegmentError(
            f"segment {name!r}: {col!r} is compared with {val!r} using an order; use a number"
        )
    if flip:  # value OP col  ==  col OP' value
        op = {ast.Lt: ast.Gt(), ast.LtE: ast.GtE(), ast.Gt: ast.Lt(), ast.GtE: ast.LtE()}[type(op)]
    v = float(val)
    if isinstance(op, ast.Gt):
        return ("range", v, inf, False, True)
    if isinstance(op, ast.GtE):
        return ("range", v, inf, True, True)
    if isinstance(op, ast.Lt):
        return ("range", -inf, v, True, False)
    if isinstance(op, ast.LtE):
        return ("range", -inf, v, True, True)
    raise SegmentError(f"segment {name!r}: operator not supported in {col!r}")


def _intersect(a: _Constraint, b: _Constraint, col: str, name: str) -> _Constraint:
    if a[0] == "range" and b[0] == "range":
        lo, li = (a[1], a[3]) if (a[1], not a[3]) > (b[1], not b[3]) else (b[1], b[3])
        hi, hi_i = (a[2], a[4]) if (a[2], a[4]) < (b[2], b[4]) else (b[2], b[4])
        if lo > hi or (lo == hi and not (li and hi_i)):
            raise SegmentError(f"segment {name!r}: the conditions on {col!r} contradict each other")
        return ("range", lo, hi, li, hi_i)
    if a[0] == "range" or b[0] == "range":
        sets = a if a[0] != "range" else b
        rng = b if sets is a else a
        if sets[0] == "set":
            kept = frozenset(v for v in sets[1] if _in_range(v, rng))
            if not kept:
                raise SegmentError(f"segment {name!r}: the conditions on {col!r} contradict")
            return ("set", kept)
        raise SegmentError(f"segment {name!r}: combine '!=' with a range on {col!r} differently")
    if a[0] == "set" and b[0] == "set":
        kept = a[1] & b[1]
    elif a[0] == "set":
        kept = a[1] - b[1]
    elif b[0] == "set":
        kept = b[1] - a[1]
    else:
        return ("notset", a[1] | b[1])
    if not kept:
        raise SegmentError(f"segment {name!r}: the conditions on {col!r} contradict each other")
    return ("set", kept)


def _in_range(v: Any, rng: _Constraint) -> bool:
    _, lo, hi, li, hi_i = rng
    try:
        x = float(v)
    except (TypeError, ValueError):
        return False
    return (x > lo or (li and x == lo)) and (x < hi or (hi_i and x == hi))


def segment_mask(
    df: pd.DataFrame, conditions: Mapping[str, Any], name: str = "segment"
) -> np.ndarray:
    """Boolean mask of the rows of ``df`` in the segment (vectorised)."""
    mask = np.ones(len(df), dtype=bool)
    for col, cond in conditions.items():
        if col not in df.columns:
            raise SegmentError(
                f"segment {name!r}: " + unknown_column_message(col, list(map(str, df.columns)))
            )
        s = df[col]
        if isinstance(cond, Range):
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if pd.api.types.is_datetime64_any_dtype(s.dtype):
                raise SegmentError(f"segment {name!r}: date ranges in rules are not supported yet")
            m = ~np.isnan(x)
            if cond.low is not None:
                m &= (x >= float(cond.low)) if cond.low_inclusive else (x > float(cond.low))
            if cond.high is not None:
                m &= (x <= float(cond.high)) if cond.high_inclusive else (x < float(cond.high))
        else:
            vals = cond if isinstance(cond, list) else [cond]
            m = s.isin(vals).to_numpy() | s.astype(str).isin([str(v) for v in vals]).to_numpy()
        mask &= m
    return mask


def check_segment(df: pd.DataFrame, seg: Segment) -> int:
    """Number of real rows in the segment; :class:`SegmentError` if none."""
    k = int(segment_mask(df, seg.conditions, seg.name).sum())
    if k == 0:
        raise SegmentError(
            f"segment {seg.name!r} ({seg.rule}) matches no customer in the data, so there is "
            "nothing to learn it from; loosen the rule"
        )
    return k


def load_segments(spec: Mapping[str, str]) -> dict[str, Segment]:
    """Parse ``{name: rule}`` (e.g. from a segments JSON file); all errors at once."""
    out: dict[str, Segment] = {}
    problems = []
    for name, rule in spec.items():
        try:
            out[name] = Segment.parse(name, rule)
        except SegmentError as e:
            problems.append(str(e))
    if problems:
        raise SegmentError("; ".join(problems))
    return out
