"""Static checks of a set of constraints against a schema, before any data is seen.

Every problem is collected and reported at once: unknown columns first (a
:class:`~synthcust.exceptions.SchemaError`), then kinds that do not fit, keys used by other
constraints, columns derived twice, circles of identities or inequalities and contradictory
ranges (one :class:`~synthcust.exceptions.ConstraintError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from synthcust.constraints.common import find_cycle
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
from synthcust.schema.model import Kind, Schema, unknown_column_message

__all__ = ["COMBINABLE_KINDS", "ORDERED_KINDS", "validate_constraints"]

#: Kinds an inequality or a range can compare.
ORDERED_KINDS = (Kind.NUMERIC, Kind.DATETIME)
#: Kinds a fixed combination can hold.
COMBINABLE_KINDS = (Kind.CATEGORICAL, Kind.BOOLEAN, Kind.NUMERIC, Kind.CONSTANT)


def validate_constraints(constraints: Sequence[Constraint], schema: Schema) -> None:
    """Check that ``constraints`` fit ``schema`` and do not contradict each other.

    Parameters
    ----------
    constraints : sequence of Constraint
        The declarations.
    schema : Schema
        The table they are about.

    Raises
    ------
    SchemaError
        Naming every unknown column (with a close match).
    ConstraintError
        Listing every other problem: kinds, keys, columns derived twice, circles, empty ranges.

    Examples
    --------
    >>> from synthcust.rules.constraint_text import parse_constraint
    >>> from synthcust.schema import Column, Kind, Schema
    >>> s = Schema((Column("a", Kind.NUMERIC), Column("b", Kind.NUMERIC)))
    >>> validate_constraints([parse_constraint("b >= a")], s)
    >>> validate_constraints([parse_constraint("b >= a"), parse_constraint("a >= b")], s)
    Traceback (most recent call last):
    ...
    synthcust.exceptions.ConstraintError: contradictory inequalities: a <= b <= a; they can only hold if all are equal (and never if one is strict); remove one, or state the equality as an identity
    """  # noqa: E501
    kinds = {c.name: c.kind for c in schema}
    problems = [
        f"constraint '{c}': {unknown_column_message(col, schema.names)}"
        for c in constraints
        for col in c.columns
        if col not in kinds
    ]
    if problems:
        raise SchemaError(problems)
    for c in constraints:
        problems += _kind_problems(c, {col: kinds[col] for col in c.columns})
    problems += _key_problems(constraints)
    problems += _identity_problems(constraints)
    problems += _inequality_problems(constraints)
    problems += _range_problems(constraints)
    if problems:
        raise ConstraintError("; ".join(problems))


def _kind_problems(c: Constraint, k: Mapping[str, Kind]) -> list[str]:
    """Problems of one constraint with the kinds of the columns it reads."""
    if isinstance(c, Inequality):
        if k[c.low] not in ORDERED_KINDS or k[c.high] not in ORDERED_KINDS or k[c.low] != k[c.high]:
            return [
                f"constraint '{c}': compares {c.low!r} ({k[c.low]}) with {c.high!r} "
                f"({k[c.high]}); an inequality needs two numeric or two datetime columns"
            ]
    elif isinstance(c, Range):
        if k[c.column] not in ORDERED_KINDS:
            return [f"constraint '{c}': {c.column!r} is {k[c.column]}, not numeric or datetime"]
        want_ts = k[c.column] == Kind.DATETIME
        return [
            f"constraint '{c}': bound {b!r} does not fit {k[c.column]} column "
            f"{c.column!r}" + ("; write a date like '2024-01-31'" if want_ts else "")
            for b in (c.low, c.high)
            if b is not None and isinstance(b, pd.Timestamp) != want_ts
        ]
    elif isinstance(c, Identity):
        bad = [col for col in c.columns if k[col] != Kind.NUMERIC]
        if bad:
            return [
                f"constraint '{c}': {', '.join(repr(b) for b in bad)} not numeric; "
                "identities are arithmetic on numeric columns"
            ]
    elif isinstance(c, FixedCombinations):
        bad = [col for col in c.columns if k[col] not in COMBINABLE_KINDS]
        if bad:
            return [
                f"constraint '{c}': {', '.join(repr(b) for b in bad)} cannot be combined "
                "(ids, free text and dates are not categories)"
            ]
    elif isinstance(c, AllowedValues | UniqueKey) and k[c.column] == Kind.TEXT:
        return [f"constraint '{c}': {c.column!r} is free text, which is not modelled"]
    return []


def _key_problems(constraints: Sequence[Constraint]) -> list[str]:
    """Key columns are generated, so no other constraint may read them."""
    keys = {c.column for c in constraints if isinstance(c, UniqueKey)}
    return [
        f"constraint '{c}': uses key column(s) {sorted(keys & set(c.columns))}, "
        "which are generated, not modelled"
        for c in constraints
        if not isinstance(c, UniqueKey) and keys & set(c.columns)
    ]


def _identity_problems(constraints: Sequence[Constraint]) -> list[str]:
    """A column derived twice, or identities deriving each other in a circle."""
    problems: list[str] = []
    targets: dict[str, Identity] = {}
    for c in constraints:
        if isinstance(c, Identity):
            if c.column in targets:
                problems.append(
                    f"column {c.column!r} is derived twice ('{targets[c.column]}' and "
                    f"'{c}'); keep one"
                )
            targets[c.column] = c
    cyc = find_cycle({t: [i for i in idn.inputs if i in targets] for t, idn in targets.items()})
    if cyc:
        problems.append(
            "contradictory identities: " + " <- ".join(cyc) + " derive each other in a circle"
        )
    return problems


def _inequality_problems(constraints: Sequence[Constraint]) -> list[str]:
    """A circle a <= b <= ... <= a is contradictory (or forces equality)."""
    edges: dict[str, list[str]] = {}
    for c in constraints:
        if isinstance(c, Inequality):
            edges.setdefault(c.low, []).append(c.high)
    cyc = find_cycle(edges)
    if not cyc:
        return []
    chain = " <= ".join(cyc)
    return [
        f"contradictory inequalities: {chain}; they can only hold if all are equal "
        "(and never if one is strict); remove one, or state the equality as an identity"
    ]


def _range_problems(constraints: Sequence[Constraint]) -> list[str]:
    """Ranges on one column that leave no value."""
    ranges: dict[str, list[Range]] = {}
    for c in constraints:
        if isinstance(c, Range):
            ranges.setdefault(c.column, []).append(c)
    problems = []
    for col, rs in ranges.items():
        lows = [r.low for r in rs if r.low is not None]
        highs = [r.high for r in rs if r.high is not None]
        if lows and highs and max(lows) > min(highs):
            problems.append(
                f"contradictory ranges on {col!r}: "
                f"{' and '.join(str(r) for r in rs)} leave no value"
            )
    return problems
