"""The epsilon/utility curve: what differential privacy costs in fidelity and utility.

:func:`privacy_curve` fits the DP marginal synthesizer (``dp_marginal``) on the real train rows
at each epsilon, samples as many rows as the train part has and measures them against the real
holdout: 1 - TVD **accuracy** (fidelity) and **TSTR AUC** (utility). The non-private reference
model (the Gaussian copula by default) is fitted once for comparison, and the real data's own
figures (real holdout vs real train, a model trained on real rows) give the ceiling.
:func:`write_curve_report` writes it as a self-contained HTML page with a JSON twin.

Privacy accounting
------------------
Each epsilon is a **separate** DP fit on the same private rows, so under basic composition the
curve spends the **sum** of its epsilons (and of its deltas): ``0.5,1,2,4,8`` costs epsilon
15.5, not 8. Pass ``charge`` (``(epsilon, delta) -> context manager``) to record every fit in a
ledger before it reads the data, and ``remaining`` to refuse the whole curve before anything is
fitted when the sum does not fit the budget left. The fits use independent seeds, so their noise
is independent (with shared noise two fits at different epsilons would give away the exact
marginals between them).

The figures in the report are **not** differentially private: they are computed from the real
train and holdout rows without noise, and the reference model is an ordinary fit. Keep the
report with the real data.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust import __version__
from synthcust.evaluation.fidelity import evaluate_fidelity
from synthcust.evaluation.utility import evaluate_utility
from synthcust.exceptions import SynthcustError
from synthcust.privacy import detect_pii
from synthcust.reporting import Report, Section, plots
from synthcust.reporting.terminal import fmt
from synthcust.store import BudgetError, validate_privacy_parameters
from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.dp_marginal import DPMarginalSynthesizer
from synthcust.synthesizers.fitted import fit_model, prepare_schema

__all__ = [
    "CurvePoint",
    "CurveResult",
    "parse_epsilons",
    "privacy_curve",
    "render_curve_html",
    "write_curve_report",
]

DP_SYNTHESIZER = "dp_marginal"
MECHANISM = "MST: Gaussian + exponential mechanisms, zCDP (dp_marginal)"


@dataclass(frozen=True)
class CurvePoint:
    """One fit on the curve; ``epsilon`` is ``None`` for the non-private reference."""

    label: str
    epsilon: float | None
    delta: float | None
    accuracy: float
    tstr_auc: float | None
    seconds: float
    privacy: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "accuracy": self.accuracy,
            "tstr_auc": self.tstr_auc,
            "seconds": round(self.seconds, 3),
            "privacy": self.privacy,
        }


@dataclass(frozen=True)
class CurveResult(Report):
    """The DP points (ascending epsilon), the reference and the real data's own ceiling.

    A :class:`~synthcust.reporting.Report`: ``to_dict()``, ``to_html()``, ``write(path)``
    (HTML + JSON beside it).
    """

    title = "What privacy costs: fidelity and utility against epsilon"

    points: list[CurvePoint]
    reference: CurvePoint | None
    delta: float
    target: str
    real_accuracy: float | None  # real holdout vs real train: what two real samples agree on
    real_tstr_auc: float | None  # a model trained on real train rows (TRTR)
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def epsilons(self) -> list[float]:
        return [p.epsilon for p in self.points if p.epsilon is not None]

    @property
    def total_epsilon(self) -> float:
        """Privacy spent on the data by the whole curve (basic composition: the sum)."""
        return float(sum(self.epsilons))

    @property
    def total_delta(self) -> float:
        return self.delta * len(self.points)

    def table(self) -> pd.DataFrame:
        """One row per fit (DP points, then the reference)."""
        rows = [*self.points, *([self.reference] if self.reference else [])]
        return pd.DataFrame(
            {
                "model": [p.label for p in rows],
                "epsilon": [p.epsilon for p in rows],
                "delta": [p.delta for p in rows],
                "accuracy": [p.accuracy for p in rows],
                "tstr_auc": [p.tstr_auc for p in rows],
                "seconds": [round(p.seconds, 2) for p in rows],
            }
        )

    def context(self) -> dict[str, Any]:
        """The report page's template variables."""
        return _context(self)

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-safe."""
        return {
            "points": [p.to_dict() for p in self.points],
            "reference": None if self.reference is None else self.reference.to_dict(),
            "target": self.target,
            "delta_per_fit": self.delta,
            "total_epsilon": self.total_epsilon,
            "total_delta": self.total_delta,
            "composition": "basic: the epsilons (and deltas) of the fits add up",
            "real_accuracy": self.real_accuracy,
            "real_tstr_auc": self.real_tstr_auc,
            "meta": self.meta,
            "notes": list(self.notes),
        }


def parse_epsilons(value: str | Iterable[Any]) -> list[float]:
    """``"0.5,1,2"`` (or numbers) -> ``[0.5, 1.0, 2.0]``, ascending; a clear error otherwise.

    Each must be a finite number > 0 (at most ``MAX_EPSILON``); duplicates are refused (each
    fit costs budget).
    """
    items = [s.strip() for s in value.split(",")] if isinstance(value, str) else list(value)
    if not items or any(isinstance(x, str) and not x for x in items):
        raise SynthcustError(
            f"cannot read the epsilon list {value!r}; write numbers separated by commas, e.g. "
            "--epsilons 0.5,1,2,4,8"
        )
    out = []
    for x in items:
        try:
            eps = float(x) if not isinstance(x, bool) else math.nan
        except (TypeError, ValueError):
            raise SynthcustError(
                f"epsilon {x!r} is not a number; write e.g. --epsilons 0.5,1,2,4,8"
            ) from None
        out.append(validate_privacy_parameters(eps, 0.0)[0])
    dup = sorted({e for e in out if out.count(e) > 1})
    if dup:
        raise SynthcustError(
            f"epsilon {', '.join(f'{e:g}' for e in dup)} is listed twice; every fit costs "
            "budget, give each epsilon once"
        )
    return sorted(out)


def privacy_curve(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    epsilons: Sequence[float] | str,
    delta: float,
    target: str,
    bounds: Mapping[str, Any] | str | None,
    reference: str | None = "copula",
    random_state: int = 0,
    charge: Callable[[float, float], contextlib.AbstractContextManager[Any]] | None = None,
    remaining: float | None = None,
    schema: Any | None = None,
    synthesizer_params: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> CurveResult:
    """Fit ``dp_marginal`` on ``train`` at each epsilon and measure it against ``holdout``.

    Parameters
    ----------
    train, holdout : pandas.DataFrame
        The real rows the synthesizers learn, and real rows they never see (see
        :func:`synthcust.evaluation.splits.train_holdout_split`).
    epsilons : sequence of float or "0.5,1,2"
        One DP fit per epsilon. The curve spends their **sum** (basic composition).
    delta : float
        Delta of every fit (below ``1/len(train)``); the curve spends ``len(epsilons) * delta``.
    target : str
        The target column for TSTR AUC.
    bounds : mapping or "private" or None
        Public bounds of the numeric columns, ``{"age": (17, 90)}``, as for
        :class:`~synthcust.synthesizers.dp_marginal.DPMarginalSynthesizer`.
    reference : str or None
        The non-private model fitted once for comparison (``None`` for none).
    random_state : int
        Seeds the split-independent parts: every fit gets its own seed spawned from it.
    charge : callable, optional
        ``charge(epsilon, delta)`` returning a context manager entered around each DP fit (e.g.
        ``lambda e, d: ws.charge(fp, e, d, MECHANISM)``): the spend is recorded before the fit
        reads the data.
    remaining : float, optional
        The epsilon left in the budget: the curve is refused before anything is fitted or
        charged when the sum of ``epsilons`` exceeds it.

    Raises
    ------
    SynthcustError
        Bad epsilons, delta, target or bounds, or a budget too small; all checked before the
        first fit (and the first charge).
    """
    say = progress or (lambda _msg: None)
    eps_list = parse_epsilons(epsilons)
    _check_inputs(train, holdout, eps_list, delta, target, remaining, reference)
    params = dict(synthesizer_params or {})
    params["bounds"] = bounds
    # every parameter and bound is checked before the first charge
    ready = prepare_schema(train, schema, target)
    for e in eps_list:
        DPMarginalSynthesizer(epsilon=e, delta=delta, **params).check_ready(len(train), ready)
    spawned = np.random.SeedSequence(random_state).spawn(len(eps_list) + 1)
    seeds = [int(s.generate_state(1)[0]) for s in spawned]
    measure = _Measure(train, holdout, target, random_state)
    findings = detect_pii(train)

    def fit(name: str, seed: int, extra: Mapping[str, Any]) -> Any:
        return fit_model(
            train, ready, name, params=extra, findings=findings, random_state=seed
        )

    points: list[CurvePoint] = []
    for e, seed in zip(eps_list, seeds, strict=False):
        say(f"epsilon {e:g}")
        t0 = time.perf_counter()
        cm = charge(e, delta) if charge is not None else contextlib.nullcontext()
        with cm:
            model = fit(DP_SYNTHESIZER, seed, {"epsilon": e, "delta": delta, **params})
        privacy = dict(getattr(model.synthesizer, "privacy_", {}) or {})
        acc, auc = measure(model, seed)
        label = f"{DP_SYNTHESIZER} (epsilon {e:g})"
        seconds = time.perf_counter() - t0
        points.append(CurvePoint(label, e, delta, acc, auc, seconds, _jsonable(privacy)))
    ref = None
    if reference is not None:
        say(f"reference {reference}")
        t0 = time.perf_counter()
        model = fit(reference, seeds[-1], {})
        acc, auc = measure(model, seeds[-1])
        ref = CurvePoint(
            f"{reference} (not private)", None, None, acc, auc, time.perf_counter() - t0
        )
    meta = {
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "rows": {"real_train": len(train), "synthetic": len(train), "real_holdout": len(holdout)},
        "synthesizer": DP_SYNTHESIZER,
        "mechanism": MECHANISM,
        "reference": reference,
        "random_state": random_state,
        "synthcust_version": _version(),
    }
    return CurveResult(
        points, ref, float(delta), target, measure.real_acc, measure.real_auc, meta, measure.notes
    )


def _check_inputs(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    eps_list: list[float],
    delta: float,
    target: str,
    remaining: float | None,
    reference: str | None,
) -> None:
    """Target, privacy parameters, budget and reference: refused before anything is fitted."""
    if target not in train.columns or target not in holdout.columns:
        raise SynthcustError(
            f"target column {target!r} is not in the data; columns: {list(train.columns)}"
        )
    for e in eps_list:
        validate_privacy_parameters(e, delta, n_rows=len(train))
    total = float(sum(eps_list))
    if remaining is not None and total > remaining + 1e-12:
        raise BudgetError(
            f"the curve costs epsilon {_cost(eps_list)} (basic composition: each fit spends its "
            f"own epsilon) but only {remaining:g} is left in the budget; nothing was fitted or "
            "charged. Drop some epsilons (the large ones cost most) or raise the budget"
        )
    if reference is not None and reference not in REGISTRY:
        raise SynthcustError(
            f"unknown reference synthesizer {reference!r}; available: {', '.join(REGISTRY)}"
        )


class _Measure:
    """Accuracy and TSTR AUC of a model's synthetic rows against the real holdout.

    Remembers the real data's own figures (the ceiling) and notes said once.
    """

    def __init__(
        self, train: pd.DataFrame, holdout: pd.DataFrame, target: str, random_state: int
    ) -> None:
        self.train, self.holdout, self.target = train, holdout, target
        self.random_state = random_state
        self.notes: list[str] = []
        self.real_acc: float | None = None
        self.real_auc: float | None = None

    def __call__(self, model: Any, seed: int) -> tuple[float, float | None]:
        train, holdout, target = self.train, self.holdout, self.target
        synth = model.sample(len(train), random_state=seed)
        excl = [
            c
            for c, a in model.pii.actions.items()
            if getattr(a.policy, "value", a.policy) != "keep" and c != target
        ]
        tr, sy, ho = (
            d.drop(columns=[c for c in excl if c in d.columns]) for d in (train, synth, holdout)
        )
        fid = evaluate_fidelity(tr, sy, ho, random_state=self.random_state)
        acc = fid.metric("accuracy")
        self.real_acc = acc.reference if acc.reference is not None else self.real_acc
        auc = None
        try:
            ut = evaluate_utility(tr, sy, ho, target, random_state=self.random_state)
            m = ut.metric("tstr_auc")
            auc = None if m.value is None or not math.isfinite(m.value) else float(m.value)
            self.real_auc = m.reference if m.reference is not None else self.real_auc
        except KeyError:
            msg = f"TSTR AUC not measured for target {target!r} (no AUC for this target)"
            if msg not in self.notes:
                self.notes.append(msg)
        return float(acc.value if acc.value is not None else math.nan), auc


def _cost(eps: Sequence[float]) -> str:
    """``"7 = 1 + 2 + 4"``: the total and its parts."""
    total = f"{sum(eps):g}"
    return total if len(eps) < 2 else total + " = " + " + ".join(f"{e:g}" for e in eps)


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=_default))


def _default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _version() -> str:
    return __version__


# --------------------------------------------------------------------------- report
ACC, AUC = "#1f5fa8", "#e07b39"


def curve_svg(result: CurveResult) -> str:
    """Accuracy and TSTR AUC against epsilon (log axis); the reference as dashed lines."""
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    eps = np.array(result.epsilons, dtype=float)
    acc = np.array([p.accuracy for p in result.points], dtype=float)
    auc = np.array([np.nan if p.tstr_auc is None else p.tstr_auc for p in result.points])
    ax.plot(eps, acc, "o-", color=ACC, label="1 - TVD accuracy (DP)")
    if np.isfinite(auc).any():
        ax.plot(eps, auc, "s-", color=AUC, label="TSTR AUC (DP)")
    ref = result.reference
    if ref is not None:
        ax.axhline(ref.accuracy, color=ACC, ls="--", lw=1, label=f"accuracy, {ref.label}")
        if ref.tstr_auc is not None:
            ax.axhline(ref.tstr_auc, color=AUC, ls="--", lw=1, label=f"TSTR AUC, {ref.label}")
    if result.real_tstr_auc is not None:
        ax.axhline(result.real_tstr_auc, color=AUC, ls=":", lw=1, label="AUC trained on real")
    ax.set_xscale("log")
    ax.set_xticks(eps)
    ax.set_xticklabels([f"{e:g}" for e in eps])
    ax.minorticks_off()
    ax.set_xlabel("epsilon (per fit; log scale)")
    ax.set_ylabel("score (higher is better)")
    shown = [*acc, *auc, result.real_tstr_auc]
    if ref is not None:
        shown += [ref.accuracy, ref.tstr_auc]
    low = min([float(v) for v in shown if v is not None and np.isfinite(v)] + [1.0])
    ax.set_ylim(max(0.0, low - 0.05), 1.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="best")
    return plots.svg(fig)


def _display_table(result: CurveResult) -> pd.DataFrame:
    """The fits and the real data's ceiling, as the report shows them."""
    rows = [*result.points, *([result.reference] if result.reference else [])]
    out = [
        {
            "model": p.label,
            "epsilon": "—" if p.epsilon is None else f"{p.epsilon:g}",
            "delta": "—" if p.delta is None else f"{p.delta:g}",
            "1 - TVD accuracy": fmt(p.accuracy),
            "TSTR AUC": "—" if p.tstr_auc is None else fmt(p.tstr_auc),
            "seconds": f"{p.seconds:.1f}",
        }
        for p in rows
    ]
    out.append(
        {
            "model": "real holdout vs real train (ceiling)",
            "epsilon": "—",
            "delta": "—",
            "1 - TVD accuracy": fmt(result.real_accuracy),
            "TSTR AUC": f"{fmt(result.real_tstr_auc)} (trained on real)",
            "seconds": "",
        }
    )
    return pd.DataFrame(out)


