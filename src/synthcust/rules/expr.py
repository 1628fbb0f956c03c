"""A small, safe expression language for constraints, evaluated vectorised on a DataFrame.

Arithmetic (identities): column names, numbers, ``+ - * /``, unary minus, parentheses,
``round(x, k)``, ``abs(x)``, ``min(a, b)``, ``max(a, b)``. Predicates (rules): comparisons
``== != < <= > >=`` between a column (or arithmetic) and a value (or another column),
``column in ('a', 'b')`` / ``not in``, ``isnull(col)`` / ``notnull(col)``, joined by ``and``,
``or``, ``not``. Column names that are not Python identifiers are written in backticks:
``` `list price` - discount ```.

Parsing uses :mod:`ast` and accepts only the nodes above: nothing is ever ``eval``-ed, so a
schema file from someone else cannot run code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.threads import AST_LOCK
from synthcust.exceptions import SchemaError

_BACKTICK = re.compile(r"`([^`]+)`")
_FUNCS = {"round", "abs", "min", "max", "isnull", "notnull"}


@dataclass(frozen=True)
class Expr:
    """A parsed expression: its text, the columns it reads, and its syntax tree."""

    text: str
    columns: tuple[str, ...]
    tree: ast.expr
    names: dict[str, str]  # placeholder -> column name (backticked names)

    def evaluate(self, df: pd.DataFrame, values: Callable[[str], Any] | None = None) -> Any:
        """Evaluate on ``df`` (``values(col)`` overrides how a column's values are read)."""
        get = values or (lambda c: df[c])
        return _Eval(get, self.names).visit(self.tree)


def parse(text: str, what: str = "expression", predicate: bool = False) -> Expr:
    """Parse ``text``; raise :class:`SchemaError` naming the problem and the allowed syntax."""
    if not isinstance(text, str) or not text.strip():
        raise SchemaError(f"{what} must be a non-empty string, got {text!r}")
    names: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        key = f"__col{len(names)}__"
        names[key] = m.group(1)
        return key

    src = _BACKTICK.sub(sub, text.strip())
    try:
        with AST_LOCK:
            tree = ast.parse(src, mode="eval").body
    except SyntaxError as e:
        raise SchemaError(
            f"{what} {text!r} is not valid: {e.msg}; write e.g. 'PriceMM - DiscMM' or "
            "\"segment == 'student'\" (backticks around column names with spaces)"
        ) from None
    cols: list[tuple[int, str]] = []
    _check(tree, text, what, names, cols, predicate)
    ordered = [c for _, c in sorted(cols, key=lambda t: t[0])]  # as written, left to right
    return Expr(text.strip(), tuple(dict.fromkeys(ordered)), tree, names)


def _check(
    node: ast.AST,
    text: str,
    what: str,
    names: dict[str, str],
    cols: list[tuple[int, str]],
    pred: bool,
) -> None:
    ok = (
        ast.Expression,
        ast.BinOp,
        ast.UnaryOp,
        ast.Name,
        ast.Constant,
        ast.Call,
        ast.Load,
        ast.Add,
        ast.Sub,
        ast.Mult,
        ast.Div,
        ast.USub,
        ast.UAdd,
        ast.Tuple,
        ast.List,
    )
    ok_pred = (
        ast.Compare,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.Not,
        ast.Eq,
        ast.NotEq,
        ast.Lt,
        ast.LtE,
        ast.Gt,
        ast.GtE,
        ast.In,
        ast.NotIn,
    )
    for n in ast.walk(node):
        if isinstance(n, ok) or (pred and isinstance(n, ok_pred)):
            if isinstance(n, ast.Call):
                if not isinstance(n.func, ast.Name) or n.func.id not in _FUNCS or n.keywords:
                    raise SchemaError(
                        f"{what} {text!r}: only the functions {sorted(_FUNCS)} may be called"
                    )
            elif isinstance(n, ast.Name):
                if n.id not in _FUNCS:
                    cols.append((n.col_offset, names.get(n.id, n.id)))
            elif isinstance(n, ast.Constant) and not isinstance(n.value, int | float | str):
                if n.value is not None:
                    raise SchemaError(f"{what} {text!r}: {n.value!r} is not a number or text")
            elif isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not) and not pred:
                raise SchemaError(f"{what} {text!r}: 'not' only belongs in a rule")
            continue
        if isinstance(n, ast.UnaryOp | ast.Not):
            continue
        kind = type(n).__name__
        hint = (
            "arithmetic on columns and numbers (+ - * /, round, abs, min, max)"
            if not pred
            else "comparisons joined by and/or/not"
        )
        raise SchemaError(f"{what} {text!r}: {kind} is not allowed here; use {hint}")


