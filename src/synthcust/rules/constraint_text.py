"""Constraints from their two written forms: JSON objects (schema files) and one line of text
(the command line), both read into the declarations of :mod:`synthcust.rules.constraints`."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from synthcust.exceptions import SchemaError
from synthcust.rules.constraints import (
    AllowedValues,
    Constraint,
    FixedCombinations,
    Identity,
    Inequality,
    Range,
    Rule,
    UniqueKey,
)
from synthcust.rules.expr import Expr, parse

__all__ = ["KINDS", "constraint_from_dict", "parse_constraint"]

#: JSON ``type`` -> constraint class.
KINDS: dict[str, type[Constraint]] = {
    c.type: c
    for c in (Inequality, Range, FixedCombinations, Identity, Rule, AllowedValues, UniqueKey)
}


def constraint_from_dict(d: Mapping[str, Any], where: str = "") -> Constraint:
    """Build a constraint from its JSON object; a :class:`SchemaError` says what is wrong.

    Parameters
    ----------
    d : mapping
        The JSON object, e.g. ``{"type": "inequality", "low": "a", "high": "b"}``.
    where : str
        Where it comes from (``"#3"``), for messages.

    Returns
    -------
    Constraint
        The declaration.

    Raises
    ------
    SchemaError
        Naming the unknown type, the missing or unknown fields, or the invalid value.

    Examples
    --------
    >>> constraint_from_dict({"type": "range", "column": "age", "low": 18})
    Range(column='age', low=18, high=None)
    """
    at = f"constraint {where}: " if where else "constraint: "
    if not isinstance(d, Mapping):
        raise SchemaError(f"{at}must be an object, got {type(d).__name__}")
    kind = d.get("type")
    if kind not in KINDS:
        raise SchemaError(f"{at}unknown type {kind!r}; known types are {', '.join(KINDS)}")
    keys = {
        "inequality": ({"low", "high"}, {"strict"}),
        "range": ({"column"}, {"low", "high"}),
        "fixed_combinations": ({"columns"}, set()),
        "identity": ({"column", "expression"}, {"tolerance"}),
        "rule": ({"then"}, {"if"}),
        "allowed_values": ({"column", "values"}, set()),
        "unique_key": ({"column"}, {"format"}),
    }[kind]
    given = set(d) - {"type"}
    missing, unknown = keys[0] - given, given - keys[0] - keys[1]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {sorted(missing)}")
        if unknown:
            parts.append(f"unknown field(s) {sorted(unknown)}")
        allowed = sorted(keys[0] | keys[1])
        raise SchemaError(f"{at}{kind}: {'; '.join(parts)} (fields: {allowed})")
    try:
        if kind == "inequality":
            return Inequality(str(d["low"]), str(d["high"]), bool(d.get("strict", False)))
        if kind == "range":
            return Range(str(d["column"]), d.get("low"), d.get("high"))
        if kind == "fixed_combinations":
            cols = d["columns"]
            if not isinstance(cols, list):
                raise SchemaError(f"{at}'columns' must be a list of column names")
            return FixedCombinations(tuple(str(c) for c in cols))
        if kind == "identity":
            return Identity(str(d["column"]), d["expression"], float(d.get("tolerance", 1e-6)))
        if kind == "rule":
            return Rule(d["then"], d.get("if"))
        if kind == "allowed_values":
            vals = d["values"]
            if not isinstance(vals, list):
                raise SchemaError(f"{at}'values' must be a list")
            return AllowedValues(str(d["column"]), tuple(vals))
        return UniqueKey(str(d["column"]), d.get("format"))
    except SchemaError as e:
        raise SchemaError([f"{at}{p}" for p in e.problems]) from None


def parse_constraint(text: str) -> Constraint:
    """A constraint from a line of text, as typed on the command line.

    The text is read by the one expression language (:func:`synthcust.rules.expr.parse`);
    ``if <condition> then <condition>`` makes a :class:`Rule`, and comparisons of the simple
    shapes below become the matching declaration (anything else is a :class:`Rule`).

    Parameters
    ----------
    text : str
        E.g. ``"last_order >= first_order"``.

    Returns
    -------
    Constraint
        An :class:`Inequality`, :class:`Range`, :class:`AllowedValues`, :class:`Identity` or
        :class:`Rule`.

    Raises
    ------
    SchemaError
        Naming the expression, the column at fault and the fix.

    Examples
    --------

    >>> parse_constraint("last_order >= first_order")
    Inequality(low='first_order', high='last_order', strict=False)
    >>> parse_constraint("SalePriceMM == PriceMM - DiscMM").describe()
    'SalePriceMM == PriceMM - DiscMM'
    >>> parse_constraint("if segment == 'student' then age <= 30").describe()
    "if segment == 'student' then age <= 30"
    >>> parse_constraint("18 <= age <= 99")
    Range(column='age', low=18, high=99)
    """
    t = text.strip()
    m = re.fullmatch(r"if\s+(.+?)\s+then\s+(.+)", t, flags=re.IGNORECASE | re.DOTALL)
    if m:
        return Rule(m.group(2).strip(), m.group(1).strip())
    e = parse(t, "constraint", predicate=True)
    tree = e.tree

    name = e.column_name

    def const(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
        ):
            return -node.operand.value
        return None

    if isinstance(tree, ast.Compare):
        ops, parts = tree.ops, [tree.left, *tree.comparators]
        if len(ops) == 1:
            a, b, op = parts[0], parts[1], ops[0]
            na, nb = name(a), name(b)
            if isinstance(op, ast.In) and na and isinstance(b, ast.Tuple | ast.List):
                vals = [const(x) if not isinstance(x, ast.Constant) else x.value for x in b.elts]
                return AllowedValues(na, tuple(vals))
            if isinstance(op, ast.Eq) and na and not isinstance(b, ast.Constant):
                src = ast.get_source_segment(_unsub(t, e), b) or ""
                return Identity(na, _resub(src, e))
            flip = {ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Lt: ast.Gt, ast.LtE: ast.GtE}
            if na and nb and type(op) in flip:
                strict = isinstance(op, ast.Gt | ast.Lt)
                hi_first = isinstance(op, ast.Gt | ast.GtE)
                return Inequality(nb if hi_first else na, na if hi_first else nb, strict)
            if na and const(b) is not None and isinstance(op, ast.GtE | ast.LtE):
                lo = const(b) if isinstance(op, ast.GtE) else None
                hi = const(b) if isinstance(op, ast.LtE) else None
                return Range(na, lo, hi)
            if nb and const(a) is not None and isinstance(op, ast.GtE | ast.LtE):
                lo = const(a) if isinstance(op, ast.LtE) else None
                hi = const(a) if isinstance(op, ast.GtE) else None
                return Range(nb, lo, hi)
        if (
            len(ops) == 2
            and all(isinstance(o, ast.LtE) for o in ops)
            and name(parts[1])
            and const(parts[0]) is not None
            and const(parts[2]) is not None
        ):
            return Range(name(parts[1]), const(parts[0]), const(parts[2]))  # type: ignore[arg-type]
    return Rule(t)


def _unsub(text: str, e: Expr) -> str:
    """The text with backticked names replaced by their placeholders (as parsed)."""
    out = text
    for key, col in e.names.items():
        out = out.replace(f"`{col}`", key, 1)
    return out


def _resub(src: str, e: Expr) -> str:
    for key, col in e.names.items():
        src = src.replace(key, f"`{col}`")
    return src
