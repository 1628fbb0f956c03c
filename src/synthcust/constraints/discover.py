"""Constraint discovery: which business rules does the real data obey?

:func:`suggest_constraints` searches a table, vectorised (NumPy/pandas over rows; Python loops
only over bounded sets of columns, pairs and triples), for:

* **identities** between numeric columns: ``c == a + b``, ``c == a - b`` (both orders),
  ``c == a * b``, ``c == a / b`` (both orders), and ``total == a + b + c ...`` (three or more
  parts with coefficients +1/-1, found by least squares and, failing that, a greedy search of at
  most ``max_parts`` parts). The tolerance follows the decimals the target column is stored
  with (``PctDiscMM = DiscMM / PriceMM`` stored to 6 decimals: 0.5e-6). Inputs and targets
  must vary (constant / all-zero columns are skipped); denominators must never be 0. One
  orientation per relation (the derived-looking target: a name like *total/diff/pct*, then a
  column in fewer relations, then the later column), no column derived twice, no circles, and a
  linear identity implied by the ones already chosen is not repeated;
* **inequalities** ``high >= low`` between two numeric or two datetime columns that would not
  hold by their ranges alone (skipped when a value of each, drawn independently, obeys it with
  probability >= ``TRIVIAL_SHARE`` = 0.98, e.g. non-overlapping ranges), excluding equal columns,
  columns with two or fewer values, pairs inside one fixed combination, and pairs implied by
  transitivity (``a <= b <= c`` does not also list ``a <= c``);
* **functional dependencies** between low-cardinality columns (categorical, boolean, integer
  numeric with at most ``max_levels`` values): ``A`` determines ``B`` when each value of ``A``
  occurs with one value of ``B``. Columns that determine each other and the columns they
  determine become one :class:`FixedCombinations`;
* **unique keys**: never-missing, unique text with a common prefix/suffix around fixed-width
  digits (``CUST-000123`` -> ``UniqueKey(col, 'CUST-######')``), and unique integer id columns;
* optionally (``ranges=True`` / ``allowed_values=True``) observed ranges of numeric and datetime
  columns and the values of low-cardinality categorical columns.

At most ``max_columns`` numeric (and as many low-cardinality) columns are searched, the first
ones in table order; identities, sums and inequalities are screened on at most ``screen_rows``
rows and then verified on every row. Every suggestion is measured with the constraint's own
check on the same typed view :class:`~synthcust.constraints.plan.ConstraintPlan` uses, and
the exact ones (``holds == 1``) together pass ``ConstraintPlan(...).fit(df)``.

>>> import pandas as pd
>>> df = pd.DataFrame({"price": [2.0, 3.5, 4.0, 5.25, 1.0] * 6,
...                    "disc": [0.5, 0.0, 1.0, 0.25, 0.0] * 6})
>>> df["paid"] = df["price"] - df["disc"]
>>> [s.constraint.describe() for s in suggest_constraints(df)]
['paid == price - disc']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust.constraints.plan import ConstraintPlan, _decimals, _find_cycle, _py
from synthcust.exceptions import ConstraintError, SchemaError
from synthcust.rules.constraints import (
    AllowedValues,
    Constraint,
    FixedCombinations,
    Identity,
    Inequality,
    Range,
    UniqueKey,
)
from synthcust.schema.model import Kind, Schema

_DERIVED_HINTS = re.compile(
    r"total|sum|net|diff|delta|pct|percent|ratio|share|rate|avg|mean|balance|margin|remaining",
    re.IGNORECASE,
)
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = {"and", "or", "not", "in", "is", "if", "else", "True", "False", "None"}


@dataclass(frozen=True)
class Suggestion:
    """A constraint the data (nearly) obeys.

    ``holds``: share of the checked rows that obey it; ``support``: rows it was checked on
    (rows where the columns it reads are present; every row for keys and combinations);
    ``reason``: why it is suggested. ``exact`` is ``holds == 1``: only exact suggestions can be
    enforced (a near-rule would be refused by :meth:`ConstraintPlan.fit`).
    """

    constraint: Constraint
    holds: float
    support: int
    reason: str

    @property
    def exact(self) -> bool:
        return self.holds >= 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "constraint": self.constraint.to_dict(),
            "description": self.constraint.describe(),
            "holds": self.holds,
            "support": self.support,
            "exact": self.exact,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CheckResult:
    """How many rows of a table obey one constraint (``share`` is ``None`` when not checked)."""

    constraint: Constraint
    share: float | None
    support: int
    failing: int
    note: str = ""


# --------------------------------------------------------------------------- typed view
def typed_view(df: pd.DataFrame, schema: Schema, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` as the constraint checks see them: numbers, timestamps or raw values."""
    return ConstraintPlan((), schema).fit(df).typed(df, columns)


