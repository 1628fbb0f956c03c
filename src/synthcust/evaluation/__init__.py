"""Evaluation against real data: pure functions (real, synthetic, ...) -> results."""

from synthcust.evaluation.evaluate import EvaluationReport, evaluate
from synthcust.evaluation.fidelity import (
    KL_THRESHOLD,
    KLSummary,
    kl_divergence,
    kl_per_column,
    kl_summary,
)

__all__ = [
    "KL_THRESHOLD",
    "EvaluationReport",
    "KLSummary",
    "evaluate",
    "kl_divergence",
    "kl_per_column",
    "kl_summary",
]
