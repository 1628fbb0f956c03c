"""Rule-based segments: named conditions such as "price-sensitive frequent buyers".

A rule is a small boolean expression over columns in the one expression language of
:mod:`synthcust.rules.expr` (parsed safely with :mod:`ast`, nothing is evaluated); the
``--where`` filter of ``synthcust sample`` is a rule too::

    discount_share > 0.3 and orders_per_year >= 6
    loyalty_tier in ['gold', 'platinum'] and 25 <= age < 40
    region == 'North' or region == 'East'

Supported: comparisons (``< <= > >= == !=``), chained comparisons, ``in`` / ``not in`` lists,
``and``, and ``or`` between conditions on the *same* column; column names with spaces in
backticks. A rule compiles to exact
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
from synthcust.rules.expr import Expr, parse


@dataclass(frozen=True)
class Segment:
    """A named rule; ``conditions`` is its compiled form, ready for ``sample(conditions=...)``."""

    name: str
    rule: str
    conditions: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @staticmethod
    def parse(name: str, rule: str) -> Segment:
        """The segment ``name`` defined by ``rule`` (compiled by :func:`parse_rule`)."""
        return Segment(name, rule, parse_rule(rule, name))


# internal constraint per column: ("set", frozenset) | ("notset", frozenset) | ("range", lo, hi,
# lo_incl, hi_incl)
_Constraint = tuple

_EXAMPLE = 'write e.g. "discount_share > 0.3 and orders_per_year >= 6"'


def parse_rule(rule: str, name: str = "segment") -> dict[str, Any]:
    """Compile ``rule`` into sampling conditions ``{column: value | [values] | Range}``.

    The rule is read by the one expression language (:func:`synthcust.rules.expr.parse`), so
    it takes the same syntax as constraints, backticked column names included; a segment
    then needs each condition to be a column compared with values.

    Parameters
    ----------
    rule : str
        The rule, e.g. ``"discount_share > 0.3 and orders_per_year >= 6"``.
    name : str
        The segment's name, for messages.

    Returns
    -------
    dict
        ``{column: value | [values] | Range}``, ready for ``sample(conditions=...)``.

    Raises
    ------
    SegmentError
        Naming the segment, the part of the rule at fault, its column and the fix.

    Examples
    --------
    >>> parse_rule("plan in ['gold', 'silver'] and age >= 30")
    {'plan': ['gold', 'silver'], 'age': Range(low=30.0, high=None, low_inclusive=True, \
high_inclusive=True)}
    """
    what = f"segment {name!r}"
    expr = parse(rule, what, predicate=True, error=SegmentError, example=_EXAMPLE)
    constraints = _Compiler(expr, what).node(expr.tree)
    out: dict[str, Any] = {}
    for col, c in constraints.items():
        if c[0] == "set":
            vals = sorted(c[1], key=str)
            out[col] = vals[0] if len(vals) == 1 else vals
        elif c[0] == "notset":
            raise SegmentError(
                f"{what}: '{col} not in / !=' needs the list of allowed values in "
                f"{expr.text!r}; write '{col} in [...]' with the values you want instead"
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


class _Compiler:
    """A parsed rule -> one internal constraint per column (exact, so sampling is exact)."""

    def __init__(self, expr: Expr, what: str):
        self.expr, self.what = expr, what

    def fail(self, node: ast.AST, problem: str, fix: str) -> SegmentError:
        return self.expr.error(self.what, node, problem, fix, SegmentError)  # type: ignore[return-value]

    def node(self, node: ast.AST) -> dict[str, _Constraint]:
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            merged: dict[str, _Constraint] = {}
            for v in node.values:
                for col, c in self.node(v).items():
                    merged[col] = self.intersect(merged[col], c, col) if col in merged else c
            return merged
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self.alternatives(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            raise self.fail(node, "'not' is not supported", "state the allowed values")
        raise self.fail(
            node,
            f"cannot use {self.expr.source(node)!r} in a rule",
            "use comparisons of a column with numbers or strings joined by 'and'",
        )

    def alternatives(self, node: ast.BoolOp) -> dict[str, _Constraint]:
        parts = [self.node(v) for v in node.values]
        cols = {col for p in parts for col in p}
        if len(cols) != 1 or any(len(p) != 1 for p in parts):
            raise self.fail(
                node,
                f"'or' is supported only between conditions on the same column "
                f"(here: {sorted(cols)})",
                "define one segment per alternative instead",
            )
        col = cols.pop()
        cs = [p[col] for p in parts]
        if all(c[0] == "set" for c in cs):
            return {col: ("set", frozenset().union(*(c[1] for c in cs)))}
        raise self.fail(node, f"'or' of ranges on {col!r} is not supported", "use one range")

    def literal(self, node: ast.AST) -> Any:
        try:
            with AST_LOCK:
                return ast.literal_eval(node)
        except (ValueError, SyntaxError):
            raise self.fail(
                node,
                f"{self.expr.source(node)!r} is not a literal value",
                "compare with a number or quoted text: 'gold'",
            ) from None

    def compare(self, node: ast.Compare) -> dict[str, _Constraint]:
        operands = [node.left, *node.comparators]
        out: dict[str, _Constraint] = {}
        for left, op, right in zip(operands, node.ops, operands[1:], strict=False):
            lcol, rcol = self.expr.column_name(left), self.expr.column_name(right)
            if lcol is not None and rcol is None:
                col, val, flip = lcol, self.literal(right), False
            elif rcol is not None and lcol is None:
                col, val, flip = rcol, self.literal(left), True
            else:
                raise self.fail(
                    node,
                    f"{self.expr.source(node)!r} must compare one column with a value "
                    "(comparing two columns is not supported)",
                    "write e.g. 'age >= 30'",
                )
            c = self.op_constraint(node, op, val, flip, col)
            out[col] = self.intersect(out[col], c, col) if col in out else c
        return out

    def op_constraint(
        self, node: ast.AST, op: ast.cmpop, val: Any, flip: bool, col: str
    ) -> _Constraint:
        inf = math.inf
        if isinstance(op, ast.In | ast.NotIn):
            if flip or not isinstance(val, list | tuple | set):
                raise self.fail(
                    node, "'in' needs a list of values", f"write '{col} in [value, ...]'"
                )
            return ("set" if isinstance(op, ast.In) else "notset", frozenset(val))
        if isinstance(op, ast.Eq):
            return ("set", frozenset([val]))
        if isinstance(op, ast.NotEq):
            return ("notset", frozenset([val]))
        if not isinstance(val, int | float) or isinstance(val, bool):
            raise self.fail(
                node, f"{col!r} is compared with {val!r} using an order", "use a number"
            )
        if flip:  # value OP col  ==  col OP' value
            op = {ast.Lt: ast.Gt(), ast.LtE: ast.GtE(), ast.Gt: ast.Lt(), ast.GtE: ast.LtE()}[
                type(op)
            ]
        v = float(val)
        if isinstance(op, ast.Gt):
            return ("range", v, inf, False, True)
        if isinstance(op, ast.GtE):
            return ("range", v, inf, True, True)
        if isinstance(op, ast.Lt):
            return ("range", -inf, v, True, False)
        return ("range", -inf, v, True, True)

    def intersect(self, a: _Constraint, b: _Constraint, col: str) -> _Constraint:
        try:
            return _intersect(a, b, col)
        except _Contradiction as e:
            raise self.fail(self.expr.tree, str(e), "loosen or remove one of them") from None


class _Contradiction(Exception):
    pass


def _intersect(a: _Constraint, b: _Constraint, col: str) -> _Constraint:
    """Both constraints on ``col`` at once; :class:`_Contradiction` when nothing is left."""
    if a[0] == "range" and b[0] == "range":
        lo, li = (a[1], a[3]) if (a[1], not a[3]) > (b[1], not b[3]) else (b[1], b[3])
        hi, hi_i = (a[2], a[4]) if (a[2], a[4]) < (b[2], b[4]) else (b[2], b[4])
        if lo > hi or (lo == hi and not (li and hi_i)):
            raise _Contradiction(f"the conditions on {col!r} contradict each other")
        return ("range", lo, hi, li, hi_i)
    if a[0] == "range" or b[0] == "range":
        sets = a if a[0] != "range" else b
        rng = b if sets is a else a
        if sets[0] == "set":
            kept = frozenset(v for v in sets[1] if _in_range(v, rng))
            if not kept:
                raise _Contradiction(f"the conditions on {col!r} contradict each other")
            return ("set", kept)
        raise _Contradiction(f"'!=' and a range on {col!r} cannot be combined; list the values")
    if a[0] == "set" and b[0] == "set":
        kept = a[1] & b[1]
    elif a[0] == "set":
        kept = a[1] - b[1]
    elif b[0] == "set":
        kept = b[1] - a[1]
    else:
        return ("notset", a[1] | b[1])
    if not kept:
        raise _Contradiction(f"the conditions on {col!r} contradict each other")
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
    """Boolean mask of the rows of ``df`` in the segment (vectorised).

    Parameters
    ----------
    df : pandas.DataFrame
        The rows.
    conditions : mapping
        The segment's compiled conditions (:attr:`Segment.conditions`).
    name : str
        The segment's name, for messages.

    Returns
    -------
    numpy.ndarray
        ``True`` for the rows in the segment.

    Raises
    ------
    SegmentError
        If a condition names a column ``df`` does not have.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [20, 35, 50], "plan": ["a", "b", "a"]})
    >>> segment_mask(df, parse_rule("age >= 30 and plan == 'a'")).tolist()
    [False, False, True]
    """
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
    """Parse ``{name: rule}`` (e.g. from a segments JSON file); all errors at once.

    Parameters
    ----------
    spec : mapping
        Segment name -> rule.

    Returns
    -------
    dict
        Segment name -> :class:`Segment`.

    Raises
    ------
    SegmentError
        Listing the problem of every malformed rule.
    """
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