def _as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        v = s.to_numpy(dtype="datetime64[ns]")
        out = v.astype("int64").astype(float) / 86400e9
        out[np.isnat(v)] = np.nan
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def _name(col: str) -> str:
    """A column as written in an expression (backticks when it is not a plain name)."""
    if _SAFE_NAME.fullmatch(col) and col not in _KEYWORDS:
        return col
    if "`" in col:
        raise SchemaError(f"column {col!r} contains a backtick and cannot appear in an identity")
    return f"`{col}`"


def _tolerance(x: np.ndarray) -> float:
    """Half a unit of the last decimal the column is stored with (1e-6 when it has more)."""
    k = _decimals(x)
    return 1e-6 if k is None else 0.5 * 10.0 ** (-k)


def _measure(con: Constraint, typed: pd.DataFrame) -> tuple[float, int]:
    ok = con.check(typed, typed)
    if isinstance(con, Identity):
        mask = np.ones(len(typed), dtype=bool)
        for c in con.inputs:
            mask &= typed[c].notna().to_numpy()
    elif isinstance(con, FixedCombinations | UniqueKey | AllowedValues):
        mask = np.ones(len(typed), dtype=bool)
    else:
        mask = np.ones(len(typed), dtype=bool)
        for c in con.columns:
            mask &= typed[c].notna().to_numpy()
    n = int(mask.sum())
    return (float(ok[mask].mean()) if n else 1.0), n


# --------------------------------------------------------------------------- identities
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
            with np.errstate(all="ignore"):
                cands: list[tuple[str, np.ndarray, str, tuple[int, int]]] = [
                    ("+", a + b, f"{_name(names[i])} + {_name(names[j])}", (1, 1)),
                    ("-", a - b, f"{_name(names[i])} - {_name(names[j])}", (1, -1)),
                    ("-", b - a, f"{_name(names[j])} - {_name(names[i])}", (-1, 1)),
                    ("*", a * b, f"{_name(names[i])} * {_name(names[j])}", (0, 0)),
                ]
                if nonzero[j]:
                    cands.append(("/", a / b, f"{_name(names[i])} / {_name(names[j])}", (0, 0)))
                if nonzero[i]:
                    cands.append(("/", b / a, f"{_name(names[j])} / {_name(names[i])}", (0, 0)))
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
            out = ("-" if s < 0 else "") + _name(col)
        else:
            out += (" - " if s < 0 else " + ") + _name(col)
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


