"""Render an :class:`~synthcust.evaluation.evaluate.EvaluationReport`: HTML, JSON, terminal."""

from synthcust.evaluation.report.html import render_html, write_report
from synthcust.evaluation.report.terminal import scorecard_table

__all__ = ["render_html", "scorecard_table", "write_report"]
