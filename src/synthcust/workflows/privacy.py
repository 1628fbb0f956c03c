"""Privacy workflows: the epsilon/utility curve charged to the ledger, and the ledger's views.

The study itself (:mod:`synthcust.studies.privacy_curve`) knows no workspace: this workflow
splits the data, checks the budget before anything is fitted, charges every DP fit to the
ledger of the dataset as read (its fingerprint) before the fit reads it, and reports what is
left.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from synthcust.exceptions import SynthcustError
from synthcust.schema.model import Schema
from synthcust.store import Budget, LedgerEntry, Workspace, WorkspaceError, fingerprint_frame
from synthcust.studies.privacy_curve import MECHANISM, CurveResult, parse_epsilons
from synthcust.studies.privacy_curve import privacy_curve as run_curve
from synthcust.synthesizers.fitted import SynthModel
from synthcust.workflows.defaults import CURVE_EPSILONS, CURVE_REFERENCE, DP_DELTA, SPLIT_SEED
from synthcust.workflows.split import split

__all__ = [
    "ChargeCheck",
    "CurveRun",
    "DatasetLedger",
    "check_model_charge",
    "dataset_ledger",
    "ledger_overview",
    "open_workspace",
    "privacy_curve",
    "resolve_fingerprint",
]


@dataclass
class CurveRun:
    """A privacy curve and what it cost."""

    result: CurveResult
    fingerprint: str
    budget: Budget  # after the curve


def privacy_curve(
    data: pd.DataFrame,
    *,
    target: str,
    epsilons: str | list[float] = CURVE_EPSILONS,
    delta: float = DP_DELTA,
    bounds: Mapping[str, Any] | None = None,
    workspace: str | os.PathLike | Workspace | None = None,
    dataset_name: str | None = None,
    reference: str | None = CURVE_REFERENCE,
    schema: Schema | None = None,
    random_state: int = SPLIT_SEED,
    progress: Callable[[str], None] | None = None,
) -> CurveRun:
    """Fit the DP model at each epsilon on 80% of ``data``, measure it on the other 20%.

    Every fit is charged to the ledger of ``data`` before it reads it; the whole curve is
    refused, nothing fitted or charged, when the sum of the epsilons exceeds the budget left.

    Parameters
    ----------
    data : pandas.DataFrame
        The real table (split 80/20, stratified on ``target``).
    target : str
        The target column (TSTR AUC).
    epsilons : str or list of float
        One DP fit per epsilon; the curve spends their sum.
    delta : float
        Delta of every fit.
    bounds : mapping, optional
        Public bounds ``{column: (low, high)}``.
    workspace : str, path or Workspace, optional
        Where the ledger is (the default workspace when omitted).
    dataset_name : str, optional
        The dataset's name in the workspace.
    reference : str or None
        The non-private model to compare with.
    schema : Schema, optional
        The schema (inferred when omitted).
    random_state : int
        Seed of the split, the fits and the models.
    progress : callable, optional
        ``progress(message)`` before each fit.

    Returns
    -------
    CurveRun

    Examples
    --------
    >>> # run = privacy_curve(df, target="churn", epsilons="1,4", bounds={"age": (18, 90)})
    >>> # run.result.points[0].accuracy, run.budget.remaining
    """
    eps = parse_epsilons(epsilons)  # before reading anything
    if target not in data.columns:
        raise SynthcustError(
            f"target column {target!r} is not in the data; columns: {list(data.columns)}"
        )
    train, holdout = split(data, target=target, random_state=random_state)
    fp = fingerprint_frame(data)
    with open_workspace(workspace) as ws:
        registered: list[Any] = []

        def charge(e: float, d: float) -> contextlib.AbstractContextManager[Any]:
            if not registered:  # the dataset is recorded with its first charge
                registered.append(ws.register_dataset(data, name=dataset_name))
            params = {"epsilon": e, "delta": d, "purpose": "privacy-curve"}
            return ws.charge(
                registered[0], e, d, MECHANISM, synthesizer="dp_marginal", params=params
            )

        result = run_curve(
            train,
            holdout,
            epsilons=eps,
            delta=delta,
            target=target,
            bounds=dict(bounds) if bounds else None,
            reference=reference,
            random_state=random_state,
            charge=charge,
            remaining=ws.budget(fp).remaining,
            schema=schema,
            progress=progress,
        )
        return CurveRun(result, fp, ws.budget(fp))


@contextlib.contextmanager
def open_workspace(
    workspace: str | os.PathLike | Workspace | None, *, create: bool = True
) -> Any:
    """Use a Workspace object as it is (its owner closes it), or open one at a location."""
    if isinstance(workspace, Workspace):
        yield workspace
        return
    with Workspace(workspace, create=create) as ws:
        yield ws


def resolve_fingerprint(
    ws: Workspace, dataset: str, read: Callable[[str], pd.DataFrame]
) -> tuple[str, str | None]:
    """A dataset named as a data file/URL (fingerprinted) or a fingerprint prefix.

    Parameters
    ----------
    ws : Workspace
        The workspace to look prefixes up in.
    dataset : str
        An existing data file or URL, or at least 4 hex digits of a fingerprint.
    read : callable
        Reads the data file (``read(path) -> DataFrame``).

    Returns
    -------
    (fingerprint, name) : tuple
        ``name`` is the file given, or ``None`` for a prefix.
    """
    if os.path.exists(dataset) or "://" in dataset:
        return fingerprint_frame(read(dataset)), dataset
    if not re.fullmatch(r"[0-9a-fA-F]{4,64}", dataset):
        raise SynthcustError(
            f"{dataset!r} is neither an existing data file nor a fingerprint prefix (at least "
            "4 hex digits); run `synthcust ledger` to list the datasets"
        )
    found = ws.fingerprints(dataset)
    if not found:
        raise SynthcustError(
            f"no dataset in workspace {ws.location} has a fingerprint starting with "
            f"{dataset!r}; run `synthcust ledger` to list them, or give the data file"
        )
    if len(found) > 1:
        raise SynthcustError(
            f"{len(found)} datasets have fingerprints starting with {dataset!r} "
            f"({', '.join(f[:12] for f in found)}); give more characters"
        )
    return found[0], None


@dataclass
class DatasetLedger:
    """One dataset's ledger entries and budget."""

    fingerprint: str
    name: str | None
    entries: list[LedgerEntry]
    budget: Budget
    n_rows: int | None = None


