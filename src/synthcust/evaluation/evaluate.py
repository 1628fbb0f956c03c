"""One call that runs every evaluation and returns everything the report shows.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> make = lambda n: pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
>>> rep = evaluate(make(400), make(400), make(100), random_state=0)
>>> sorted(rep.sections)
['detection', 'fidelity', 'privacy', 'validity']
>>> rep.sections["validity"].metric("validity").value
1.0
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from synthcust.evaluation.common import align
from synthcust.evaluation.results import Metric, SectionResult

#: The headline figures, in scorecard order (missing ones are simply not shown).
SCORECARD_KEYS = (
    "validity",
    "accuracy",
    "shapes",
    "pairs",
    "kl_max",
    "detection_auc",
    "tstr_auc",
    "augmentation_uplift_auc",
    "exact_copy_rate",
    "dcr_share",
    "mia_auc",
)


@dataclass
class EvaluationReport:
    """Every section's result, the privacy gate's decision and what was evaluated."""

    sections: dict[str, SectionResult]
    gate: Any | None = None  # evaluation.privacy.GateDecision
    meta: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def scorecard(self) -> list[Metric]:
        found: dict[str, Metric] = {}
        for sec in self.sections.values():
            for m in sec.metrics:
                found.setdefault(m.key, m)
        return [found[k] for k in SCORECARD_KEYS if k in found]

    def all_skipped(self) -> list[str]:
        out = list(self.skipped)
        top = set(out)  # a column every section skips is said once, not once per section
        for name, sec in self.sections.items():
            out += [f"{name}: {s}" for s in sec.skipped if s not in top]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "scorecard": [m.to_dict() for m in self.scorecard()],
            "gate": None if self.gate is None else _gate_dict(self.gate),
            "skipped": self.all_skipped(),
            "sections": {k: v.to_dict() for k, v in self.sections.items()},
        }


def _gate_dict(g: Any) -> dict[str, Any]:
    if hasattr(g, "to_dict"):
        return g.to_dict()
    return {"passed": bool(g.passed), "reasons": list(g.reasons)}


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    target: str | None = None,
    sensitive: str | None = None,
    thresholds: Any | None = None,
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
    exclude: list[str] | None = None,
    schema: Any | None = None,
) -> EvaluationReport:
    """Evaluate ``synthetic`` against the real training data ``real`` and the real ``holdout``.

    Fidelity needs only ``real``; detection, privacy and utility need the real ``holdout`` (data
    the synthesizer never saw) and are skipped, with the reason, without it. Utility needs a
    ``target``. Validity (constraints, keys, ranges, categories, formats) always runs; it
    reads column kinds, bounds and constraints from ``schema`` (inferred from ``real`` when
    omitted).
    """
    say = progress or (lambda _msg: None)
    exclude = list(exclude or [])
    if exclude:
        real = real.drop(columns=[c for c in exclude if c in real.columns])
        synthetic = synthetic.drop(columns=[c for c in exclude if c in synthetic.columns])
        if holdout is not None:
            holdout = holdout.drop(columns=[c for c in exclude if c in holdout.columns])
        if schema is not None:
            schema = schema.drop(exclude)
    aligned = align(real, synthetic, holdout, target=target)
    sections: dict[str, SectionResult] = {}
    skipped = [f"column {c!r}: excluded (id or PII-handled; no real counterpart)" for c in exclude]
    from synthcust.evaluation.fidelity import evaluate_fidelity
    from synthcust.evaluation.validity import evaluate_validity

    say("validity")
    sections["validity"] = evaluate_validity(real, synthetic, schema)
    say("fidelity")
    sections["fidelity"] = evaluate_fidelity(real, synthetic, holdout, random_state=random_state)
    gate = None
    if holdout is None:
        skipped.append(
            "detection, utility and privacy: no real holdout given (rows the synthesizer never "
            "saw); pass --holdout to measure them"
        )
    else:
        from synthcust.evaluation.detection import evaluate_detection
        from synthcust.evaluation.privacy import GateThresholds, evaluate_privacy, privacy_gate

        say("detection")
        sections["detection"] = evaluate_detection(holdout, synthetic, random_state=random_state)
        if target is not None:
            from synthcust.evaluation.utility import evaluate_utility

            say("utility")
            sections["utility"] = evaluate_utility(
                real, synthetic, holdout, target, random_state=random_state
            )
        else:
            skipped.append("utility: no target column given (--target)")
        say("privacy")
        th = thresholds or GateThresholds()
        sections["privacy"] = evaluate_privacy(
            real,
            synthetic,
            holdout,
            sensitive=sensitive,
            random_state=random_state,
            thresholds=th,
        )
        gate = privacy_gate(sections["privacy"], th)
    meta = {
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "rows": {
            "real_train": len(real),
            "synthetic": len(synthetic),
            "real_holdout": None if holdout is None else len(holdout),
        },
        "columns": aligned.columns,
        "target": target,
        "sensitive": sensitive,
        "synthcust_version": _version(),
    }
    return EvaluationReport(sections, gate, meta, skipped + list(aligned.skipped))


def _version() -> str:
    from synthcust import __version__

    return __version__
