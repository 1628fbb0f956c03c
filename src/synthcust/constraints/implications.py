"""Implication rules enforced by construction: the implied column is overwritten, never spun on.

A :class:`~synthcust.rules.constraints.Rule` of the shape ``if A == a then B == b`` (``==``,
``!=``, ``in``, ``not in`` against literals, on one column each side) is an
:class:`Implication`. Such rules are the ones discovery finds
(:mod:`synthcust.constraints.discover_implications`): "no internet service" in the service
column implies "no internet service" in every add-on column; ``pdays == -1`` implies
``poutcome == 'unknown'``.

The sampling loop repairs them before it checks anything (:func:`repair_implications`): every
rule is turned so that its *later* column (in the table's order) is the implied one (the
contrapositive ``if not (B ok) then not (A in P)`` when needed), and a row whose implied value
breaks the rule takes the implied column's value of another generated row of the same batch
that meets the rule's premise and obeys it (a "hot deck" from the model's own rows: the
model's conditional distribution, no statistic of the real rows, so it is also safe for a
differentially private model). Rules are repaired in the order of their implied columns, so a
repaired column feeds the rules it implies. What repair cannot settle (no donor, or two rules
on one column that no value meets) is left to the loop's rejection, so the output is exact
either way.

>>> import pandas as pd, numpy as np
>>> from synthcust.rules.constraints import Rule
>>> imp = as_implication(Rule("addon == 'none'", "service == 'No'"))
>>> imp.if_col, imp.if_vals, imp.then_col, imp.then_vals
('service', ('No',), 'addon', ('none',))
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust.rules.constraints import Rule
from synthcust.rules.expr import Expr

__all__ = [
    "Implication",
    "as_implication",
    "implication_mask",
    "premise_mask",
    "repair_implications",
]


@dataclass(frozen=True)
class Implication:
    """``if (if_col in if_vals) != if_neg then (then_col in then_vals) != then_neg``."""

    rule: Rule
    if_col: str
    if_vals: tuple[Any, ...]
    if_neg: bool
    then_col: str
    then_vals: tuple[Any, ...]
    then_neg: bool

    def oriented(self, order: Sequence[str]) -> Implication:
        """The same rule with its later column (in ``order``) as the implied one."""
        pos = {c: i for i, c in enumerate(order)}
        if pos.get(self.then_col, 0) >= pos.get(self.if_col, 0):
            return self
        return self.flipped()

    def flipped(self) -> Implication:
        """The contrapositive: ``if not (B ok) then not (A in P)``."""
        return Implication(
            self.rule,
            self.then_col,
            self.then_vals,
            not self.then_neg,
            self.if_col,
            self.if_vals,
            not self.if_neg,
        )


def _literal(node: ast.expr) -> tuple[bool, Any]:
    if isinstance(node, ast.Constant):
        return True, node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
    ):
        return True, -node.operand.value
    return False, None


def _side(e: Expr) -> tuple[str, tuple[Any, ...], bool] | None:
    """``(column, values, negated)`` for ``col ==|!=|in|not in literal(s)``, else None."""
    t = e.tree
    if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and len(t.comparators) == 1):
        return None
    col = e.column_name(t.left)
    if col is None:
        return None
    op, right = t.ops[0], t.comparators[0]
    if isinstance(op, ast.Eq | ast.NotEq):
        ok, v = _literal(right)
        return (col, (v,), isinstance(op, ast.NotEq)) if ok else None
    if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Tuple | ast.List | ast.Set):
        vals = [_literal(x) for x in right.elts]
        if not vals or not all(ok for ok, _ in vals):
            return None
        return col, tuple(v for _, v in vals), isinstance(op, ast.NotIn)
    return None


def as_implication(rule: Any) -> Implication | None:
    """The :class:`Implication` a rule states, or ``None`` for any other rule or constraint."""
    if not isinstance(rule, Rule) or rule.if_expr is None:
        return None
    a, b = _side(rule.if_expr), _side(rule.then_expr)
    if a is None or b is None or a[0] == b[0]:
        return None
    return Implication(rule, a[0], a[1], a[2], b[0], b[1], b[2])


def _member(x: pd.Series, vals: tuple[Any, ...], neg: bool) -> np.ndarray:
    """Present values of ``x`` in ``vals`` (xor ``neg``); missing values are never members."""
    present = x.notna().to_numpy()
    hit = x.isin(list(vals)).to_numpy(dtype=bool)
    return present & (hit != neg)


def premise_mask(imp: Implication, typed: pd.DataFrame) -> np.ndarray:
    """Rows of ``typed`` that meet the premise of ``imp`` with the implied column present."""
    return (
        _member(typed[imp.if_col], imp.if_vals, imp.if_neg) & typed[imp.then_col].notna().to_numpy()
    )


def implication_mask(imp: Implication, typed: pd.DataFrame) -> np.ndarray:
    """Rows of ``typed`` that obey ``imp`` (a missing value on either side obeys it)."""
    premise = _member(typed[imp.if_col], imp.if_vals, imp.if_neg)
    then = typed[imp.then_col]
    return ~premise | _member(then, imp.then_vals, imp.then_neg) | then.isna().to_numpy()


def repair_implications(
    out: pd.DataFrame,
    typed: pd.DataFrame,
    implications: Sequence[Implication],
    rng: np.random.Generator,
    passes: int = 2,
    donors: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> int:
    """Overwrite implied values that break a rule with a donor row's value, in place.

    Column by implied column (in the order of ``implications``): the rows are grouped by which
    premises of that column's rules they meet; a row that breaks one takes the value of a row
    of its group that obeys every rule on the column (the model's conditional distribution),
    or else of any row whose value obeys every rule the row's premises switch on.

    Parameters
    ----------
    out : pandas.DataFrame
        Generated rows in the user's columns (changed in place).
    typed : pandas.DataFrame
        The same rows as the checks see them (numbers, timestamps or raw values); changed in
        place along with ``out``.
    implications : sequence of Implication
        Already oriented (:meth:`Implication.oriented`) and sorted by implied column.
    rng : numpy.random.Generator
        Picks the donors.
    passes : int
        Rounds over the columns (a rule turned round may imply an earlier column).
    donors : (DataFrame, DataFrame), optional
        Other generated rows (``out``-like, ``typed``-like) to take the values from instead of
        ``out`` itself. A conditional sample passes an unconditional batch here, so that its
        repaired values follow the model's rows in the premise's group, not the condition's:
        then it matches the model's unconditional rows repaired and filtered to the condition.

    Returns
    -------
    int
        Values overwritten.
    """
    if not len(out) or not implications:
        return 0
    children = list(dict.fromkeys(i.then_col for i in implications))
    fixed = 0
    for _ in range(passes):
        changed = 0
        for c in children:
            rules = [i for i in implications if i.then_col == c]
            changed += _repair_column(out, typed, rules, rng, donors)
        fixed += changed
        if not changed:
            break
    return fixed


def _rule_masks(typed: pd.DataFrame, rules: list[Implication]) -> tuple[Any, Any, Any]:
    """Per row: which rules' premises hold, which conclusions hold, whether the value is there."""
    child = typed[rules[0].then_col]
    prem = np.column_stack([_member(typed[r.if_col], r.if_vals, r.if_neg) for r in rules])
    ok = np.column_stack([_member(child, r.then_vals, r.then_neg) for r in rules])
    return prem, ok, child.notna().to_numpy()


def _repair_column(
    out: pd.DataFrame,
    typed: pd.DataFrame,
    rules: list[Implication],
    rng: np.random.Generator,
    source: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> int:
    """One implied column: the repairs of :func:`repair_implications`; values changed."""
    col = rules[0].then_col
    prem, ok, present = _rule_masks(typed, rules)
    bad = (prem & ~ok).any(axis=1) & present
    if not bad.any():
        return 0
    src_out, src_typed = (out, typed) if source is None else source
    if source is None:
        s_prem, s_ok, s_present = prem, ok, present
    else:
        s_prem, s_ok, s_present = _rule_masks(src_typed, rules)
    # premise patterns numbered over both frames, so a row's group is found among the donors
    _, both = np.unique(np.vstack([prem, s_prem]), axis=0, return_inverse=True)
    both = both.ravel()
    group, s_group = both[: len(prem)], both[len(prem) :]
    rows_all, picks_all = [], []
    literal_rows: list[tuple[np.ndarray, list[Any]]] = []
    for g in np.unique(group[bad]):
        rows = np.flatnonzero(bad & (group == g))
        active = prem[rows[0]]
        good = s_ok[:, active].all(axis=1) & s_present
        donors = np.flatnonzero(good & (s_group == g))
        if not len(donors):
            donors = np.flatnonzero(good)
        if len(donors):
            rows_all.append(rows)
            picks_all.append(donors[rng.integers(0, len(donors), size=len(rows))])
            continue
        allowed = _allowed_literals([r for r, a in zip(rules, active, strict=True) if a])
        if allowed:  # no generated row obeys them: a value the rules name
            literal_rows.append((rows, allowed))
    n_fixed = 0
    if rows_all:
        rows, pick = np.concatenate(rows_all), np.concatenate(picks_all)
        for frame, src in ((out, src_out), (typed, src_typed)):
            s = frame[col]
            vals = s.to_numpy(copy=True)
            vals[rows] = src[col].to_numpy()[pick]
            frame[col] = pd.Series(vals, index=s.index, dtype=s.dtype)
        n_fixed += len(rows)
    for rows, allowed in literal_rows:
        n_fixed += _set_literals(out, typed, col, rows, allowed, rng)
    return n_fixed


def _allowed_literals(rules: list[Implication]) -> list[Any]:
    """The values the active rules allow, when they name them (an ``==`` / ``in`` rule)."""
    pos = [set(r.then_vals) for r in rules if not r.then_neg]
    if not pos:
        return []
    allowed = set.intersection(*pos)
    for r in rules:
        if r.then_neg:
            allowed -= set(r.then_vals)
    return sorted(allowed, key=repr)


def _set_literals(
    out: pd.DataFrame,
    typed: pd.DataFrame,
    col: str,
    rows: np.ndarray,
    allowed: list[Any],
    rng: np.random.Generator,
) -> int:
    """Give ``rows`` of ``col`` a value of ``allowed``: the nearest for numbers (a model that
    draws continuous values for a whole-number column), else one at random."""
    t = typed[col]
    numeric = pd.api.types.is_numeric_dtype(t.dtype) and not pd.api.types.is_bool_dtype(t.dtype)
    if numeric and all(isinstance(v, int | float) and not isinstance(v, bool) for v in allowed):
        grid = np.asarray(allowed, dtype=float)
        x = t.to_numpy(dtype=float, na_value=np.nan)[rows]
        new: np.ndarray = grid[np.abs(x[:, None] - grid[None, :]).argmin(axis=1)]
    else:
        new = np.asarray(allowed, dtype=object)[rng.integers(0, len(allowed), size=len(rows))]
    for frame in (out, typed):
        s = frame[col]
        vals = s.to_numpy(copy=True)
        if vals.dtype.kind in "iub" and new.dtype.kind == "f":
            vals = vals.astype(float)
        vals[rows] = new
        try:
            frame[col] = pd.Series(vals, index=s.index, dtype=s.dtype)
        except (TypeError, ValueError):
            frame[col] = pd.Series(vals, index=s.index)
    return len(rows)