class _Eval(ast.NodeVisitor):
    def __init__(self, get: Callable[[str], Any], names: dict[str, str]):
        self.get, self.names = get, names

    def visit_Name(self, n: ast.Name) -> Any:
        return self.get(self.names.get(n.id, n.id))

    def visit_Constant(self, n: ast.Constant) -> Any:
        return n.value

    def visit_Tuple(self, n: ast.Tuple) -> Any:
        return [self.visit(e) for e in n.elts]

    visit_List = visit_Tuple

    def visit_UnaryOp(self, n: ast.UnaryOp) -> Any:
        v = self.visit(n.operand)
        if isinstance(n.op, ast.USub):
            return -v
        if isinstance(n.op, ast.Not):
            return ~_bool(v)
        return v

    def visit_BinOp(self, n: ast.BinOp) -> Any:
        a, b = self.visit(n.left), self.visit(n.right)
        op = n.op
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        with np.errstate(divide="ignore", invalid="ignore"):
            out = a / b
        if isinstance(out, pd.Series):
            return out.replace([np.inf, -np.inf], np.nan)
        return out

    def visit_Call(self, n: ast.Call) -> Any:
        f = n.func.id  # type: ignore[attr-defined]
        args = [self.visit(a) for a in n.args]
        if f == "round":
            k = int(args[1]) if len(args) > 1 else 0
            return _series(args[0]).round(k)
        if f == "abs":
            return abs(args[0])
        if f in ("min", "max"):
            s = pd.concat([_series(a) for a in args], axis=1) if args else None
            return s.min(axis=1) if f == "min" else s.max(axis=1)
        if f == "isnull":
            return _series(args[0]).isna()
        return _series(args[0]).notna()

    def visit_Compare(self, n: ast.Compare) -> Any:
        left = self.visit(n.left)
        out = None
        for op, comp in zip(n.ops, n.comparators, strict=True):
            right = self.visit(comp)
            r = _compare(left, op, right)
            out = r if out is None else out & r
            left = right
        return out

    def visit_BoolOp(self, n: ast.BoolOp) -> Any:
        vals = [_bool(self.visit(v)) for v in n.values]
        out = vals[0]
        for v in vals[1:]:
            out = (out & v) if isinstance(n.op, ast.And) else (out | v)
        return out

    def generic_visit(self, node: ast.AST) -> Any:  # pragma: no cover - parse() guards
        raise SchemaError(f"cannot evaluate {type(node).__name__}")


def _series(v: Any) -> pd.Series:
    return v if isinstance(v, pd.Series) else pd.Series(v)


def _bool(v: Any) -> Any:
    if isinstance(v, pd.Series):
        return v.fillna(False).astype(bool)
    return bool(v)


def _coerce_like(s: Any, v: Any) -> Any:
    """A text constant compared with a datetime column is read as a timestamp."""
    if isinstance(s, pd.Series) and isinstance(v, str) and pd.api.types.is_datetime64_any_dtype(s):
        return pd.Timestamp(v)
    return v


def _compare(a: Any, op: ast.cmpop, b: Any) -> Any:
    if isinstance(op, ast.In | ast.NotIn):
        vals = b if isinstance(b, list) else [b]
        r = _series(a).isin(vals)
        return ~r if isinstance(op, ast.NotIn) else r
    b = _coerce_like(a, b)
    a = _coerce_like(b, a)
    if isinstance(op, ast.Eq):
        r = a == b
    elif isinstance(op, ast.NotEq):
        r = a != b
    elif isinstance(op, ast.Lt):
        r = a < b
    elif isinstance(op, ast.LtE):
        r = a <= b
    elif isinstance(op, ast.Gt):
        r = a > b
    else:
        r = a >= b
    return r