def _context(result: CurveResult) -> dict[str, Any]:
    rows = result.meta.get("rows", {})
    eps = ", ".join(f"{x:g}" for x in result.epsilons)
    subtitle = " · ".join(
        [
            str(result.meta.get("created", "")),
            f"synthcust {result.meta.get('synthcust_version', '')}",
            f"real train {fmt(rows.get('real_train'))} rows",
            f"synthetic {fmt(rows.get('synthetic'))} rows per fit",
            f"real holdout {fmt(rows.get('real_holdout'))} rows",
            f"target {result.target}",
        ]
    )
    lead = (
        "The differentially private marginal model (dp_marginal) was fitted on the real train "
        f"rows once per epsilon ({eps}; delta {result.delta:g} each), and each fit's synthetic "
        "rows were measured against real data: 1 - TVD accuracy (fidelity to the real train "
        "rows) and TSTR AUC (a model trained on synthetic rows, tested on real holdout rows). "
        "The dashed lines are the non-private reference model; the dotted line a model trained "
        "on the real rows themselves."
    )
    spent = Section(
        "Privacy spent",
        intro=(
            "Every epsilon is a separate fit on the same private rows, so the curve spent "
            f"epsilon {_cost(result.epsilons)} and delta {result.total_delta:g} (basic "
            "composition: the fits add up), charged to the dataset's ledger when run from the "
            "command line. The fits used independent noise."
        ),
        verdict=(
            "This report is not differentially private: its figures are computed from the real "
            "train and holdout rows without noise, and the reference model is an ordinary fit. "
            "Keep it with the real data."
        ),
    )
    return {
        "subtitle": subtitle,
        "lead": lead,
        "sections": [
            Section("Fidelity and utility against epsilon", figures=[curve_svg(result)]),
            Section("Figures", tables={"fits": _display_table(result)}),
            spent,
        ],
        "skipped": list(result.notes),
    }


def render_curve_html(result: CurveResult, json_name: str | None = None) -> str:
    """The curve as one self-contained page (inline CSS and SVG, no external references)."""
    return result.to_html(json_name)


def write_curve_report(result: CurveResult, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``curve.html`` and ``curve.json`` beside it (both atomically)."""
    html_path = result.write(path)
    return html_path, html_path.with_suffix(".json")