def dataset_ledger(ws: Workspace, fingerprint: str, name: str | None = None) -> DatasetLedger:
    """The ledger of one dataset (its registered name wins over ``name``)."""
    with contextlib.suppress(WorkspaceError):
        name = ws.dataset(fingerprint).name or name
    return DatasetLedger(fingerprint, name, ws.ledger(fingerprint), ws.budget(fingerprint))


def ledger_overview(ws: Workspace) -> list[DatasetLedger]:
    """Every dataset of the workspace with its spend (no entries listed)."""
    by_fp = {d.fingerprint: d for d in ws.datasets()}
    out = []
    for fp in ws.fingerprints():
        d = by_fp.get(fp)
        out.append(
            DatasetLedger(fp, d.name if d else None, [], ws.budget(fp), d.n_rows if d else None)
        )
    return out


@dataclass
class ChargeCheck:
    """Whether a DP model's spend is on record: ``ok`` and one line per finding."""

    ok: bool
    charge_id: int | None
    findings: list[str]


def check_model_charge(model: SynthModel, ws: Workspace) -> ChargeCheck:
    """Check a DP model's ledger charge (kept in its file) against the workspace's ledger.

    Parameters
    ----------
    model : SynthModel
        A loaded model; a differentially private fit made through the fit workflow carries
        the charge it was made under (``model.ledger_charge``).
    ws : Workspace
        The workspace whose ledger should hold that charge.

    Returns
    -------
    ChargeCheck
        ``ok`` when the charge is in the ledger with the same dataset, epsilon and delta, marked
        committed, and the ledger's hash chain verifies; otherwise the findings say what is off.
    """
    rec = model.ledger_charge
    if rec is None:
        why = "the model carries no ledger charge: it is not a DP fit made through a workspace"
        return ChargeCheck(False, None, [why])
    cid = int(rec["charge_id"])
    entries = [e for e in ws.ledger(rec.get("fingerprint") or None) if e.id == cid]
    findings: list[str] = []
    if not entries:
        findings.append(f"charge {cid} is not in the ledger of {ws.location}: the model was "
                        "made elsewhere, or the ledger lost the row")  # fmt: skip
    else:
        e = entries[0]
        for key, have in (("epsilon", e.epsilon), ("delta", e.delta)):
            if key in rec and abs(float(rec[key]) - have) > 1e-12:
                findings.append(f"charge {cid}: the model says {key}={rec[key]:g}, the ledger "
                                f"{have:g}")  # fmt: skip
        if e.status == "pending":
            findings.append(f"charge {cid} is still pending: the fit was stopped before it "
                            "was recorded as finished (the spend counts all the same)")  # fmt: skip
        elif e.status == "failed":
            findings.append(f"charge {cid} is marked failed, yet this model exists")
    chain = ws.verify_ledger()
    findings += [f"ledger: {p}" for p in chain.problems]
    return ChargeCheck(not findings, cid, findings)
