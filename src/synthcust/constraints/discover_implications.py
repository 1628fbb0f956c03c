"""Discovery of implications between column values (``if A == a then B == b``, value sets).

Part of :func:`synthcust.constraints.discover.suggest_constraints` and of the rules every fit
discovers (:func:`synthcust.constraints.auto.discover_rules`).

For every pair of low-cardinality columns (categorical, boolean, numeric with at most
:data:`MAX_NUMERIC_LEVELS` values; a numeric column with more values takes part through its
*spikes*, values held by at least ``min_support`` rows and :data:`SPIKE_SHARE` of all rows,
e.g. ``pdays == -1``, the rest being one level "any other value"), the two-way table of the
rows where both are present is counted. A cell ``(a, b)`` is a **forbidden combination** when

* no real row has ``A == a`` and ``B == b``;
* ``a`` occurs in at least ``min_support`` rows (default :data:`MIN_SUPPORT` = 50), so a
  handful of rows never makes a rule;
* the rows of ``a`` all falling inside the values of ``B`` they show would be very unlikely if
  the columns were independent: ``-n_a * log(share of rows with those values) >= min_evidence``
  (default :data:`MIN_EVIDENCE` = 30 nats; chance alone: probability ``e^-30`` ≈ 1e-13), so a
  rare value that simply never met another is not a rule, and ``A == a`` implying a value 95%
  of rows have anyway needs 600 rows. (Strongly related columns can still leave a combination
  empty that is a tendency rather than a law: such a rule is true of every real row, and
  enforcing it only moves the model's rare slips.)

and the same with the roles of ``A`` and ``B`` swapped.

The forbidden cells of a pair are covered by few rectangles ``A in P and B in R`` (greedy:
the largest uncovered first), each written as one :class:`~synthcust.rules.constraints.Rule`,
in whichever direction reads best: ``if InternetService == 'No' then OnlineSecurity ==
'No internet service'`` and ``if OnlineSecurity == 'No internet service' then InternetService
== 'No'`` (both directions of one equivalence), or ``if relationship in ('Husband', 'Wife')
then marital_status in (...)`` (value sets). Pairs are visited in table order and the cells
a third, complete column already forces through the rules kept (``InternetService`` -> each
add-on, so add-on -> add-on is not listed again) are left out: multi-level implications come
out as one rule per implied column. Tables over :data:`SCREEN_ROWS` rows are counted on that
many (seeded), and every rule is then checked, and its support counted, on all rows.

>>> import pandas as pd
>>> df = pd.DataFrame({"service": ["No"] * 60 + ["DSL"] * 70 + ["Fiber"] * 70,
...                    "addon": ["none"] * 60 + ["Yes", "No"] * 70})
>>> [s.constraint.describe() for s in implication_suggestions(df, ["service", "addon"], {})]
["if service == 'No' then addon == 'none'", "if addon == 'none' then service == 'No'"]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust.constraints.common import json_value
from synthcust.constraints.implications import as_implication, implication_mask, premise_mask
from synthcust.constraints.suggestions import Suggestion, expression_name
from synthcust.rules.constraints import Rule

__all__ = ["MAX_SPIKES", "MIN_EVIDENCE", "MIN_SUPPORT", "implication_suggestions"]

#: Rows each value of a forbidden combination must occur in (both sides).
MIN_SUPPORT = 50
#: Evidence (in nats) a premise needs: ``-n_a * log(share of the values it allows)``.
MIN_EVIDENCE = 30.0
#: Most spike values of one many-valued numeric column.
MAX_SPIKES = 20
#: Tables with more rows are counted on this many (seeded), each rule then checked on all.
SCREEN_ROWS = 50_000
#: A numeric column with more values than this takes part through its spikes only.
MAX_NUMERIC_LEVELS = 20
#: The least share of rows a spike holds (``pdays == -1``: 82% of Bank's rows).
SPIKE_SHARE = 0.05


@dataclass
class _Levels:
    column: str
    codes: np.ndarray  # int64 per row, -1 where missing
    values: list[Any]  # the level values; the "other" level (numeric) is last when present
    other: bool  # the last level stands for every non-spike value
    complete: bool  # no missing value


def _levels(s: pd.Series, max_levels: int, min_support: int) -> _Levels | None:
    """The levels of one typed column, or ``None`` when it cannot take part."""
    name = str(s.name)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return None
    numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    if not numeric:
        codes, uniq = pd.factorize(s, use_na_sentinel=True)
        if not 2 <= len(uniq) <= max_levels:
            return None
        vals = [json_value(v) for v in uniq]
        if not all(isinstance(v, str | bool | int | float) for v in vals):
            return None
        return _Levels(name, codes.astype(np.int64), vals, False, bool((codes >= 0).all()))
    x = s.to_numpy(dtype=float, na_value=np.nan)
    fin = np.isfinite(x)
    uniq, counts = np.unique(x[fin], return_counts=True)
    if len(uniq) < 2:
        return None
    codes = np.full(len(x), -1, dtype=np.int64)
    if len(uniq) <= min(max_levels, MAX_NUMERIC_LEVELS):
        codes[fin] = np.searchsorted(uniq, x[fin])
        return _Levels(name, codes, [_number(v) for v in uniq], False, bool(fin.all()))
    spikes = uniq[(counts >= min_support) & (counts >= SPIKE_SHARE * len(x))]
    if len(spikes) > MAX_SPIKES:
        spikes = np.sort(uniq[np.argsort(-counts, kind="stable")[:MAX_SPIKES]])
    if not len(spikes):
        return None
    k = len(spikes)
    pos = np.searchsorted(spikes, x[fin])
    hit = (pos < k) & (spikes[np.minimum(pos, k - 1)] == x[fin])
    codes[fin] = np.where(hit, pos, k)
    return _Levels(name, codes, [_number(v) for v in spikes] + [None], True, bool(fin.all()))


def _number(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def _forbidden(
    a: _Levels, b: _Levels, min_support: int, min_evidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """The forbidden cells of the pair and its count table (rows where both are present).

    A value ``a`` (at least ``min_support`` rows) forbids the values of ``B`` it never occurs
    with when independence would rarely keep all its rows inside the values it does occur
    with: ``-n_a * log(share of rows with those values) >= min_evidence``. Both directions.
    """
    ka, kb = len(a.values), len(b.values)
    both = (a.codes >= 0) & (b.codes >= 0)
    table = np.bincount(a.codes[both] * kb + b.codes[both], minlength=ka * kb).reshape(ka, kb)
    n = table.sum()
    F = np.zeros((ka, kb), dtype=bool)
    if n == 0:
        return F, table
    seen = table > 0
    for t, s in ((table, seen), (table.T, seen.T)):
        rows, share = t.sum(axis=1), t.sum(axis=0) / n
        inside = (s * share[None, :]).sum(axis=1)  # share of rows with the values seen
        with np.errstate(divide="ignore"):
            evidence = -rows * np.log(np.clip(inside, 1e-300, 1.0))
        strong = (rows >= min_support) & (evidence >= min_evidence)
        cells = strong[:, None] & ~s
        F |= cells if t is table else cells.T
    return F, table


def _rectangles(F: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Few rectangles ``P x R`` of forbidden cells covering every cell of ``F`` (greedy)."""
    uncovered = F.copy()
    out = []
    while uncovered.any():
        cands: list[tuple[np.ndarray, np.ndarray]] = []
        for i in np.flatnonzero(uncovered.any(axis=1)):
            R = F[i]
            cands.append((np.asarray(F[:, R].all(axis=1)), R))
        for j in np.flatnonzero(uncovered.any(axis=0)):
            P = F[:, j]
            cands.append((P, np.asarray(F[P, :].all(axis=0))))
        P, R = max(cands, key=lambda pr: int(uncovered[np.ix_(pr[0], pr[1])].sum()))
        out.append((P, R))
        uncovered[np.ix_(P, R)] = False
    return out


