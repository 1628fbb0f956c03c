"""The one safe expression language of synthcust: constraints, segments and ``--where`` share it.

Arithmetic (identities): column names, numbers, ``+ - * /``, unary minus, parentheses,
``round(x, k)``, ``abs(x)``, ``min(a, b)``, ``max(a, b)``. Predicates (rules, segments, the
``--where`` filter of ``sample``): comparisons ``== != < <= > >=`` between a column (or
arithmetic) and a value (or another column), chained comparisons (``25 <= age < 40``),
``column in ('a', 'b')`` / ``not in`` (lists, tuples or sets of values), ``isnull(col)`` /
``notnull(col)``, joined by ``and``, ``or``, ``not``. Values are numbers, quoted text,
``True`` / ``False`` and ``None``. Column names that are not Python identifiers are written in
backticks: ``` `list price` - discount ```.

:func:`parse` checks the text once, for every user of the language, and every error it raises
names the expression, the column (position) at fault and what to write instead
(:func:`expression_error` formats them, for the users' own checks too). Parsing uses
:mod:`ast` and accepts only the nodes above: nothing is ever ``eval``-ed, so a schema or a
segments file from someone else cannot run code. :meth:`Expr.evaluate` evaluates a parsed
expression vectorised on a DataFrame; segments instead compile it to exact sampling
conditions (:mod:`synthcust.rules.segments`).

>>> import pandas as pd
>>> e = parse("`list price` - discount")
>>> e.columns
('list price', 'discount')
>>> e.evaluate(pd.DataFrame({"list price": [10, 20], "discount": [1, 5]})).tolist()
[9, 15]
>>> parse("age >", "segment 'young'", predicate=True)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
synthcust.exceptions.SchemaError: segment 'young': cannot read rule (invalid syntax) at column 6 ...
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.threads import AST_LOCK
from synthcust.exceptions import SchemaError

__all__ = ["FUNCTIONS", "Expr", "expression_error", "parse"]

_BACKTICK = re.compile(r"`([^`]+)`")
#: The functions an expression may call.
FUNCTIONS = frozenset({"round", "abs", "min", "max", "isnull", "notnull"})

_ARITHMETIC_NODES = (
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
    ast.Set,
)
_PREDICATE_NODES = (
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
_EXAMPLE = {
    False: "write e.g. 'PriceMM - DiscMM' (backticks around column names with spaces)",
    True: "write e.g. \"segment == 'student' and age <= 30\" (backticks around column names "
    "with spaces)",
}
_HINT = {
    False: "use arithmetic on columns and numbers (+ - * /, round, abs, min, max)",
    True: "use comparisons of columns with values (== != < <= > >=, in, isnull, notnull) "
    "joined by and/or/not",
}


def expression_error(
    what: str,
    text: str,
    problem: str,
    fix: str,
    *,
    column: int | None = None,
    error: type[Exception] = SchemaError,
) -> Exception:
    """The one shape of every expression error: what, the problem, where, and the fix.

    Parameters
    ----------
    what : str
        What the expression is, e.g. ``"segment 'young'"`` or ``"identity for 'total'"``.
    text : str
        The expression as the user wrote it.
    problem : str
        What is wrong.
    fix : str
        What to write instead.
    column : int, optional
        1-based position in ``text`` of the part at fault.
    error : exception class, default SchemaError
        The class to build (segments raise :class:`~synthcust.exceptions.SegmentError`).

    Returns
    -------
    Exception
        To be raised by the caller.

    Examples
    --------
    >>> str(expression_error("segment 's'", "age > x", "two columns", "compare with a value",
    ...                      column=1))
    "segment 's': two columns at column 1 in 'age > x'; compare with a value"
    """
    at = f" at column {column}" if column is not None else ""
    return error(f"{what}: {problem}{at} in {text!r}; {fix}")


@dataclass(frozen=True)
class Expr:
    """A parsed expression: its text, the columns it reads, and its checked syntax tree.

    Attributes
    ----------
    text : str
        The expression as written (surrounding spaces removed).
    columns : tuple of str
        The columns it reads, in the order written.
    tree : ast.expr
        The syntax tree; backticked names appear as placeholder names (see ``names``).
    names : dict
        Placeholder -> column name, for the backticked names.
    """

    text: str
    columns: tuple[str, ...]
    tree: ast.expr
    names: dict[str, str]  # placeholder -> column name (backticked names)
    _shifts: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)

    def evaluate(self, df: pd.DataFrame, values: Callable[[str], Any] | None = None) -> Any:
        """Evaluate on ``df``, vectorised.

        Parameters
        ----------
        df : pandas.DataFrame
            The rows to evaluate on.
        values : callable, optional
            ``values(column)`` overrides how a column's values are read (default ``df[col]``).

        Returns
        -------
        pandas.Series or scalar
            Numbers for arithmetic, booleans for predicates.
        """
        get = values or (lambda c: df[c])
        return _Eval(get, self.names).visit(self.tree)

    def column_name(self, node: ast.AST) -> str | None:
        """The column a ``Name`` node stands for (backticks resolved), else ``None``."""
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            return self.names.get(node.id, node.id)
        return None

    def position(self, node: ast.AST) -> int:
        """1-based column of ``node`` in :attr:`text` (as the user wrote it, backticks kept)."""
        return _original_offset(getattr(node, "col_offset", 0), self._shifts) + 1

    def source(self, node: ast.AST) -> str:
        """The text of ``node`` as the user wrote it (backticks kept)."""
        src = ast.unparse(node)
        for key, col in self.names.items():
            src = src.replace(key, f"`{col}`")
        return src

    def error(
        self, what: str, node: ast.AST | None, problem: str, fix: str, error: type[Exception]
    ) -> Exception:
        """:func:`expression_error` about ``node`` of this expression."""
        col = None if node is None else self.position(node)
        return expression_error(what, self.text, problem, fix, column=col, error=error)


def parse(
    text: str,
    what: str = "expression",
    predicate: bool = False,
    *,
    error: type[Exception] = SchemaError,
    example: str | None = None,
) -> Expr:
    """Parse and check ``text``; raise an error naming the problem, its column and the fix.

    Parameters
    ----------
    text : str
        The expression.
    what : str
        What it is, for messages (``"constraint"``, ``"segment 'young'"``, ...).
    predicate : bool, default False
        ``True`` for conditions (comparisons, ``and``/``or``/``not``); ``False`` for
        arithmetic only.
    error : exception class, default SchemaError
        What to raise (segments raise :class:`~synthcust.exceptions.SegmentError`).
    example : str, optional
        The fix shown after a syntax error (``"write e.g. ..."``); a default per mode.

    Returns
    -------
    Expr
        The checked expression.

    Examples
    --------
    >>> parse("total == a + b", predicate=True).columns
    ('total', 'a', 'b')
    >>> parse("eval('1')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    synthcust.exceptions.SchemaError: expression: cannot use "eval('1')" at column 1 ...
    """
    kind = "rule" if predicate else "expression"
    fix = example or _EXAMPLE[predicate]
    if not isinstance(text, str) or not text.strip():
        raise error(f"{what}: the {kind} is empty (got {text!r}); {fix}")
    stripped = text.strip()
    src, names, shifts = _substitute_backticks(stripped)
    try:
        with AST_LOCK:
            tree = ast.parse(src, mode="eval").body
    except SyntaxError as e:
        # offset 0: the text ended too early (Python reports no position); point past its end
        off = e.offset - 1 if e.offset and 0 < e.offset <= len(src) else len(src)
        col = _original_offset(off, shifts) + 1
        raise expression_error(
            what, stripped, f"cannot read {kind} ({e.msg})", fix, column=col, error=error
        ) from None
    expr = Expr(stripped, (), tree, names, shifts)
    cols = _check(expr, what, predicate, error)
    ordered = [c for _, c in sorted(cols, key=lambda t: t[0])]  # as written, left to right
    return Expr(stripped, tuple(dict.fromkeys(ordered)), tree, names, shifts)


def _substitute_backticks(text: str) -> tuple[str, dict[str, str], tuple[tuple[int, int], ...]]:
    """``text`` with each backticked name replaced by a placeholder identifier.

    Also returns the placeholders and, per placeholder, ``(end in the new text, length
    change)``, so positions in the new text map back to the user's text.
    """
    names: dict[str, str] = {}
    shifts: list[tuple[int, int]] = []
    out: list[str] = []
    last, pos, delta = 0, 0, 0
    for m in _BACKTICK.finditer(text):
        key = f"__col{len(names)}__"
        names[key] = m.group(1)
        out.append(text[last : m.start()])
        pos += m.start() - last + len(key)
        delta += len(m.group(0)) - len(key)
        shifts.append((pos, delta))
        out.append(key)
        last = m.end()
    out.append(text[last:])
    return "".join(out), names, tuple(shifts)


def _original_offset(offset: int, shifts: tuple[tuple[int, int], ...]) -> int:
    """A 0-based offset in the substituted text -> the offset in the user's text."""
    delta = 0
    for end, d in shifts:
        if offset >= end:
            delta = d
    return offset + delta


def _check(expr: Expr, what: str, pred: bool, error: type[Exception]) -> list[tuple[int, str]]:
    """Refuse every node outside the language; the columns read, with their offsets."""
    cols: list[tuple[int, str]] = []

    def fail(node: ast.AST, problem: str, fix: str) -> Exception:
        return expr.error(what, node, problem, fix, error)

    for n in ast.walk(expr.tree):
        if not (isinstance(n, _ARITHMETIC_NODES) or (pred and isinstance(n, _PREDICATE_NODES))):
            raise fail(n, f"cannot use {expr.source(n)!r} ({type(n).__name__})", _HINT[pred])
        if isinstance(n, ast.Call):
            if not isinstance(n.func, ast.Name) or n.func.id not in FUNCTIONS or n.keywords:
                raise fail(
                    n,
                    f"cannot use {expr.source(n)!r}",
                    f"only the functions {sorted(FUNCTIONS)} may be called",
                )
        elif isinstance(n, ast.Name):
            if n.id not in FUNCTIONS:
                cols.append((n.col_offset, expr.names.get(n.id, n.id)))
        elif isinstance(n, ast.Constant):
            if n.value is not None and not isinstance(n.value, int | float | str):
                raise fail(n, f"{n.value!r} is not a number or text", "quote text: 'gold'")
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not) and not pred:
            raise fail(n, "'not' only belongs in a rule", _HINT[False])
    return cols


class _Eval(ast.NodeVisitor):
    def __init__(self, get: Callable[[str], Any], names: dict[str, str]):
        self.get, self.names = get, names

    def visit_Name(self, n: ast.Name) -> Any:
        return self.get(self.names.get(n.id, n.id))

    def visit_Constant(self, n: ast.Constant) -> Any:
        return n.value

    def visit_Tuple(self, n: ast.Tuple) -> Any:
        return [self.visit(e) for e in n.elts]

    def visit_List(self, n: ast.List) -> Any:
        return [self.visit(e) for e in n.elts]

    def visit_Set(self, n: ast.Set) -> Any:
        return [self.visit(e) for e in n.elts]

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
            s = pd.concat([_series(a) for a in args], axis=1)
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
