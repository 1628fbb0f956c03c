"""The ledger's hash chain: every charge and every budget change holds the hash of the one before.

The append-only triggers stop an ordinary ``DELETE`` or ``UPDATE``; the chain makes the rest
*evident*: someone who drops the triggers and deletes or edits a row (or a budget change) leaves
a chain that no longer verifies. Each row's hash covers the fields that decide the budget
(dataset fingerprint, epsilon, delta, mechanism, synthesizer, parameters, time) and the previous
row's hash; the head of each chain (row count and last hash) is kept in the ``meta`` table and
updated in the same transaction as the row, so deleting the *last* rows is caught too.

What it cannot do alone: someone with write access who recomputes every hash and the head can
forge a consistent history. Record the head that :func:`verify_chains` reports somewhere they
cannot write (a ticket, a signed log) and pass it back as ``expect_head`` to close that gap.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol


class Transaction(Protocol):
    """What the chain needs of :class:`synthcust.store.backends.Transaction`."""

    def rows(self, sql: str, **params: Any) -> list[dict]: ...

    def one(self, sql: str, **params: Any) -> dict | None: ...

__all__ = [
    "BUDGET_CHAIN",
    "GENESIS",
    "LEDGER_CHAIN",
    "ChainReport",
    "append_hash",
    "row_hash",
    "seal_unhashed",
    "verify_chains",
]

#: The "previous hash" of the first row of a chain.
GENESIS = "0" * 64
#: Chain name -> (table, the fields hashed, in order).
LEDGER_CHAIN = (
    "privacy_ledger",
    ("id", "fingerprint", "epsilon", "delta", "mechanism", "synthesizer", "params_json", "created"),
)
BUDGET_CHAIN = ("budget_changes", ("id", "fingerprint", "total", "previous", "changed"))
_CHAINS = {"ledger": LEDGER_CHAIN, "budget": BUDGET_CHAIN}


def _canon(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)  # exact: the stored double, whatever the backend
    if isinstance(value, int):
        return str(value)
    return value


def row_hash(prev: str, row: dict[str, Any], fields: tuple[str, ...]) -> str:
    """SHA-256 of the previous hash and ``row``'s chained fields (canonical JSON).

    Parameters
    ----------
    prev : str
        The previous row's hash (:data:`GENESIS` for the first row).
    row : dict
        The row as read from the database.
    fields : tuple of str
        The fields covered, in order.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    payload = json.dumps([prev, *[_canon(row[f]) for f in fields]], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _head(tx: Transaction, chain: str, *, lock: bool) -> tuple[int, str]:
    sql = "SELECT value FROM meta WHERE key = :k" + (" FOR UPDATE" if lock else "")
    r = tx.one(sql, k=f"{chain}_head")
    if r is None:
        return 0, GENESIS
    n, h = str(r["value"]).split(":", 1)
    return int(n), h


def append_hash(tx: Transaction, chain: str, row_id: int, *, postgres: bool) -> str:
    """Chain the row just inserted (``row_id``) onto ``chain`` and move the head, in ``tx``.

    Call it in the transaction that inserted the row. On PostgreSQL the head row is locked
    (``FOR UPDATE``) so concurrent writers on different datasets cannot fork the chain; SQLite
    already serialises writers.
    """
    table, fields = _CHAINS[chain]
    n, prev = _head(tx, chain, lock=postgres)
    row = tx.one(f"SELECT * FROM {table} WHERE id = :id", id=row_id)
    assert row is not None
    h = row_hash(prev, row, fields)
    tx.rows(f"UPDATE {table} SET prev_hash = :p, row_hash = :h WHERE id = :id", p=prev, h=h,
            id=row_id)  # fmt: skip
    tx.rows(
        "INSERT INTO meta (key, value) VALUES (:k, :v) "
        "ON CONFLICT (key) DO UPDATE SET value = :v",
        k=f"{chain}_head",
        v=f"{n + 1}:{h}",
    )
    return h


def seal_unhashed(tx: Transaction) -> int:
    """Chain rows written before the chain existed (a store upgraded from version 1).

    Returns the number of rows sealed. Rows are sealed in id order from the current head; a
    store whose rows are all hashed is left as it is.
    """
    sealed = 0
    for chain, (table, _fields) in _CHAINS.items():
        ids = tx.rows(f"SELECT id FROM {table} WHERE row_hash IS NULL ORDER BY id")
        for r in ids:
            append_hash(tx, chain, int(r["id"]), postgres=False)
            sealed += 1
    return sealed


@dataclass
class ChainReport:
    """What :func:`verify_chains` found: ``ok``, rows checked, problems, the heads to record."""

    ok: bool
    rows: dict[str, int]
    heads: dict[str, str]
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {"ok": self.ok, "rows": self.rows, "heads": self.heads, "problems": self.problems}


def verify_chains(tx: Transaction, expect_head: str | None = None) -> ChainReport:
    """Recompute both chains and compare them with the stored hashes and heads.

    Parameters
    ----------
    tx : Transaction
        A read transaction.
    expect_head : str, optional
        A ledger head recorded earlier (``"COUNT:HASH"``, as reported in ``heads["ledger"]``):
        the current chain must still contain that row with that hash.

    Returns
    -------
    ChainReport
        ``ok`` is false when any row was edited, removed or inserted out of order, or when the
        head does not match the last row.
    """
    problems: list[str] = []
    rows_seen: dict[str, int] = {}
    heads: dict[str, str] = {}
    hashes: list[str] = []
    for chain, (table, fields) in _CHAINS.items():
        rows = tx.rows(f"SELECT * FROM {table} ORDER BY id")
        prev = GENESIS
        for r in rows:
            if r.get("row_hash") is None:
                problems.append(f"{table} row {r['id']} is not chained (written outside synthcust)")
                continue
            if r["prev_hash"] != prev:
                problems.append(
                    f"{table} row {r['id']}: the row before it was deleted or changed (its "
                    "previous-hash does not match)"
                )
            if row_hash(str(r["prev_hash"]), r, fields) != r["row_hash"]:
                problems.append(f"{table} row {r['id']} was edited after it was written")
            prev = str(r["row_hash"])
            if chain == "ledger":
                hashes.append(prev)
        n, head = _head(tx, chain, lock=False)
        if (n, head) != (len(rows), prev if rows else GENESIS):
            problems.append(
                f"{table}: the recorded head ({n} rows) does not match the table ({len(rows)} "
                "rows): rows were deleted or added outside synthcust"
            )
        rows_seen[chain] = len(rows)
        heads[chain] = f"{len(rows)}:{prev if rows else GENESIS}"
    if expect_head is not None:
        try:
            n_s, h = expect_head.split(":", 1)
            n_exp = int(n_s)
        except ValueError:
            problems.append(f"expected head {expect_head!r} is not COUNT:HASH")
        else:
            if n_exp < 1 or n_exp > len(hashes) or hashes[n_exp - 1] != h:
                problems.append(
                    f"the ledger no longer holds the head recorded earlier ({expect_head}): "
                    "its history was rewritten"
                )
    return ChainReport(ok=not problems, rows=rows_seen, heads=heads, problems=problems)
