"""Discovery of identities between numeric columns (``c == a + b``, ``total == a + b + c``).

Part of :func:`synthcust.constraints.discover.suggest_constraints`; the search rules are in
that module's docstring.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthcust.constraints.common import find_cycle
from synthcust.constraints.suggestions import (
    Suggestion,
    expression_name,
    measure,
    stored_tolerance,
)
from synthcust.rules.constraints import Identity

__all__ = ["find_identities"]

_DERIVED_HINTS = re.compile(
    r"total|sum|net|diff|delta|pct|percent|ratio|share|rate|avg|mean|balance|margin|remaining",
    re.IGNORECASE,
)


@dataclass
class _Orient:
    target: str
    expression: str
    inputs: tuple[str, ...]
    tolerance: float
    op: str
    plus: bool = False  # a total: every input added


@dataclass
class _Relation:
    columns: frozenset[str]
    vec: np.ndarray | None  # linear: coefficients over the numeric candidates (sum = 0)
    orients: dict[str, _Orient]


def _identity_ok(
    want: np.ndarray, got: np.ndarray, tol: np.ndarray, min_share: float, min_rows: int
) -> np.ndarray:
    """Per target column (``got`` is rows x targets): does ``got == want`` hold often enough?

    A row counts where ``want`` is known; a missing target there is a failure (as in
    :meth:`Identity.check`).
    """
    known = np.isfinite(want)
    nk = int(known.sum())
    if nk < min_rows:
        return np.zeros(got.shape[1], dtype=bool)
    w = want[known][:, None]
    g = got[known]
    ok = np.abs(g - w) <= tol[None, :] + 1e-9 * np.abs(w)
    if min_share >= 1.0:
        return ok.all(axis=0)
    return ok.mean(axis=0) >= min_share


def _pair_relations(
    X: np.ndarray,
    names: list[str],
    tol: np.ndarray,
    min_share: float,
    min_rows: int,
    nonzero: np.ndarray,
) -> dict[tuple[frozenset[str], bool], _Relation]:
    m = len(names)
    rels: dict[tuple[frozenset[str], bool], _Relation] = {}
    idx = np.arange(m)
    for i in range(m):
        a = X[:, i]
        for j in range(i + 1, m):
            b = X[:, j]
            na, nb = expression_name(names[i]), expression_name(names[j])
            with np.errstate(all="ignore"):
                cands: list[tuple[str, np.ndarray, str, tuple[int, int]]] = [
                    ("+", a + b, f"{na} + {nb}", (1, 1)),
                    ("-", a - b, f"{na} - {nb}", (1, -1)),
                    ("-", b - a, f"{nb} - {na}", (-1, 1)),
                    ("*", a * b, f"{na} * {nb}", (0, 0)),
                ]
                if nonzero[j]:
                    cands.append(("/", a / b, f"{na} / {nb}", (0, 0)))
                if nonzero[i]:
                    cands.append(("/", b / a, f"{nb} / {na}", (0, 0)))
            others = idx[(idx != i) & (idx != j)]
            for op, want, expr, coef in cands:
                hit = _identity_ok(want, X[:, others], tol[others], min_share, min_rows)
                for k in others[hit]:
                    cols = frozenset((names[i], names[j], names[k]))
                    linear = op in "+-"
                    vec = None
                    if linear:
                        vec = np.zeros(m)
                        vec[i], vec[j], vec[k] = coef[0], coef[1], -1.0
                    rel = rels.setdefault((cols, linear), _Relation(cols, vec, {}))
                    rel.orients[names[k]] = _Orient(
                        names[k], expr, (names[i], names[j]), float(tol[k]), op
                    )
    return rels


def _signed_expr(parts: Sequence[tuple[str, float]]) -> str:
    out = ""
    for col, s in parts:
        if not out:
            out = ("-" if s < 0 else "") + expression_name(col)
        else:
            out += (" - " if s < 0 else " + ") + expression_name(col)
    return out


def _sum_relations(
    X: np.ndarray,
    names: list[str],
    tol: np.ndarray,
    min_share: float,
    min_rows: int,
    max_parts: int,
) -> list[_Relation]:
    """``target == ±a ± b ± c ...`` with three or more parts (coefficients exactly ±1)."""
    complete = np.isfinite(X).all(axis=1)
    Z = X[complete]
    m = len(names)
    if m < 4 or len(Z) < max(min_rows, 2 * m):
        return []
    found: list[_Relation] = []
    for t in range(m):
        others = [j for j in range(m) if j != t]
        y = Z[:, t]
        candidates: list[dict[int, float]] = []
        beta, *_ = np.linalg.lstsq(Z[:, others], y, rcond=None)
        r = np.round(beta)
        if np.all(np.abs(beta - r) < 0.02) and np.all(np.isin(r, (-1.0, 0.0, 1.0))):
            candidates.append({others[q]: float(r[q]) for q in range(len(others)) if r[q] != 0})
        # greedy: add +/- one column at a time while it shrinks the residual
        res, chosen = y.copy(), {}
        for _ in range(max_parts):
            free = [j for j in others if j not in chosen]
            if not free:
                break
            A = Z[:, free]
            dots = res @ A
            sq = (A * A).sum(axis=0)
            gain = 2 * np.abs(dots) - sq  # ||res||^2 - ||res -+ a||^2
            q = int(np.argmax(gain))
            if gain[q] <= 1e-12 * (res @ res + 1):
                break
            s = 1.0 if dots[q] > 0 else -1.0
            chosen[free[q]] = s
            res = res - s * A[:, q]
            if np.all(np.abs(res) <= tol[t] + 1e-9 * np.abs(y)):
                candidates.append(dict(chosen))
                break
        for cand in candidates:
            if not 3 <= len(cand) <= max_parts:
                continue
            order = sorted(cand, key=lambda j: (cand[j] < 0, j))
            want = np.zeros(len(X))
            for j in order:
                want = want + cand[j] * X[:, j]
            if not _identity_ok(want, X[:, [t]], tol[[t]], min_share, min_rows)[0]:
                continue
            vec = np.zeros(m)
            vec[t] = -1.0
            for j, s in cand.items():
                vec[j] = s
            cols = frozenset([names[t], *(names[j] for j in cand)])
            orients = {}
            for u in np.flatnonzero(vec):  # every column can be the target: u = sum(...)
                coef = {j: -vec[j] / vec[u] for j in np.flatnonzero(vec) if j != u}
                order = sorted(coef, key=lambda j: (coef[j] < 0, j))
                expr = _signed_expr([(names[j], coef[j]) for j in order])
                inputs = tuple(names[j] for j in order)
                plus = all(c > 0 for c in coef.values())
                orients[names[u]] = _Orient(names[u], expr, inputs, tol[u], "sum", plus)
            found.append(_Relation(cols, vec, orients))
            break
    return found


def _implied_by_linear(
    vec: np.ndarray, target: str, names: list[str], X: np.ndarray
) -> set[tuple[str, str]]:
    """Inequalities between ``target`` and one of its +1 inputs that follow from the identity
    and the observed ranges of the other inputs (which every synthesizer keeps): for
    ``t = a - b`` with ``b >= 0`` in every row, ``a >= t`` says nothing new."""
    t = names.index(target)
    coef = -vec / vec[t]  # target = sum(coef_j * x_j), coef_t = -1 (ignored)
    lo_v, hi_v = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    out: set[tuple[str, str]] = set()
    for a in np.flatnonzero(coef == 1.0):
        if a == t:
            continue
        rest = [j for j in np.flatnonzero(coef) if j not in (a, t)]
        lo = sum(coef[j] * (lo_v[j] if coef[j] > 0 else hi_v[j]) for j in rest)
        hi = sum(coef[j] * (hi_v[j] if coef[j] > 0 else lo_v[j]) for j in rest)
        if lo >= 0:
            out.add((names[a], target))  # target - a = rest >= 0
        if hi <= 0:
            out.add((target, names[a]))
    return out


def _in_span(rows: list[np.ndarray], v: np.ndarray) -> bool:
    if not rows:
        return False
    M = np.vstack(rows)
    return bool(np.linalg.matrix_rank(np.vstack([M, v])) == np.linalg.matrix_rank(M))


def _orient_relation(
    r: _Relation,
    count: Mapping[str, int],
    pos: Mapping[str, int],
    derived: dict[str, tuple[str, ...]],
    typed: pd.DataFrame,
    min_support: float,
) -> tuple[_Orient, Identity, float, int] | None:
    """The best verified orientation of a relation (or None)."""

    def key(t: str) -> tuple[bool, int, int, int]:
        hint = 1 if _DERIVED_HINTS.search(t) else 0
        return (r.orients[t].plus, hint, -count.get(t, 0), pos[t])

    for t in sorted(r.orients, key=key, reverse=True):
        o = r.orients[t]
        if t in derived:
            continue
        graph = {k: [i for i in v if i in derived or i == t] for k, v in derived.items()}
        graph[t] = [i for i in o.inputs if i in derived]
        if find_cycle(graph):
            continue
        con = Identity(t, o.expression, tolerance=_nice(o.tolerance))
        holds, support = measure(con, typed)
        if holds < 1.0:  # values rounded the other way at a tie: allow a full last decimal
            wider = Identity(t, o.expression, tolerance=_nice(2 * o.tolerance))
            h2, s2 = measure(wider, typed)
            if h2 > holds:
                con, holds, support = wider, h2, s2
        if holds < min_support:
            continue
        return o, con, holds, support
    return None


def _nice(t: float) -> float:
    return float(f"{t:.3g}")


def find_identities(
    typed: pd.DataFrame,
    numeric: list[str],
    screen: np.ndarray | None,
    pos: Mapping[str, int],
    derived: dict[str, tuple[str, ...]],
    *,
    min_support: float,
    min_rows: int,
    max_parts: int,
) -> tuple[list[Suggestion], set[tuple[str, str]]]:
    """Identities between the ``numeric`` columns of ``typed``, verified on every row.

    Parameters
    ----------
    typed : pandas.DataFrame
        The typed view of the table (:func:`~synthcust.constraints.suggestions.typed_view`).
    numeric : list of str
        The candidate columns (at least three), in table order.
    screen : numpy.ndarray or None
        Rows to screen candidates on (``None``: every row).
    pos : mapping
        Column -> position in the table (orders the relations).
    derived : dict
        Column -> inputs of the identities already known; updated with the ones found.
    min_support, min_rows, max_parts
        As in :func:`~synthcust.constraints.discover.suggest_constraints`.

    Returns
    -------
    suggestions : list of Suggestion
        One per relation, in its best verified orientation.
    implied : set of (str, str)
        ``(low, high)`` inequalities the chosen linear identities already imply.
    """
    found: list[Suggestion] = []
    implied: set[tuple[str, str]] = set()
    X = np.column_stack([typed[c].to_numpy(dtype=float) for c in numeric])
    tol = np.array([stored_tolerance(X[:, k]) for k in range(len(numeric))])
    nonzero = np.array([not bool((X[:, k] == 0).any()) for k in range(len(numeric))])
    Xs = X if screen is None else X[screen]
    ms = min(min_rows, len(Xs))
    rels = _pair_relations(Xs, numeric, tol, min_support, ms, nonzero)
    sums = _sum_relations(Xs, numeric, tol, min_support, ms, max_parts)
    # verify on every row; per orientation, with the target's tolerance
    ordered = sorted(rels.values(), key=lambda r: (r.vec is None, max(pos[c] for c in r.columns)))
    ordered += sorted(sums, key=lambda r: (len(r.columns), max(pos[c] for c in r.columns)))
    count: dict[str, int] = {}
    for r in ordered:
        for c in r.columns:
            count[c] = count.get(c, 0) + 1
    chosen_vecs: list[np.ndarray] = []
    for r in ordered:
        if r.vec is not None and _in_span(chosen_vecs, r.vec):
            continue
        best = _orient_relation(r, count, pos, derived, typed, min_support)
        if best is None:
            continue
        o, con, holds, support = best
        derived[o.target] = o.inputs
        if r.vec is not None:
            chosen_vecs.append(r.vec)
        if r.vec is not None:
            implied |= _implied_by_linear(r.vec, o.target, numeric, X)
        where = "in every row" if holds >= 1.0 else f"in {holds:.1%} of rows (not exact)"
        found.append(
            Suggestion(
                con,
                holds,
                support,
                f"{o.target} is derived {where}, within ±{con.tolerance:g}",
            )
        )
    return found, implied
