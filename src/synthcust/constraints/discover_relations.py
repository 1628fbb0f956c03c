"""Discovery of functional dependencies, inequalities and unique keys.

Part of :func:`synthcust.constraints.discover.suggest_constraints`; the search rules are in
that module's docstring.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from synthcust.constraints.suggestions import Suggestion, column_as_float, measure
from synthcust.rules.constraints import FixedCombinations, Inequality, UniqueKey
from synthcust.schema.model import Kind, Schema

__all__ = [
    "TRIVIAL_SHARE",
    "dependencies",
    "dependency_suggestions",
    "inequality_suggestions",
    "key_suggestions",
]


# --------------------------------------------------------------------------- dependencies
def _codes(s: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    k = len(uniq)
    codes = np.where(codes < 0, k, codes)  # missing is a value of its own
    return codes.astype(np.int64), k + 1


def dependencies(typed: pd.DataFrame, cols: list[str], min_share: float) -> dict:
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


def dependency_suggestions(
    fd: Mapping[tuple[str, str], float], cols: list[str], pos: Mapping[str, int], n: int
) -> tuple[list[Suggestion], list[tuple[str, ...]]]:
    """Fixed combinations from exact dependencies (columns that determine each other and what
    they determine, one group per chain), then near dependencies one pair each.

    Returns the suggestions and the groups kept (pairs inside one are not inequalities).
    """
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


def inequality_suggestions(
    typed: pd.DataFrame,
    cols: list[str],
    screen: np.ndarray | None,
    min_share: float,
    min_rows: int,
    same_group: set[frozenset[str]],
    implied: set[tuple[str, str]],
) -> list[Suggestion]:
    """``high >= low`` between the ``cols`` that would not hold by their ranges alone.

    Screened on ``screen`` rows, verified on all; transitive ones (``a <= b <= c`` also gives
    ``a <= c``), pairs in one group (``same_group``) and ``implied`` pairs are left out.
    """
    if len(cols) < 2:
        return []
    X = np.column_stack([column_as_float(typed[c]) for c in cols])
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
        holds, support = measure(con, typed)
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
def key_suggestions(df: pd.DataFrame, schema: Schema, taken: set[str]) -> list[Suggestion]:
    """Unique, never-missing columns: integer ids, and text keys like ``CUST-000123``."""
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
