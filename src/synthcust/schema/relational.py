"""Relationships between tables: which table references which, and by which key.

A :class:`RelationalSpec` describes a tree of tables (customers -> orders -> order lines): the
relationships (:class:`Relationship`, ``child.key=parent.key``), each table's primary key and
the column ordering a child table's rows within their parent. It describes data, not a model:
the relational synthesizer learns tables through it and the relational evaluation compares
tables through it. :func:`detect_relationships` finds the obvious ones, :func:`check_spec` and
:func:`check_keys` validate a spec against the tables with messages naming the table, column
and values.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from synthcust.exceptions import DataError

__all__ = [
    "RelationalSpec",
    "Relationship",
    "check_keys",
    "check_spec",
    "detect_relationships",
    "top_down",
]


@dataclass(frozen=True)
class Relationship:
    """``child.child_key`` references ``parent.parent_key`` (many children per parent)."""

    parent: str
    child: str
    parent_key: str
    child_key: str

    @staticmethod
    def parse(text: str) -> Relationship:
        """Read ``"orders.customer_id=customers.id"`` (child side first)."""
        m = re.fullmatch(r"\s*([^.=\s]+)\.([^=]+?)\s*=\s*([^.=\s]+)\.(.+?)\s*", text)
        if not m:
            raise DataError(
                f"cannot read relationship {text!r}; write CHILD_TABLE.COLUMN=PARENT_TABLE.COLUMN, "
                "e.g. orders.customer_id=customers.customer_id"
            )
        return Relationship(parent=m[3], child=m[1], parent_key=m[4], child_key=m[2])

    def __str__(self) -> str:
        return f"{self.child}.{self.child_key}={self.parent}.{self.parent_key}"


@dataclass(frozen=True)
class RelationalSpec:
    """Tables' relationships, primary keys and sequence (order) columns.

    ``order_by[table]`` is the datetime column that orders a table's rows within their parent
    (``None``: the rows' order in the data). Saved and loaded as JSON with
    :meth:`to_dict` / :meth:`from_dict`.
    """

    relationships: tuple[Relationship, ...]
    primary_keys: Mapping[str, str] = field(default_factory=dict)
    order_by: Mapping[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "relationships": [dataclasses.asdict(r) for r in self.relationships],
            "primary_keys": dict(self.primary_keys),
            "order_by": dict(self.order_by),
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> RelationalSpec:
        try:
            rels = tuple(Relationship(**r) for r in d.get("relationships", []))
            return RelationalSpec(
                rels, dict(d.get("primary_keys") or {}), dict(d.get("order_by") or {})
            )
        except TypeError as e:
            raise DataError(
                f"cannot read the relationship spec ({e}); each relationship needs exactly "
                "parent, child, parent_key and child_key"
            ) from e

    # -- graph ------------------------------------------------------------------------------
    def parent_of(self, table: str) -> Relationship | None:
        for r in self.relationships:
            if r.child == table:
                return r
        return None

    def children_of(self, table: str) -> list[Relationship]:
        return [r for r in self.relationships if r.parent == table]

    def root(self, tables: Sequence[str]) -> str:
        roots = [t for t in tables if self.parent_of(t) is None]
        if len(roots) != 1:
            raise DataError(f"expected exactly one root table, found {roots}")
        return roots[0]


def detect_relationships(tables: Mapping[str, pd.DataFrame]) -> list[Relationship]:
    """Relationships that are obvious from the data.

    ``child.c`` references ``parent.c`` when both tables have a column ``c``, ``parent.c`` is
    unique and complete, and the child's non-missing values are a subset of it. When both
    directions qualify (one-to-one), the smaller table is the parent.

    Examples
    --------
    >>> cust = pd.DataFrame({"cid": [1, 2, 3], "country": ["NL", "UK", "NL"]})
    >>> orders = pd.DataFrame({"oid": [10, 11, 12, 13], "cid": [1, 1, 3, 2]})
    >>> [str(r) for r in detect_relationships({"customers": cust, "orders": orders})]
    ['orders.cid=customers.cid']
    """
    found: dict[tuple[str, str], Relationship] = {}
    names = list(tables)
    for p in names:
        for c in names:
            if p == c:
                continue
            for col in tables[p].columns:
                if col not in tables[c].columns:
                    continue
                pk = tables[p][col]
                if pk.isna().any() or not pk.is_unique:
                    continue
                fk = tables[c][col].dropna()
                if len(fk) == 0 or not fk.isin(pk).all():
                    continue
                key = tuple(sorted((p, c)))
                rel = Relationship(p, c, str(col), str(col))
                prev = found.get(key)  # type: ignore[arg-type]
                if prev is None or len(tables[p]) < len(tables[prev.parent]):
                    found[key] = rel  # type: ignore[index]
    return list(found.values())


def check_spec(spec: RelationalSpec, tables: Mapping[str, pd.DataFrame]) -> str:
    """Validate ``spec`` against ``tables``; return the root table's name.

    Raises :class:`DataError` for unknown tables/columns, a table with two parents, circular
    relationships, or a table not linked to any parent.
    """
    names = list(tables)
    for r in spec.relationships:
        for t, col in ((r.parent, r.parent_key), (r.child, r.child_key)):
            if t not in tables:
                raise DataError(f"relationship {r}: unknown table {t!r}; tables are {names}")
            if col not in tables[t].columns:
                raise DataError(
                    f"relationship {r}: table {t!r} has no column {col!r}; its columns are "
                    f"{[str(c) for c in tables[t].columns]}"
                )
    parents: dict[str, list[str]] = {}
    for r in spec.relationships:
        parents.setdefault(r.child, []).append(r.parent)
    for t, ps in parents.items():
        if len(ps) > 1:
            raise DataError(
                f"table {t!r} has several parents {ps}; a table may reference only one parent "
                "(model the others as columns, or as separate relational models)"
            )
    # cycles: follow parent links from every table
    for t in names:
        seen = [t]
        cur = t
        while cur in parents:
            cur = parents[cur][0]
            if cur in seen:
                cycle = " -> ".join([*seen[seen.index(cur) :], cur])
                raise DataError(
                    f"circular relationships {cycle}: every chain of parents must end at one "
                    "root table (e.g. customers); remove one of these relationships"
                )
            seen.append(cur)
    roots = [t for t in names if t not in parents]
    if len(roots) != 1:
        lone = [t for t in roots if not spec.children_of(t)] or roots[1:]
        ex = lone[0]
        other = next(t for t in roots if t != ex)
        raise DataError(
            f"table {ex!r} has no parent column declared and none was detected (root tables: "
            f"{roots}); declare one like --relationship {ex}.COLUMN={other}.COLUMN"
        )
    return roots[0]


def check_keys(
    tables: Mapping[str, pd.DataFrame], spec: RelationalSpec, orphans: str = "error"
) -> dict[str, pd.DataFrame]:
    """Check referential integrity of the real tables; return them (orphans dropped if asked).

    Parent keys must be unique and complete; every child key must point to a parent row. With
    ``orphans="drop"`` child rows whose key is missing or unknown are dropped instead (and
    their own children with them).
    """
    if orphans not in ("error", "drop"):
        raise DataError(f"orphans must be 'error' or 'drop', got {orphans!r}")
    out = dict(tables)
    root = spec.root(list(tables))
    order = top_down(spec, root)
    for r in (spec.parent_of(t) for t in order[1:]):
        assert r is not None
        pk = out[r.parent][r.parent_key]
        if pk.isna().any():
            raise DataError(
                f"table {r.parent!r}: key column {r.parent_key!r} has {int(pk.isna().sum())} "
                "missing values; every parent needs a key (drop those rows or fill them)"
            )
        dup = pk[pk.duplicated(keep=False)]
        if len(dup):
            ex = list(pd.unique(dup))[:5]
            raise DataError(
                f"table {r.parent!r}: key column {r.parent_key!r} has {dup.nunique()} duplicated "
                f"values (e.g. {ex}); a parent key must be unique — deduplicate the table or "
                "declare another key column"
            )
        fk = out[r.child][r.child_key]
        bad = fk.isna() | ~fk.isin(pk)
        if bad.any():
            if orphans == "drop":
                out[r.child] = out[r.child].loc[~bad].reset_index(drop=True)
                continue
            unknown = fk[bad].dropna()
            ex = list(pd.unique(unknown))[:5]
            raise DataError(
                f"table {r.child!r}: {int(bad.sum())} rows have a {r.child_key!r} that matches "
                f"no {r.parent!r}.{r.parent_key!r} ({int(fk.isna().sum())} missing"
                + (f", unknown values e.g. {ex}" if ex else "")
                + "); fix the data or pass orphans='drop' (CLI: --drop-orphans) to leave them out"
            )
    return out


def top_down(spec: RelationalSpec, root: str) -> list[str]:
    """The tables under ``root``, parents before children (breadth first).

    Examples
    --------
    >>> spec = RelationalSpec((Relationship("customers", "orders", "cid", "cid"),))
    >>> top_down(spec, "customers")
    ['customers', 'orders']
    """
    out, todo = [], [root]
    while todo:
        t = todo.pop(0)
        out.append(t)
        todo.extend(r.child for r in spec.children_of(t))
    return out