def _lit(v: Any) -> str:
    return repr(v)


def _set_text(lv: _Levels, chosen: np.ndarray) -> tuple[str, int] | None:
    """``col`` restricted to the chosen levels, as an expression (and its literal count)."""
    col = expression_name(lv.column)
    idx = np.flatnonzero(chosen)
    if lv.other and chosen[-1]:  # "any other value" is in: name the spikes left out
        out = [lv.values[i] for i in np.flatnonzero(~chosen[:-1])]
        if not out:
            return None
        if len(out) == 1:
            return f"{col} != {_lit(out[0])}", 1
        return f"{col} not in ({', '.join(_lit(v) for v in out)})", len(out)
    vals = [lv.values[i] for i in idx]
    if not vals:
        return None
    if len(vals) == 1:
        return f"{col} == {_lit(vals[0])}", 1
    return f"{col} in ({', '.join(_lit(v) for v in vals)})", len(vals)


def _rule_text(
    a: _Levels, b: _Levels, P: np.ndarray, R: np.ndarray, support: tuple[int, int], least: int
) -> tuple[str, str, bool] | None:
    """The best reading of ``not (A in P and B in R)``: (if text, then text, A is the premise).

    ``support``: rows meeting each premise (``B in R``, ``A in P``).
    """
    forms = []
    for first, (x, px, y, ry) in enumerate(((b, R, a, P), (a, P, b, R))):
        prem, then = _set_text(x, px), _set_text(y, ~ry)
        if prem is None or then is None:
            continue
        if x.other and px[-1] and not x.complete:
            continue  # "not in" would also take the missing values of the premise
        # a well-supported premise first, then an equality as the requirement, then the
        # shortest text, then A as the premise
        key = (support[first] < least, then[1] != 1, prem[1] + then[1], -first)
        forms.append((key, prem[0], then[0], bool(first)))
    if not forms:
        return None
    _, p, t, a_first = min(forms)
    return p, t, a_first