# --------------------------------------------------------------------------- main entry
def suggest_constraints(
    df: pd.DataFrame,
    schema: Schema | None = None,
    *,
    min_support: float = 1.0,
    max_columns: int = 30,
    max_levels: int = 50,
    max_parts: int = 6,
    min_rows: int = 20,
    screen_rows: int = 2000,
    identities: bool = True,
    inequalities: bool = True,
    combinations: bool = True,
    keys: bool = True,
    ranges: bool = False,
    allowed_values: bool = False,
    random_state: int = 0,
) -> list[Suggestion]:
    """Constraints the real table ``df`` obeys, with their share, support and reason.

    Parameters
    ----------
    df: the real table.
    schema: its schema (inferred without PII detection when omitted); constraints it already
        has are not suggested again, and columns it already derives are not derived twice.
    min_support: the least share of checked rows a suggestion must hold on (1.0: exact rules
        only; e.g. 0.95 also lists near-rules, marked ``exact == False``).
    max_columns: at most this many numeric columns (and as many low-cardinality columns) are
        searched, the first ones in table order; pairs and triples grow with its square/cube.
    max_levels: a categorical / boolean / integer column with at most this many distinct
        values is low-cardinality (functional dependencies, allowed values).
    max_parts: most parts in a ``total == a + b + c ...`` identity.
    min_rows: a rule must be checked on at least this many rows.
    screen_rows: identities and inequalities are screened on a random sample of this many rows,
        then verified on all rows.
    identities, inequalities, combinations, keys, ranges, allowed_values: which kinds to look
        for (ranges and allowed values are off by default: they are rarely informative).

    Search bounds and rules: see the module docstring.
    """
    if not 0.0 < min_support <= 1.0:
        raise SchemaError(f"min_support must be in (0, 1], got {min_support!r}")
    if schema is None:
        from synthcust.schema.infer import infer_schema

        schema = infer_schema(df, detect_pii=False)
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise SchemaError(f"columns {missing} are in the schema but not in the data")
    n = len(df)
    existing = set(schema.constraints)
    pos = {c: i for i, c in enumerate(schema.names)}
    key_cols = {c.column for c in schema.constraints if isinstance(c, UniqueKey)}

    # ---- candidate columns -------------------------------------------------------------
    usable = [c for c in schema if c.name not in key_cols]
    numeric = [c.name for c in usable if c.kind == Kind.NUMERIC and c.name not in key_cols]
    dates = [c.name for c in usable if c.kind == Kind.DATETIME and c.name not in key_cols]
    lowcard_kinds = (Kind.CATEGORICAL, Kind.BOOLEAN, Kind.NUMERIC)
    wanted = [c.name for c in usable if c.kind in (*lowcard_kinds, Kind.DATETIME)]
    typed = typed_view(df, schema, wanted)
    nunique = {c: int(typed[c].nunique(dropna=True)) for c in typed.columns}
    numeric = [c for c in numeric if nunique[c] >= 2][:max_columns]
    dates = [c for c in dates if nunique[c] >= 2][:max_columns]

    rng = np.random.default_rng(random_state)
    screen = np.sort(rng.choice(n, screen_rows, replace=False)) if n > screen_rows else None

    found: list[Suggestion] = []
    implied: set[tuple[str, str]] = set()  # (low, high) implied by a chosen linear identity
    derived: dict[str, tuple[str, ...]] = {
        c.column: c.inputs for c in schema.constraints if isinstance(c, Identity)
    }

    # ---- unique keys -------------------------------------------------------------------
    if keys:
        found += _keys(df, schema, key_cols)

    # ---- identities ----------------------------------------------------------------------
    if identities and len(numeric) >= 3:
        X = np.column_stack([typed[c].to_numpy(dtype=float) for c in numeric])
        tol = np.array([_tolerance(X[:, k]) for k in range(len(numeric))])
        nonzero = np.array([not bool((X[:, k] == 0).any()) for k in range(len(numeric))])
        Xs = X if screen is None else X[screen]
        ms = min(min_rows, len(Xs))
        rels = _pair_relations(Xs, numeric, tol, min_support, ms, nonzero)
        sums = _sum_relations(Xs, numeric, tol, min_support, ms, max_parts)
        # verify on every row; per orientation, with the target's tolerance
        ordered = sorted(
            rels.values(), key=lambda r: (r.vec is None, max(pos[c] for c in r.columns))
        )
        ordered += sorted(sums, key=lambda r: (len(r.columns), max(pos[c] for c in r.columns)))
        count: dict[str, int] = {}
        for r in ordered:
            for c in r.columns:
                count[c] = count.get(c, 0) + 1
        chosen_vecs: list[np.ndarray] = []
        for r in ordered:
            if r.vec is not None and _in_span(chosen_vecs, r.vec):
                continue
            best = _orient(r, count, pos, derived, typed, min_support)
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

    # ---- functional dependencies -----------------------------------------------------------
    groups: list[tuple[str, ...]] = []
    if combinations:
        low = [
            c.name
            for c in usable
            if c.kind in lowcard_kinds
            and (c.kind != Kind.NUMERIC or c.integer)
            and 2 <= nunique[c.name] <= max_levels
            and n >= 2 * nunique[c.name]
            and c.name not in derived
        ][:max_columns]
        fd = _dependencies(typed, low, min_support)
        sugg, groups = _fd_suggestions(fd, low, pos, n)
        found += sugg

    # ---- inequalities ----------------------------------------------------------------------
    if inequalities:
        same_group = {frozenset((a, b)) for g in groups for a in g for b in g if a != b}
        for cols in (numeric, dates):
            cols = [c for c in cols if nunique[c] > 2]
            found += _inequalities(typed, cols, screen, min_support, min_rows, same_group, implied)

    # ---- ranges / allowed values -------------------------------------------------------------
    if ranges:
        for c in [*numeric, *dates]:
            v = typed[c].dropna()
            lo, hi = v.min(), v.max()
            if isinstance(lo, pd.Timestamp):
                con: Constraint = Range(c, lo.isoformat(), hi.isoformat())
            else:
                con = Range(c, _py(lo), _py(hi))
            found.append(Suggestion(con, 1.0, len(v), "observed range"))
    if allowed_values:
        for col in usable:
            c = col.name
            if col.kind in (Kind.CATEGORICAL, Kind.BOOLEAN) and 2 <= nunique[c] <= max_levels:
                vals = sorted({_py(v) for v in df[c].dropna().unique()}, key=str)
                if df[c].isna().any():
                    vals.append(None)
                found.append(
                    Suggestion(AllowedValues(c, tuple(vals)), 1.0, n, f"{len(vals)} values seen")
                )

    found = [s for s in found if s.constraint not in existing and s.holds >= min_support]
    return _coherent(found, df, schema)


