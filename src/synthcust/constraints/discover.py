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
* **implications** between values of two columns (``if InternetService == 'No' then
  OnlineSecurity == 'No internet service'``, both directions, value sets, numeric spikes like
  ``pdays == -1``), each backed by at least ``min_rule_rows`` rows and by strong evidence
  against chance (:mod:`synthcust.constraints.discover_implications`); multi-level ones come
  out once per implied column;
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

from collections.abc import Sequence

import numpy as np
import pandas as pd

from synthcust._utils.rng import resolve_rng
from synthcust.constraints.common import json_value
from synthcust.constraints.discover_identities import find_identities
from synthcust.constraints.discover_implications import MIN_SUPPORT, implication_suggestions
from synthcust.constraints.discover_relations import (
    TRIVIAL_SHARE,
    dependencies,
    dependency_suggestions,
    inequality_suggestions,
    key_suggestions,
)
from synthcust.constraints.plan import ConstraintPlan
from synthcust.constraints.suggestions import CheckResult, Suggestion, typed_view
from synthcust.exceptions import ConstraintError, SchemaError
from synthcust.rules.constraints import (
    AllowedValues,
    Constraint,
    FixedCombinations,
    Identity,
    Range,
    UniqueKey,
)
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Column, Kind, Schema

_LOWCARD_KINDS = (Kind.CATEGORICAL, Kind.BOOLEAN, Kind.NUMERIC)

__all__ = [
    "TRIVIAL_SHARE",
    "CheckResult",
    "Suggestion",
    "check_constraints",
    "suggest_constraints",
    "typed_view",
]


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
    implications: bool = True,
    ranges: bool = False,
    allowed_values: bool = False,
    random_state: int = 0,
    min_rule_rows: int = MIN_SUPPORT,
) -> list[Suggestion]:
    """Constraints the real table ``df`` obeys, with their share, support and reason.

    Parameters
    ----------
    df : pandas.DataFrame
        The real table.
    schema : Schema, optional
        Its schema (inferred, without PII marks, when omitted); constraints it already has are
        not suggested again, and columns it already derives are not derived twice.
    min_support : float, default 1.0
        The least share of checked rows a suggestion must hold on (1.0: exact rules only; e.g.
        0.95 also lists near-rules, marked ``exact == False``).
    max_columns : int, default 30
        At most this many numeric columns (and as many low-cardinality columns) are searched,
        the first ones in table order; pairs and triples grow with its square/cube.
    max_levels : int, default 50
        A categorical / boolean / integer column with at most this many distinct values is
        low-cardinality (functional dependencies, allowed values).
    max_parts : int, default 6
        Most parts in a ``total == a + b + c ...`` identity.
    min_rows : int, default 20
        A rule must be checked on at least this many rows.
    screen_rows : int, default 2000
        Identities and inequalities are screened on a random sample of this many rows, then
        verified on all rows.
    identities, inequalities, combinations, keys, implications, ranges, allowed_values : bool
        Which kinds to look for (ranges and allowed values are off by default: they are rarely
        informative).
    random_state : int, default 0
        Seeds the screening sample (:func:`synthcust._utils.rng.resolve_rng`).
    min_rule_rows : int, default 50
        Rows the premise of an implication must hold in
        (:mod:`synthcust.constraints.discover_implications`).

    Returns
    -------
    list of Suggestion
        Exact suggestions that, accepted together, a :class:`ConstraintPlan` would accept;
        then near-rules when ``min_support < 1``.

    Search bounds and rules: see the module docstring.
    """
    schema = _checked_schema(df, schema, min_support)
    n = len(df)
    existing = set(schema.constraints)
    pos = {c: i for i, c in enumerate(schema.names)}
    key_cols = {c.column for c in schema.constraints if isinstance(c, UniqueKey)}

    # ---- candidate columns -------------------------------------------------------------
    usable = [c for c in schema if c.name not in key_cols]
    typed, nunique, numeric, dates = _candidates(df, schema, usable, max_columns)

    rng = resolve_rng(random_state)
    screen = np.sort(rng.choice(n, screen_rows, replace=False)) if n > screen_rows else None

    found: list[Suggestion] = []
    implied: set[tuple[str, str]] = set()  # (low, high) implied by a chosen linear identity
    derived: dict[str, tuple[str, ...]] = {
        c.column: c.inputs for c in schema.constraints if isinstance(c, Identity)
    }

    # ---- unique keys -------------------------------------------------------------------
    if keys:
        found += key_suggestions(df, schema, key_cols)

    # ---- identities ----------------------------------------------------------------------
    if identities and len(numeric) >= 3:
        sugg, implied = find_identities(
            typed, numeric, screen, pos, derived,
            min_support=min_support, min_rows=min_rows, max_parts=max_parts,
        )  # fmt: skip
        found += sugg

    # ---- functional dependencies -----------------------------------------------------------
    groups: list[tuple[str, ...]] = []
    if combinations:
        low = _low_cardinality(usable, nunique, derived, n, max_levels)[:max_columns]
        sugg, groups = dependency_suggestions(dependencies(typed, low, min_support), low, pos, n)
        found += sugg

    # ---- implications (if A == a then B == b; value sets) ------------------------------------
    if implications:
        fixed = [*groups, *(k.columns for k in existing if isinstance(k, FixedCombinations))]
        tied = {frozenset((a, b)) for g in fixed for a in g for b in g if a != b}
        cols = [c.name for c in usable if c.kind in _LOWCARD_KINDS and c.name not in derived]
        found += implication_suggestions(
            typed, cols, pos, max_levels=max_levels, min_support=min_rule_rows, skip_pairs=tied
        )

    # ---- inequalities ----------------------------------------------------------------------
    if inequalities:
        same_group = {frozenset((a, b)) for g in groups for a in g for b in g if a != b}
        for cols in (numeric, dates):
            cols = [c for c in cols if nunique[c] > 2]
            found += inequality_suggestions(
                typed, cols, screen, min_support, min_rows, same_group, implied
            )

    # ---- ranges / allowed values -------------------------------------------------------------
    found += _observed(
        df, typed, usable, numeric, dates, nunique, ranges, allowed_values, max_levels
    )

    found = [s for s in found if s.constraint not in existing and s.holds >= min_support]
    return _coherent(found, df, schema)