def implication_suggestions(
    typed: pd.DataFrame,
    cols: Sequence[str],
    pos: Mapping[str, int],
    *,
    max_levels: int = 50,
    min_support: int = MIN_SUPPORT,
    min_evidence: float = MIN_EVIDENCE,
    skip_pairs: set[frozenset[str]] | None = None,
) -> list[Suggestion]:
    """Implication rules between ``cols`` of ``typed`` that hold in every row.

    Parameters
    ----------
    typed : pandas.DataFrame
        The typed view (:func:`~synthcust.constraints.suggestions.typed_view`).
    cols : sequence of str
        Candidate columns, in table order.
    pos : mapping
        Column -> position in the table (pairs are visited in this order; missing: list order).
    max_levels : int
        Columns with more values take part through their spikes only (numeric) or not at all.
    min_support, min_evidence
        See the module docstring.
    skip_pairs : set, optional
        Pairs already tied by another constraint (a fixed combination).

    Returns
    -------
    list of Suggestion
        ``support`` is the number of rows the premise holds in (with the implied column
        present); each rule is checked on every row.
    """
    order = sorted(cols, key=lambda c: (pos.get(c, len(pos)), list(cols).index(c)))
    full = typed
    if len(typed) > SCREEN_ROWS:  # counted on a sample, every rule then checked on all rows
        rows = np.sort(np.random.default_rng(0).choice(len(typed), SCREEN_ROWS, replace=False))
        typed = typed.iloc[rows]
    levels = {}
    for c in order:
        lv = _levels(typed[c].rename(c), max_levels, min_support)
        if lv is not None:
            levels[c] = lv
    names = list(levels)
    kept: dict[tuple[str, str], np.ndarray] = {}
    out: list[Suggestion] = []
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            if skip_pairs and frozenset((x, y)) in skip_pairs:
                continue
            a, b = levels[x], levels[y]
            F, table = _forbidden(a, b, min_support, min_evidence)
            if not F.any():
                continue
            F &= ~_implied(x, y, names, levels, kept, F.shape)
            if not F.any():
                continue
            kept[(x, y)] = F
            out += _pair_rules(a, b, F, table, full, min_support)
    return out


def _implied(
    x: str,
    y: str,
    names: list[str],
    levels: Mapping[str, _Levels],
    kept: Mapping[tuple[str, str], np.ndarray],
    shape: tuple[int, int],
) -> np.ndarray:
    """Cells of ``(x, y)`` that the rules kept force through one complete third column."""

    def get(u: str, v: str) -> np.ndarray | None:
        if (u, v) in kept:
            return kept[(u, v)]
        if (v, u) in kept:
            return kept[(v, u)].T
        return None

    forced = np.zeros(shape, dtype=bool)
    for c in names:
        if c in (x, y) or not levels[c].complete:
            continue
        fxc, fcy = get(x, c), get(c, y)
        if fxc is None or fcy is None:
            continue
        reach = (~fxc).astype(np.int64) @ (~fcy).astype(np.int64)
        forced |= reach == 0
    return forced


def _pair_rules(
    a: _Levels, b: _Levels, F: np.ndarray, table: np.ndarray, typed: pd.DataFrame, least: int
) -> list[Suggestion]:
    n = int(table.sum())
    ra, cb = table.sum(axis=1), table.sum(axis=0)
    out = []
    for P, R in _rectangles(F):
        text = _rule_text(a, b, P, R, (int(cb[R].sum()), int(ra[P].sum())), least)
        if text is None:
            continue
        prem, then, _ = text
        rule = Rule(then, prem)
        imp = as_implication(rule)
        if imp is None or not implication_mask(imp, typed).all():
            continue  # safety net: only rules every real row obeys
        support = int(premise_mask(imp, typed).sum())  # every row, also when screened
        expected = float(np.outer(ra, cb)[np.ix_(P, R)].sum() / max(n, 1))
        reason = (
            f"all {support:,} rows meeting the premise obey it; independent columns would "
            f"break it in {expected:,.0f} of these {n:,} rows"
        )
        out.append(Suggestion(rule, 1.0, support, reason))
    return out
