"""The privacy ledger: budgets, charges made before a DP computation starts, their history.

The rules (charged before, never refunded, basic composition per dataset, post-processing
free) are in :mod:`synthcust.store.workspace`; :class:`~synthcust.store.Workspace` gets these
methods from :class:`LedgerMixin`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from synthcust.store.backends import PostgresBackend, SQLiteBackend, Transaction
from synthcust.store.chain import ChainReport, append_hash, verify_chains
from synthcust.store.records import (
    DEFAULT_BUDGET,
    Budget,
    BudgetError,
    DatasetRecord,
    LedgerEntry,
    PrivacyParameterError,
    WorkspaceError,
    check_budget_total,
    fingerprint_of,
    from_json,
    short_fingerprint,
    to_json,
    utc_now,
    validate_privacy_parameters,
)

__all__ = ["Charge", "LedgerMixin"]

_TOL = 1e-9  # float slack when comparing sums of epsilons to a budget


class Charge:
    """One recorded spend of privacy budget (a row of the ledger).

    Made by :meth:`Workspace.reserve` (or yielded by :meth:`Workspace.charge`) *after* the spend
    is committed: from then on it counts against the budget whatever happens. Finish it with
    :meth:`commit` when the DP computation succeeded or :meth:`fail` when it did not; a process
    killed before either leaves it ``pending``, still counted.
    """

    def __init__(self, workspace: LedgerMixin, entry_id: int, fingerprint: str, eps, delta):
        self.workspace = workspace
        self.id = entry_id
        self.fingerprint = fingerprint
        self.epsilon = eps
        self.delta = delta
        self.status = "pending"
        #: Set this (e.g. to :meth:`Workspace.add_model`'s id) inside ``with ws.charge(...)``.
        self.model_id: int | None = None

    def commit(self, model_id: int | None = None, message: str | None = None) -> None:
        """Mark the charge ``committed`` (the DP computation finished), linking its model."""
        if model_id is not None:
            self.model_id = model_id
        self.workspace._finish_charge(self, "committed", message)

    def fail(self, message: str) -> None:
        """Mark the charge ``failed``; it still counts (spent privacy cannot be un-spent)."""
        self.workspace._finish_charge(self, "failed", message)

    def __repr__(self) -> str:
        return (
            f"Charge(id={self.id}, dataset={short_fingerprint(self.fingerprint)}, "
            f"epsilon={self.epsilon:g}, delta={self.delta:g}, status={self.status!r})"
        )


class LedgerMixin:
    """Budget and ledger methods of :class:`~synthcust.store.Workspace`."""

    _backend: SQLiteBackend | PostgresBackend

    def _test_point(self, point: str) -> None:  # pragma: no cover - Workspace defines it
        """A point inside a write transaction where tests may pause or kill the process."""

    def _budget(self, tx: Transaction, fp: str) -> Budget:
        row = tx.one("SELECT total FROM budgets WHERE fingerprint = :fp", fp=fp)
        agg = tx.one(
            "SELECT COALESCE(SUM(epsilon), 0) AS eps, COALESCE(SUM(delta), 0) AS dlt, "
            "COUNT(*) AS n FROM privacy_ledger WHERE fingerprint = :fp",
            fp=fp,
        )
        assert agg is not None
        return Budget(
            fingerprint=fp,
            total=float(row["total"]) if row else DEFAULT_BUDGET,
            spent=float(agg["eps"]),
            delta_spent=float(agg["dlt"]),
            charges=int(agg["n"]),
            is_default=row is None,
        )

    def budget(self, fingerprint: str | DatasetRecord) -> Budget:
        """The dataset's budget: ``total``, ``spent`` and ``remaining`` epsilon, ``delta_spent``.

        Every charge counts, whatever its status (pending, committed or failed).
        """
        fp = fingerprint_of(fingerprint)
        with self._backend.transaction(write=False) as tx:
            return self._budget(tx, fp)

    def set_budget(self, fingerprint: str | DatasetRecord, total: float) -> Budget:
        """Set the dataset's total epsilon (a finite number > 0).

        Lowering it below what is already spent is allowed (``remaining`` becomes 0 and every
        further charge is refused); nothing already spent is forgotten.
        """
        fp = fingerprint_of(fingerprint)
        t = check_budget_total(total)
        with self._backend.transaction(write=True) as tx:
            self._backend.lock_dataset(tx, fp)
            old = tx.one("SELECT total FROM budgets WHERE fingerprint = :fp", fp=fp)
            now = utc_now()
            tx.rows(
                "INSERT INTO budgets (fingerprint, total, updated) VALUES (:fp, :t, :now) "
                "ON CONFLICT (fingerprint) DO UPDATE SET total = :t, updated = :now",
                fp=fp,
                t=t,
                now=now,
            )
            change = tx.insert(  # the history of budgets: one chained row per change
                "INSERT INTO budget_changes (fingerprint, total, previous, changed) "
                "VALUES (:fp, :t, :old, :now)",
                fp=fp,
                t=t,
                old=None if old is None else float(old["total"]),
                now=now,
            )
            append_hash(tx, "budget", change, postgres=self._is_postgres())
            return self._budget(tx, fp)

    def _is_postgres(self) -> bool:
        return self._backend.kind == "postgresql"

    def budget_history(self, fingerprint: str | DatasetRecord) -> list[dict[str, Any]]:
        """Every change of the dataset's budget, oldest first (``total``, ``previous``, time)."""
        fp = fingerprint_of(fingerprint)
        with self._backend.transaction(write=False) as tx:
            rows = tx.rows(
                "SELECT id, total, previous, changed FROM budget_changes WHERE fingerprint = :fp "
                "ORDER BY id",
                fp=fp,
            )
        return [
            {"id": int(r["id"]), "total": float(r["total"]),
             "previous": None if r["previous"] is None else float(r["previous"]),
             "changed": r["changed"]}
            for r in rows
        ]  # fmt: skip

    def verify_ledger(self, expect_head: str | None = None) -> ChainReport:
        """Check that no ledger row or budget change was deleted, edited or slipped in.

        Parameters
        ----------
        expect_head : str, optional
            A head reported earlier (``report.heads["ledger"]``, ``"COUNT:HASH"``), kept where
            the workspace's writers cannot change it: the ledger must still contain it.

        Returns
        -------
        ChainReport
            ``ok``, rows checked per chain, the current heads, and one line per problem.
        """
        with self._backend.transaction(write=False) as tx:
            return verify_chains(tx, expect_head)

    def reserve(
        self,
        fingerprint: str | DatasetRecord,
        epsilon: float,
        delta: float = 0.0,
        mechanism: str = "",
        *,
        synthesizer: str | None = None,
        params: Mapping[str, Any] | None = None,
        allow_large: bool = False,
    ) -> Charge:
        """Phase one of a DP computation: check the budget and record the spend, atomically.

        Call it *before* touching the private data. The returned :class:`Charge` is already
        counted; call ``.commit(model_id)`` or ``.fail(message)`` afterwards (or use
        :meth:`charge`, which does so for you). ``mechanism`` names what spends it and how it
        was accounted (e.g. ``"MST (zCDP)"``, ``"DP-SGD (RDP)"``); ``params`` are its settings.

        Raises
        ------
        PrivacyParameterError
            A bad epsilon/delta (see :func:`validate_privacy_parameters`); delta must also be
            below 1/n when the dataset is registered with n rows.
        BudgetError
            The charge would take the dataset past its budget; nothing is recorded and the
            message says what is left.
        """
        fp = fingerprint_of(fingerprint)
        if not str(mechanism).strip():
            raise PrivacyParameterError(
                "a charge must name its mechanism, e.g. mechanism='MST (zCDP)'"
            )
        params_json = to_json(dict(params or {}), "the mechanism parameters")
        validate_privacy_parameters(epsilon, delta, allow_large=allow_large)
        with self._backend.transaction(write=True) as tx:
            self._backend.lock_dataset(tx, fp)
            ds = tx.one("SELECT name, n_rows FROM datasets WHERE fingerprint = :fp", fp=fp)
            eps, dlt = validate_privacy_parameters(
                epsilon, delta, n_rows=int(ds["n_rows"]) if ds else None, allow_large=allow_large
            )
            b = self._budget(tx, fp)
            if b.spent + eps > b.total * (1 + _TOL) + _TOL:
                short = short_fingerprint(fp)
                what = f"dataset {ds['name']!r} ({short})" if ds and ds["name"] else short
                raise BudgetError(
                    f"privacy budget exceeded for {what}: asked for epsilon={eps:g}, but only "
                    f"{b.remaining:g} of {b.total:g} is left ({b.spent:g} spent over "
                    f"{b.charges} charge(s)). Use epsilon <= {b.remaining:g}, or raise the "
                    f"budget (synthcust ledger {short} --set-budget TOTAL) if your privacy "
                    "policy allows; sampling more rows from an existing DP model is free"
                )
            entry_id = tx.insert(
                "INSERT INTO privacy_ledger (fingerprint, epsilon, delta, mechanism, synthesizer, "
                "params_json, model_id, status, created) VALUES (:fp, :eps, :dlt, :mech, :syn, "
                ":params, NULL, 'pending', :now)",
                fp=fp,
                eps=eps,
                dlt=dlt,
                mech=str(mechanism),
                syn=synthesizer,
                params=params_json,
                now=utc_now(),
            )
            append_hash(tx, "ledger", entry_id, postgres=self._is_postgres())
            self._test_point("charge:before_commit")
        return Charge(self, entry_id, fp, eps, dlt)

    @contextlib.contextmanager
    def charge(
        self,
        fingerprint: str | DatasetRecord,
        epsilon: float,
        delta: float = 0.0,
        mechanism: str = "",
        *,
        synthesizer: str | None = None,
        params: Mapping[str, Any] | None = None,
        allow_large: bool = False,
    ) -> Iterator[Charge]:
        """``with ws.charge(fp, eps, delta, mechanism) as c:`` run the DP computation inside.

        The spend is committed on entry (see :meth:`reserve`, which raises the same errors
        before the block runs). On normal exit the charge is marked ``committed`` with
        ``c.model_id``; if the block raises it is marked ``failed`` and the error propagates.
        Either way the epsilon stays spent.
        """
        c = self.reserve(
            fingerprint,
            epsilon,
            delta,
            mechanism,
            synthesizer=synthesizer,
            params=params,
            allow_large=allow_large,
        )
        try:
            yield c
        except BaseException as e:
            if c.status == "pending":
                c.fail(f"{type(e).__name__}: {e}")
            raise
        if c.status == "pending":
            c.commit()

    def _finish_charge(self, c: Charge, status: str, message: str | None) -> None:
        if c.status != "pending":
            raise WorkspaceError(f"charge {c.id} is already {c.status}")
        with self._backend.transaction(write=True) as tx:
            tx.rows(
                "UPDATE privacy_ledger SET status = :s, finished = :now, model_id = :mid, "
                "message = :msg WHERE id = :id AND status = 'pending'",
                s=status,
                now=utc_now(),
                mid=c.model_id,
                msg=message,
                id=c.id,
            )
        c.status = status

    def ledger(self, fingerprint: str | DatasetRecord | None = None) -> list[LedgerEntry]:
        """Ledger entries, oldest first; only those of one dataset when given."""
        sql, params = "SELECT * FROM privacy_ledger", {}
        if fingerprint is not None:
            sql, params = sql + " WHERE fingerprint = :fp", {"fp": fingerprint_of(fingerprint)}
        with self._backend.transaction(write=False) as tx:
            rows = tx.rows(sql + " ORDER BY id", **params)
        out = []
        for r in rows:
            d = {k: r[k] for k in LedgerEntry.__dataclass_fields__ if k != "params"}
            d.update(
                epsilon=float(d["epsilon"]),
                delta=float(d["delta"]),
                params=from_json(r["params_json"]),
            )
            out.append(LedgerEntry(**d))
        return out
