"""The privacy gate: pass/fail of a privacy result against thresholds, with reasons.

Gated figures (see :mod:`synthcust.evaluation.privacy`): exact copies beyond the holdout
baseline (and its sampling margin), DCR share and membership-inference AUC. A figure that is
missing or could not be computed fails the gate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthcust.evaluation.results import SectionResult
from synthcust.exceptions import DataError

__all__ = ["GATED", "GateDecision", "GateThresholds", "judge", "privacy_gate"]


@dataclass(frozen=True)
class GateThresholds:
    """Bars of the privacy gate.

    ``max_exact_copy_rate`` is the allowed share of exact copies *beyond* the holdout baseline
    (and its sampling margin); ``max_dcr_share`` and ``max_mia_auc`` are upper bars.

    Examples
    --------
    >>> GateThresholds.from_dict({"max_dcr_share": 0.6}).to_dict()
    {'max_exact_copy_rate': 0.0, 'max_dcr_share': 0.6, 'max_mia_auc': 0.6}
    """

    max_exact_copy_rate: float = 0.0
    max_dcr_share: float = 0.55
    max_mia_auc: float = 0.6

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                raise DataError(f"threshold {f.name} must be a number in [0, 1], got {v!r}")

    def to_dict(self) -> dict[str, float]:
        """The three bars as a dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GateThresholds:
        """Thresholds from a dict (unknown keys are an error; missing ones default)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise DataError(f"unknown privacy thresholds {unknown}; known are {sorted(known)}")
        return cls(**{k: float(v) for k, v in d.items()})


@dataclass(frozen=True)
class GateDecision:
    """Outcome of :func:`privacy_gate`: ``reasons`` say what failed and what to do."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    thresholds: GateThresholds = field(default_factory=GateThresholds)

    def to_dict(self) -> dict[str, Any]:
        """Passed, reasons and thresholds, JSON-safe."""
        return {
            "passed": self.passed,
            "reasons": list(self.reasons),
            "thresholds": self.thresholds.to_dict(),
        }


#: The metrics the gate judges.
GATED = ("exact_copy_rate", "dcr_share", "mia_auc")


def judge(result: SectionResult, th: GateThresholds) -> dict[str, str | None]:
    """For each gated metric: the failure reason, or None when it passes."""
    out: dict[str, str | None] = {}
    for key in GATED:
        try:
            m = result.metric(key)
        except KeyError:
            out[key] = f"{key} is missing from the result; run evaluate_privacy to compute it"
            continue
        if m.value is None or not np.isfinite(m.value):
            out[key] = f"{m.label} could not be computed ({m.note}); the gate cannot pass"
            continue
        v = float(m.value)
        out[key] = None
        if key == "exact_copy_rate":
            info = result.extra.get("exact_copies", {})
            base = float(m.reference or 0.0)
            margin = float(info.get("margin", 0.0))
            bar = base + th.max_exact_copy_rate + margin
            if v > bar:
                count = info.get("synthetic_count")
                what = f"{count:,} synthetic rows" if count is not None else "synthetic rows"
                out[key] = (
                    f"exact-copy rate {v:.4f} > {bar:.4f} (holdout baseline {base:.4f} + "
                    f"allowed excess {th.max_exact_copy_rate:g} + sampling margin {margin:.4f}): "
                    f"{what} are exact copies of training rows, more than real holdout rows "
                    "match training rows by chance — the model is copying records; remove the "
                    "copies before release and use more data, a smaller model or differential "
                    "privacy"
                )
        elif key == "dcr_share" and v > th.max_dcr_share:
            out[key] = (
                f"DCR share {v:.3f} > {th.max_dcr_share:g}: synthetic rows sit closer to "
                "training rows than real holdout rows do — the model is memorising; use more "
                "data, a smaller model or fewer epochs, or differential privacy"
            )
        elif key == "mia_auc" and v > th.max_mia_auc:
            out[key] = (
                f"membership-inference AUC {v:.3f} > {th.max_mia_auc:g}: an attacker holding "
                "only the synthetic data can tell who was in the training data — do not release "
                "this sample; use more data, a smaller model or differential privacy"
            )
    return out


def privacy_gate(result: SectionResult, thresholds: GateThresholds | None = None) -> GateDecision:
    """Pass/fail of a privacy result against ``thresholds``, with a reason per failure.

    Checks exact copies beyond the holdout baseline, DCR share and MIA AUC (see
    :mod:`synthcust.evaluation.privacy`). A figure that is missing or could not be computed
    fails the gate.

    Examples
    --------
    >>> from synthcust.evaluation.results import Metric
    >>> res = SectionResult("privacy", metrics=[
    ...     Metric("exact_copy_rate", "Exact copies", 0.0, reference=0.0),
    ...     Metric("dcr_share", "DCR share", 0.71),
    ...     Metric("mia_auc", "MIA AUC", 0.52)])
    >>> decision = privacy_gate(res)
    >>> decision.passed, decision.reasons[0][:22]
    (False, 'DCR share 0.710 > 0.55')
    """
    th = thresholds if thresholds is not None else GateThresholds()
    reasons = [r for r in judge(result, th).values() if r]
    return GateDecision(passed=not reasons, reasons=reasons, thresholds=th)