def _orient(
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
        if _find_cycle(graph):
            continue
        con = Identity(t, o.expression, tolerance=_nice(o.tolerance))
        holds, support = _measure(con, typed)
        if holds < 1.0:  # values rounded the other way at a tie: allow a full last decimal
            wider = Identity(t, o.expression, tolerance=_nice(2 * o.tolerance))
            h2, s2 = _measure(wider, typed)
            if h2 > holds:
                con, holds, support = wider, h2, s2
        if holds < min_support:
            continue
        return o, con, holds, support
    return None


def _nice(t: float) -> float:
    return float(f"{t:.3g}")


# --------------------------------------------------------------------------- dependencies
def _codes(s: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    k = len(uniq)
    codes = np.where(codes < 0, k, codes)  # missing is a value of its own
    return codes.astype(np.int64), k + 1


def _dependencies(typed: pd.DataFrame, cols: list[str], min_share: float) -> dict:
    """{(A, B): share of rows whose B is the most common B for their A} at >= min_share."""
    coded = {c: _codes(typed[c]) for c in cols}
    n = len(typed)
    out: dict[tuple[str, str], float] = {}
    for a in cols:
        ca, ka = coded[a]
        for b in cols:
            if a == b:
                continue
            cb, kb = coded[b]
            table = np.bincount(ca * kb + cb, minlength=ka * kb).reshape(ka, kb)
            share = float(table.max(axis=1).sum() / n) if n else 1.0
            if share >= min_share:
                out[(a, b)] = share
    return out


def _fd_suggestions(
    fd: Mapping[tuple[str, str], float], cols: list[str], pos: Mapping[str, int], n: int
) -> tuple[list[Suggestion], list[tuple[str, ...]]]:
    exact = {k for k, v in fd.items() if v >= 1.0}
    # classes of columns that determine each other
    parent = {c: c for c in cols}

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for a, b in exact:
        if (b, a) in exact:
            parent[find(a)] = find(b)
    classes: dict[str, list[str]] = {}
    for c in cols:
        classes.setdefault(find(c), []).append(c)
    groups: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for members in classes.values():
        rep = members[0]
        dets = sorted(
            {b for (a, b) in exact if a == rep and b not in members}, key=lambda c: pos[c]
        )
        if len(members) < 2 and not dets:
            continue
        groups.append((tuple(sorted(members, key=lambda c: pos[c])), tuple(dets)))
    full = [set(m) | set(d) for m, d in groups]
    out: list[Suggestion] = []
    kept: list[tuple[str, ...]] = []
    for (members, dets), g in zip(groups, full, strict=True):
        if any(g < h for h in full):
            continue  # within a larger group (a chain A -> B -> C)
        cols_ = tuple(sorted(g, key=lambda c: pos[c]))
        if cols_ in kept:
            continue
        parts = []
        if len(members) > 1:
            parts.append(f"{', '.join(members)} determine each other")
        if dets:
            who = members[0] if len(members) == 1 else "they"
            parts.append(f"{who} determine{'s' if who != 'they' else ''} {', '.join(dets)}")
        out.append(Suggestion(FixedCombinations(cols_), 1.0, n, "; ".join(parts)))
        kept.append(cols_)
    # near dependencies (not exact): one pair each, strongest first
    near = sorted(
        ((k, v) for k, v in fd.items() if v < 1.0 and (k[1], k[0]) not in exact),
        key=lambda kv: -kv[1],
    )
    seen_pairs: set[frozenset[str]] = set()
    for (a, b), share in near:
        pair = frozenset((a, b))
        if pair in seen_pairs or any(pair <= set(g) for g in kept):
            continue
        seen_pairs.add(pair)
        out.append(
            Suggestion(
                FixedCombinations((a, b)),
                share,
                n,
                f"{a} determines {b} in {share:.1%} of rows (not exact)",
            )
        )
    return out, kept


# --------------------------------------------------------------------------- inequalities
#: an inequality is trivial when two unrelated columns with these values obey it this often
TRIVIAL_SHARE = 0.98


def _chance_ge(low: np.ndarray, high: np.ndarray) -> float:
    """P(high >= low) for a value of each drawn independently (both sorted, finite)."""
    if not len(low) or not len(high):
        return 1.0
    return float(np.searchsorted(low, high, side="right").sum() / (len(low) * len(high)))


def _inequalities(
    typed: pd.DataFrame,
    cols: list[str],
    screen: np.ndarray | None,
    min_share: float,
    min_rows: int,
    same_group: set[frozenset[str]],
    implied: set[tuple[str, str]],
) -> list[Suggestion]:
    if len(cols) < 2:
        return []
    X = np.column_stack([_as_float(typed[c]) for c in cols])
    Xs = X if screen is None else X[screen]
    lo_v, hi_v = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    srt = [np.sort(X[np.isfinite(X[:, k]), k]) for k in range(X.shape[1])]
    m = len(cols)
    edges: dict[tuple[int, int], tuple[float, int]] = {}
    for i in range(m):  # i = low
        with np.errstate(invalid="ignore"):
            present = np.isfinite(Xs) & np.isfinite(Xs[:, [i]])
            ge = (Xs >= Xs[:, [i]]) & present
        npres = present.sum(axis=0)
        share = np.where(npres > 0, ge.sum(axis=0) / np.maximum(npres, 1), 0.0)
        for j in np.flatnonzero(share >= min_share):
            if j == i or frozenset((cols[i], cols[j])) in same_group:
                continue
            if hi_v[i] <= lo_v[j] or _chance_ge(srt[i], srt[j]) >= TRIVIAL_SHARE:
                continue  # would hold just as well for unrelated columns with these ranges
            both = np.isfinite(X[:, i]) & np.isfinite(X[:, j])
            nb = int(both.sum())
            if nb < min_rows:
                continue
            a, b = X[both, i], X[both, j]
            if np.all(a == b):
                continue  # equal columns
            s = float((b >= a).mean())
            if s >= min_share:
                edges[(i, j)] = (s, nb)
    exact = {e for e, (s, _) in edges.items() if s >= 1.0}
    # transitive reduction over the exact edges
    reach = np.zeros((m, m), dtype=bool)
    for i, j in exact:
        reach[i, j] = True
    closure = reach.copy()
    for k in range(m):
        closure |= closure[:, [k]] & closure[[k], :]
    out = []
    for (i, j), _ in sorted(edges.items(), key=lambda kv: (-kv[1][0], kv[0])):
        via = closure[i, :] & closure[:, j]
        via[[i, j]] = False
        if ((i, j) in exact and via.any()) or (cols[i], cols[j]) in implied:
            continue
        con = Inequality(cols[i], cols[j])
        holds, support = _measure(con, typed)
        if holds < min_share:
            continue
        both = np.isfinite(X[:, i]) & np.isfinite(X[:, j])
        strict = bool(np.all(X[both, j] > X[both, i]))
        if holds >= 1.0:
            reason = "strictly greater in every row" if strict else "never below, in every row"
        else:
            reason = f"{cols[j]} >= {cols[i]} in {holds:.1%} of rows (not exact)"
        out.append(Suggestion(con, holds, support, reason))
    return out


# --------------------------------------------------------------------------- keys
def _keys(df: pd.DataFrame, schema: Schema, taken: set[str]) -> list[Suggestion]:
    out = []
    n = len(df)
    for col in schema:
        c = col.name
        if c in taken or col.kind == Kind.TEXT or n < 2:
            continue
        s = df[c]
        if s.isna().any() or s.duplicated().any():
            continue
        if pd.api.types.is_integer_dtype(s.dtype):
            if col.kind == Kind.ID:
                out.append(Suggestion(UniqueKey(c), 1.0, n, "unique integer id, never missing"))
            continue
        if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        first = str(s.iloc[0])
        runs = list(re.finditer(r"\d+", first))
        if not runs:
            continue
        r = runs[-1]
        fmt = first[: r.start()] + "#" * (r.end() - r.start()) + first[r.end() :]
        if r.end() - r.start() < 2 or "#" in first:
            continue
        con = UniqueKey(c, fmt)
        if con.check(df, df).all():
            out.append(Suggestion(con, 1.0, n, f"unique, never missing, all like {fmt}"))
    return out


# --------------------------------------------------------------------------- coherence
def _coherent(found: list[Suggestion], df: pd.DataFrame, schema: Schema) -> list[Suggestion]:
    """Drop exact suggestions that, accepted together, the constraint plan would refuse."""
    exact = [s for s in found if s.exact]
    base = list(schema.constraints)

    def fits(cons: list[Constraint]) -> bool:
        try:
            ConstraintPlan(cons, schema).fit(df)
        except (ConstraintError, SchemaError):
            return False
        return True

    if not exact or fits(base + [s.constraint for s in exact]):
        return found
    keep: list[Constraint] = list(base)
    bad: set[int] = set()
    for s in exact:
        if fits([*keep, s.constraint]):
            keep.append(s.constraint)
        else:
            bad.add(id(s))
    return [s for s in found if id(s) not in bad]


# --------------------------------------------------------------------------- checking
def check_constraints(
    df: pd.DataFrame,
    schema: Schema,
    constraints: Sequence[Constraint] | None = None,
    reference: pd.DataFrame | None = None,
) -> list[CheckResult]:
    """Per constraint: the share of rows of ``df`` (e.g. synthetic output) that obey it.

    Fixed combinations need the real data as ``reference`` (the combinations seen there);
    without it they are reported with ``share=None``. Unique keys count a row as failing when
    its key is missing, repeated or not in the format.
    """
    cons = list(schema.constraints if constraints is None else constraints)
    cols = [c for k in cons for c in k.columns]
    unknown = [c for c in dict.fromkeys(cols) if c not in df.columns]
    if unknown:
        raise SchemaError(f"the data has no column(s) {unknown} that the constraints read")
    typed = typed_view(df, schema, cols)
    ref = None
    if reference is not None:
        ref = typed_view(reference, schema, cols)
    out = []
    for k in cons:
        if isinstance(k, FixedCombinations) and ref is None:
            out.append(CheckResult(k, None, len(df), 0, "needs the real data (--real)"))
            continue
        ok = k.check(typed, ref)
        if isinstance(k, Identity):
            mask = np.ones(len(df), dtype=bool)
            for c in k.inputs:
                mask &= typed[c].notna().to_numpy()
        elif isinstance(k, FixedCombinations | UniqueKey | AllowedValues):
            mask = np.ones(len(df), dtype=bool)
        else:
            mask = np.ones(len(df), dtype=bool)
            for c in k.columns:
                mask &= typed[c].notna().to_numpy()
        support = int(mask.sum())
        fail = int((~ok[mask]).sum())
        share = 1.0 if support == 0 else 1.0 - fail / support
        out.append(CheckResult(k, share, support, fail))
    return out


__all__ = ["CheckResult", "Suggestion", "check_constraints", "suggest_constraints", "typed_view"]