def _checked_schema(df: pd.DataFrame, schema: Schema | None, min_support: float) -> Schema:
    """``schema`` (inferred when ``None``) after checking it and ``min_support`` fit ``df``."""
    if not 0.0 < min_support <= 1.0:
        raise SchemaError(f"min_support must be in (0, 1], got {min_support!r}")
    if schema is None:
        schema = infer_schema(df)
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise SchemaError(f"columns {missing} are in the schema but not in the data")
    return schema


def _low_cardinality(
    usable: list[Column],
    nunique: dict[str, int],
    derived: dict[str, tuple[str, ...]],
    n: int,
    max_levels: int,
) -> list[str]:
    """Columns for functional dependencies: categorical, boolean or integer, 2 to
    ``max_levels`` values (each seen twice on average), not derived by an identity."""
    return [
        c.name
        for c in usable
        if c.kind in _LOWCARD_KINDS
        and (c.kind != Kind.NUMERIC or c.integer)
        and 2 <= nunique[c.name] <= max_levels
        and n >= 2 * nunique[c.name]
        and c.name not in derived
    ]


def _candidates(
    df: pd.DataFrame, schema: Schema, usable: list[Column], max_columns: int
) -> tuple[pd.DataFrame, dict[str, int], list[str], list[str]]:
    """The typed view of the searchable columns, their distinct counts, and the numeric and
    datetime columns to search (at least two values; the first ``max_columns``)."""
    numeric = [c.name for c in usable if c.kind == Kind.NUMERIC]
    dates = [c.name for c in usable if c.kind == Kind.DATETIME]
    wanted = [c.name for c in usable if c.kind in (*_LOWCARD_KINDS, Kind.DATETIME)]
    typed = typed_view(df, schema, wanted)
    nunique = {c: int(typed[c].nunique(dropna=True)) for c in typed.columns}
    numeric = [c for c in numeric if nunique[c] >= 2][:max_columns]
    dates = [c for c in dates if nunique[c] >= 2][:max_columns]
    return typed, nunique, numeric, dates


def _observed(
    df: pd.DataFrame,
    typed: pd.DataFrame,
    usable: list[Column],
    numeric: list[str],
    dates: list[str],
    nunique: dict[str, int],
    ranges: bool,
    allowed_values: bool,
    max_levels: int,
) -> list[Suggestion]:
    """Observed ranges and allowed values (off by default: rarely informative)."""
    n = len(df)
    found: list[Suggestion] = []
    if ranges:
        for c in [*numeric, *dates]:
            v = typed[c].dropna()
            lo, hi = v.min(), v.max()
            if isinstance(lo, pd.Timestamp):
                con: Constraint = Range(c, lo.isoformat(), hi.isoformat())
            else:
                con = Range(c, json_value(lo), json_value(hi))
            found.append(Suggestion(con, 1.0, len(v), "observed range"))
    if allowed_values:
        for col in usable:
            c = col.name
            if col.kind in (Kind.CATEGORICAL, Kind.BOOLEAN) and 2 <= nunique[c] <= max_levels:
                vals = sorted({json_value(v) for v in df[c].dropna().unique()}, key=str)
                if df[c].isna().any():
                    vals.append(None)
                found.append(
                    Suggestion(AllowedValues(c, tuple(vals)), 1.0, n, f"{len(vals)} values seen")
                )
    return found


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
