"""The fit workflow every face calls: PII, schema, constraints, segments, DP with the ledger.

One path from a real table to a fitted :class:`~synthcust.synthesizers.fitted.SynthModel`:

1. the schema is inferred once (or the given one is checked), PII found once and marked;
2. PII is handled (dropped, hashed, faked, ...) before anything is learned;
3. segments are checked against the learned columns, constraints added to the schema;
4. the synthesizer (:func:`~synthcust.workflows.defaults.default_synthesizer` unless named)
   learns the clean frame, with the data's own exact rules discovered and enforced
   (``rules="auto"``, the default; never for a DP fit);
5. with ``dp_epsilon`` the fit is routed to a DP model, every parameter is checked, the spend
   is recorded in the workspace's privacy ledger *before* the data is read, and refused when
   it does not fit the dataset's budget.

>>> from synthcust.demo.world import simulate_customers
>>> from synthcust.workflows.fit import fit
>>> res = fit(simulate_customers(300, random_state=0), synthesizer="copula", random_state=0)
>>> res.synthesizer, res.rows, "email" in res.model.sample(5, random_state=0).columns
('copula', 300, False)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.constraints.auto import RULES_MODES
from synthcust.exceptions import SchemaError, SynthcustError
from synthcust.privacy import detect_pii
from synthcust.schema.model import Schema
from synthcust.store import Workspace
from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.base import check_frame
from synthcust.synthesizers.dp_marginal import DPMarginalSynthesizer
from synthcust.synthesizers.fitted import SynthModel, fit_model, prepare_schema
from synthcust.synthesizers.neural.dpsgd import check_dp_params, require_opacus
from synthcust.workflows.defaults import (
    DP_DELTA,
    DP_SYNTHESIZER,
    DPSGD_SYNTHESIZERS,
    available_synthesizers,
    default_synthesizer,
)
from synthcust.workflows.privacy import open_workspace

__all__ = ["DP_MECHANISM", "DPPlan", "DPSpend", "FitResult", "fit", "plan_dp", "prepare_schema"]

Progress = Callable[[str], None]
#: The mechanism a ``dp_marginal`` fit is charged under in the ledger.
DP_MECHANISM = "MST: Gaussian + exponential mechanisms, zCDP (dp_marginal)"


@dataclass(frozen=True)
class DPSpend:
    """What a differentially private fit spent, as recorded in the ledger.

    Attributes
    ----------
    epsilon, delta : float
        The spend of this fit.
    mechanism : str
        The mechanism and its accountant, as the ledger names it.
    fingerprint : str
        The fingerprint of the dataset the spend is charged to.
    dataset : str or None
        Its name in the workspace.
    remaining, total : float
        The dataset's budget after this fit.
    workspace : str
        Where the ledger lives.
    not_covered : list of str
        What the guarantee does not cover (e.g. public bounds, the schema).
    """

    epsilon: float
    delta: float
    mechanism: str
    fingerprint: str
    dataset: str | None
    remaining: float
    total: float
    workspace: str
    not_covered: list[str] = field(default_factory=list)


@dataclass
class FitResult:
    """A fitted model and what the fit did around it.

    Attributes
    ----------
    model : SynthModel
        The fitted model.
    synthesizer : str
        The synthesizer that was fitted (after the default and DP routing).
    rows : int
        Rows learned.
    path : Path or None
        Where the model was saved (``save_to``).
    model_id : int or None
        Its id in the workspace catalog when it was recorded there.
    dp : DPSpend or None
        The privacy spent, for a DP fit.
    """

    model: SynthModel
    synthesizer: str
    rows: int
    path: Path | None = None
    model_id: int | None = None
    dp: DPSpend | None = None


@dataclass(frozen=True)
class DPPlan:
    """How a DP fit runs: the model, its parameters and the mechanism charged to the ledger."""

    synthesizer: str
    params: dict[str, Any]
    mechanism: str
    epsilon: float
    delta: float


def plan_dp(
    synthesizer: str | None,
    epsilon: float,
    delta: float = DP_DELTA,
    bounds: Mapping[str, Any] | None = None,
) -> DPPlan:
    """Route a DP fit: ``dp_marginal`` by default, DP-SGD for ctgan, tvae and autoregressive.

    Parameters
    ----------
    synthesizer : str or None
        The model asked for; ``None`` means ``dp_marginal``.
    epsilon, delta : float
        The privacy parameters of the fit.
    bounds : mapping, optional
        Public bounds ``{column: (low, high)}`` (``dp_marginal`` only).

    Returns
    -------
    DPPlan

    Examples
    --------
    >>> plan_dp(None, 1.0).synthesizer, plan_dp("tvae", 1.0).params
    ('dp_marginal', {'dp_epsilon': 1.0, 'dp_delta': 1e-09})
    """
    if synthesizer not in (None, DP_SYNTHESIZER, *DPSGD_SYNTHESIZERS):
        raise SynthcustError(
            f"--dp-epsilon fits dp_marginal (the default), or ctgan, tvae or autoregressive "
            f"(DP-SGD), not {synthesizer!r}; drop --synthesizer or pick one of those"
        )
    if synthesizer in DPSGD_SYNTHESIZERS:
        if bounds:
            raise SynthcustError("--bound applies to dp_marginal; DP-SGD models take none")
        mech = f"DP-SGD (opacus, RDP accountant; {synthesizer} network weights only)"
        sgd = {"dp_epsilon": epsilon, "dp_delta": delta}
        return DPPlan(str(synthesizer), sgd, mech, epsilon, delta)
    params: dict[str, Any] = {"epsilon": epsilon, "delta": delta}
    if bounds:
        params["bounds"] = dict(bounds)
    return DPPlan(DP_SYNTHESIZER, params, DP_MECHANISM, epsilon, delta)


def _check_dp_ready(plan: DPPlan, n_rows: int, schema: Schema) -> None:
    """Every parameter and bound is checked before any epsilon is charged."""
    if plan.synthesizer == DP_SYNTHESIZER:
        DPMarginalSynthesizer(**plan.params).check_ready(n_rows, schema)
        return
    require_opacus()
    check_dp_params(plan.params["dp_epsilon"], plan.params["dp_delta"], 1.0, "rdp", n_rows)


def fit(
    data: pd.DataFrame,
    *,
    schema: Schema | None = None,
    synthesizer: str | None = None,
    target: str | None = None,
    pii_policies: Mapping[str, str] | None = None,
    segments: Mapping[str, str] | None = None,
    random_state: int | None = None,
    hash_key: bytes | None = None,
    synthesizer_params: Mapping[str, Any] | None = None,
    constraints: Sequence[Any] | None = None,
    dp_epsilon: float | None = None,
    dp_delta: float = DP_DELTA,
    bounds: Mapping[str, Any] | None = None,
    workspace: str | os.PathLike | Workspace | None = None,
    dataset: pd.DataFrame | None = None,
    dataset_name: str | None = None,
    save_to: str | os.PathLike | None = None,
    record_params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    rules: str = "auto",
    insecure_test_noise: bool = False,
) -> FitResult:
    """Find and handle PII, then fit a synthesizer on ``data``; DP fits charged to the ledger.

    Parameters
    ----------
    data : pandas.DataFrame
        The real rows to learn (never modified).
    schema : Schema, optional
        The schema (inferred once when omitted).
    synthesizer : str, optional
        A name of :func:`~synthcust.workflows.defaults.available_synthesizers`; default
        :func:`~synthcust.workflows.defaults.default_synthesizer` (``dp_marginal`` with
        ``dp_epsilon``).
    target : str, optional
        The target column.
    pii_policies : mapping, optional
        ``{column: "drop" | "hash" | "fake" | "generalise" | "redact" | "keep"}``.
    segments : mapping, optional
        ``{name: rule}`` segments to sample from later.
    random_state : int, optional
        Seed of PII handling and the synthesizer.
    hash_key : bytes, optional
        Key of the ``hash`` PII policy.
    synthesizer_params : mapping, optional
        Parameters of the synthesizer (``{"epochs": 50}``); the DP ones win over them.
    constraints : sequence, optional
        Rules every synthetic row obeys (text like ``"last_order >= first_order"``).
    dp_epsilon, dp_delta : float, optional
        Fit under (epsilon, delta)-differential privacy, charged to the dataset's budget in the
        workspace ledger; refused (nothing fitted or charged) when over budget.
    bounds : mapping, optional
        Public bounds ``{column: (low, high)}`` for ``dp_marginal``.
    workspace : str, path or Workspace, optional
        The workspace (ledger); the default one (``$SYNTHCUST_HOME``) when omitted.
    dataset : pandas.DataFrame, optional
        The frame whose budget is charged and that is registered (default ``data``; a service
        fitting a train split charges the uploaded table).
    dataset_name : str, optional
        Its name in the workspace (e.g. the file it was read from).
    save_to : str or path, optional
        Save the model there (inside the charge, for a DP fit) and record it in the workspace
        when one is used.
    record_params : mapping, optional
        Extra parameters recorded with the model in the workspace catalog.
    progress : callable, optional
        ``progress(message)`` called at each step.
    rules : {"auto", "off"}, default "auto"
        ``"auto"``: the data's own exact rules (implications between values such as
        ``if InternetService == 'No' then OnlineSecurity == 'No internet service'``, ``A <= B``
        between columns, identities), each backed by at least 50 rows and true of every real
        row, are discovered on the learned (PII-handled) columns and enforced on every sample,
        as the declared ``constraints`` are; ``model.synthesizer.rules_`` lists them with their
        support. ``"off"``: only the declared constraints. A DP fit (``dp_epsilon``) never
        discovers rules from the private rows; only declared ones apply.
    insecure_test_noise : bool, default False
        Allow ``secure_noise=False`` in a DP fit's parameters: the noise is then seeded from
        ``random_state`` (reproducible, for tests) and the model is **not** private. Without
        this flag such a fit is refused before anything is charged.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> from synthcust.demo.world import simulate_customers
    >>> res = fit(simulate_customers(300, random_state=0), synthesizer="copula", random_state=0)
    >>> sorted(res.model.pii.actions)[:2]
    ['date_of_birth', 'email']
    """
    say = progress or (lambda _msg: None)
    check_frame(data)
    if rules not in RULES_MODES:
        raise SynthcustError(f"rules must be one of {', '.join(RULES_MODES)}, got {rules!r}")
    name, params, plan = _choose(synthesizer, synthesizer_params, dp_epsilon, dp_delta, bounds)
    if plan is not None and params.get("secure_noise", True) in (False, "false", "False", 0):
        if not insecure_test_noise:
            raise SynthcustError(
                "secure_noise=false makes the DP noise reproducible from the seed, so the model "
                "would NOT be private although epsilon is charged; it is for tests only. Drop "
                "the parameter, or pass insecure_test_noise=True (--insecure-test-noise) to "
                "accept a model that is not private"
            )
        params["secure_noise"] = False
        say("WARNING: secure_noise=false: the DP noise is seeded; this model is NOT private")
    findings = dict(detect_pii(data))
    ready = prepare_schema(data, schema, target, findings=findings)
    if constraints:
        ready = ready.with_constraints(*constraints)
    if plan is not None:
        _check_dp_ready(plan, len(data), ready)

    def run(charge: dict[str, Any] | None = None) -> tuple[SynthModel, Path | None]:
        say(f"fitting {name} on {len(data):,} rows")
        model = fit_model(data, ready, name, params=params, findings=findings,
                          pii_policies=pii_policies, segments=segments,
                          random_state=random_state, hash_key=hash_key,
                          progress=progress, rules=rules)  # fmt: skip
        model.ledger_charge = charge  # a DP model file names the charge it was made under
        return model, _save(model, save_to, say)

    if plan is None and workspace is None:
        model, path = run()
        return FitResult(model, name, len(data), path)
    with open_workspace(workspace) as ws:
        ds = ws.register_dataset(data if dataset is None else dataset, name=dataset_name)
        rec = {**params, **dict(record_params or {})}
        if plan is None:
            model, path = run()
            mid = ws.add_model(ds, name, path, params=rec) if path is not None else None
            return FitResult(model, name, len(data), path, mid)
        # the spend is recorded before the data is touched, and stays spent
        charged = {k: v for k, v in plan.params.items() if k != "bounds"}
        with ws.charge(ds, plan.epsilon, plan.delta, plan.mechanism, synthesizer=name,
                       params=charged) as c:  # fmt: skip
            charge = {"charge_id": c.id, "fingerprint": ds.fingerprint, "epsilon": c.epsilon,
                      "delta": c.delta, "mechanism": plan.mechanism,
                      "workspace": str(ws.location)}  # fmt: skip
            model, path = run(charge)
            privacy = dict(getattr(model.synthesizer, "privacy_", {}) or {})
            c.model_id = ws.add_model(ds, name, path, params=rec, metrics={"privacy": privacy})
        left = ws.budget(ds.fingerprint)
        spend = DPSpend(
            float(plan.epsilon), float(plan.delta), plan.mechanism, ds.fingerprint, ds.name,
            left.remaining, left.total, str(ws.location), list(privacy.get("not_covered", [])),
        )  # fmt: skip
        return FitResult(model, name, len(data), path, c.model_id, spend)


def _choose(
    synthesizer: str | None,
    synthesizer_params: Mapping[str, Any] | None,
    dp_epsilon: float | None,
    dp_delta: float,
    bounds: Mapping[str, Any] | None,
) -> tuple[str, dict[str, Any], DPPlan | None]:
    """The synthesizer, its parameters (the DP ones win) and the DP plan, if any."""
    plan = None
    if dp_epsilon is not None:
        plan = plan_dp(synthesizer, dp_epsilon, dp_delta, bounds)
        name = plan.synthesizer
    elif bounds:
        raise SynthcustError("bounds apply to a DP fit; give dp_epsilon too")
    else:
        name = synthesizer or default_synthesizer()
    if name not in REGISTRY:
        raise SchemaError(
            f"unknown synthesizer {name!r}; available: {', '.join(available_synthesizers())}"
        )
    params = dict(plan.params) if plan else {}
    for k, v in (synthesizer_params or {}).items():
        params.setdefault(k, v)
    return name, params, plan


def _save(model: SynthModel, path: str | os.PathLike | None, say: Progress) -> Path | None:
    if path is None:
        return None
    say("saving")
    return Path(model.save(path))
