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
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from synthcust.evaluation.common import align
from synthcust.evaluation.detection import evaluate_detection
from synthcust.evaluation.fidelity import evaluate_fidelity
from synthcust.evaluation.privacy import GateThresholds, evaluate_privacy, privacy_gate
from synthcust.evaluation.results import Metric, SectionResult
from synthcust.evaluation.utility import evaluate_utility
from synthcust.evaluation.validity import evaluate_validity
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Kind, PIIPolicy, Role, Schema

__all__ = ["SCORECARD_KEYS", "EvaluationReport", "evaluate", "unscored_columns"]

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
    """Every section's result, the privacy gate's decision and what was evaluated.

    ``meta["left_out"]`` maps each column that was not scored to the reason (identifiers,
    keys, handled PII, ``exclude``). The page is
    :class:`synthcust.reporting.html.EvaluationPage` (``write_report`` writes HTML + JSON).
    """

    sections: dict[str, SectionResult]
    gate: Any | None = None  # evaluation.privacy.GateDecision
    meta: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def scorecard(self) -> list[Metric]:
        """The headline metrics, in :data:`SCORECARD_KEYS` order."""
        found: dict[str, Metric] = {}
        for sec in self.sections.values():
            for m in sec.metrics:
                found.setdefault(m.key, m)
        return [found[k] for k in SCORECARD_KEYS if k in found]

    def all_skipped(self) -> list[str]:
        """What was not measured, and why: the report's and every section's."""
        out = list(self.skipped)
        top = set(out)  # a column every section skips is said once, not once per section
        for name, sec in self.sections.items():
            out += [f"{name}: {s}" for s in sec.skipped if s not in top]
        return out

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-safe: meta, scorecard, gate, skipped, sections."""
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


def unscored_columns(schema: Schema, keep: Any = ()) -> dict[str, str]:
    """Columns the evaluation leaves out, with the reason, as the schema marks them.

    Identifiers (kind ``id``), keys (role ``key``) and PII that is handled before learning
    (any policy but ``keep``) carry no distribution to compare: their synthetic values are new
    ids, pseudonyms or fakes by design. Columns in ``keep`` (the target, the sensitive column)
    are always scored.

    >>> import pandas as pd
    >>> from synthcust.schema.infer import infer_schema
    >>> df = pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(200)], "x": range(200)})
    >>> unscored_columns(infer_schema(df))
    {'customer_id': 'identifier (schema kind id)'}
    """
    keep = {k for k in keep if k is not None}
    out: dict[str, str] = {}
    for c in schema.columns:
        if c.name in keep:
            continue
        if c.kind == Kind.ID:
            out[c.name] = "identifier (schema kind id)"
        elif c.role == Role.KEY:
            out[c.name] = "key (schema role key)"
        elif c.pii is not None and c.pii_policy != PIIPolicy.KEEP:
            how = c.pii_policy.value if c.pii_policy is not None else "its default policy"
            out[c.name] = f"PII ({c.pii.value}), handled by {how} before learning"
    return out


def _drop(frame: pd.DataFrame | None, cols: list[str]) -> pd.DataFrame | None:
    if frame is None:
        return None
    return frame.drop(columns=[c for c in cols if c in frame.columns])


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
    ``target``. Validity (constraints, keys, ranges, categories, formats) always runs.

    Parameters
    ----------
    real, synthetic, holdout : DataFrame
        Real train, synthetic and (optional) real holdout rows.
    target : str, optional
        The class or numeric column utility is measured on.
    sensitive : str, optional
        A column for the attribute-inference risk.
    thresholds : GateThresholds, optional
        The privacy gate's bars.
    random_state : int
        Seed of subsampling and models.
    progress : callable, optional
        Called with each section's name.
    exclude : list of str, optional
        More columns to leave out.
    schema : Schema, optional
        Column kinds, roles, bounds and constraints (inferred from ``real``, once, when
        omitted). Identifier, key and handled-PII columns are not scored (see
        :func:`unscored_columns`); the report lists them.

    Returns
    -------
    EvaluationReport
    """
    say = progress or (lambda _msg: None)
    if schema is None:
        schema = infer_schema(real, detect_pii=False)
    left_out = {c: "excluded as asked" for c in (exclude or []) if c in real.columns}
    for c, why in unscored_columns(schema, keep=(target, sensitive)).items():
        if c in real.columns and c not in left_out:
            left_out[c] = why
    drop = [*dict.fromkeys([*(exclude or []), *left_out])]
    if drop:
        real, synthetic, holdout = _drop(real, drop), _drop(synthetic, drop), _drop(holdout, drop)
        schema = schema.drop([c for c in drop if c in schema.names])
    aligned = align(real, synthetic, holdout, target=target)
    skipped = [f"column {c!r}: not scored: {why}" for c, why in left_out.items()]
    sections: dict[str, SectionResult] = {}
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
        gate = _holdout_sections(
            sections, skipped, real, synthetic, holdout, target, sensitive, thresholds,
            random_state, say,
        )  # fmt: skip
    meta = {
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "rows": {
            "real_train": len(real),
            "synthetic": len(synthetic),
            "real_holdout": None if holdout is None else len(holdout),
        },
        "columns": aligned.columns,
        "left_out": left_out,
        "target": target,
        "sensitive": sensitive,
        "synthcust_version": _version(),
    }
    return EvaluationReport(sections, gate, meta, skipped + list(aligned.skipped))


def _holdout_sections(
    sections: dict[str, SectionResult],
    skipped: list[str],
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str | None,
    sensitive: str | None,
    thresholds: Any | None,
    random_state: int,
    say: Callable[[str], None],
) -> Any:
    """Detection, utility (with a target) and privacy; returns the privacy gate's decision."""
    say("detection")
    sections["detection"] = evaluate_detection(holdout, synthetic, random_state=random_state)
    if target is not None:
        say("utility")
        sections["utility"] = evaluate_utility(
            real, synthetic, holdout, target, random_state=random_state
        )
    else:
        skipped.append("utility: no target column given (--target)")
    say("privacy")
    th = thresholds or GateThresholds()
    sections["privacy"] = evaluate_privacy(
        real, synthetic, holdout, sensitive=sensitive, random_state=random_state, thresholds=th
    )
    return privacy_gate(sections["privacy"], th)


def _version() -> str:
    try:
        return version("synthcust")
    except PackageNotFoundError:
        return "0+unknown"
