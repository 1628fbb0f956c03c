"""Render an :class:`~synthcust.evaluation.evaluate.EvaluationReport`: HTML, JSON, terminal."""

from synthcust.reporting.html import render_html, write_report
from synthcust.reporting.terminal import scorecard_table

__all__ = ["render_html", "scorecard_table", "write_report"]
