"""Every synthcust report: one :class:`Report` interface, Jinja2 templates, one stylesheet.

See :mod:`synthcust.reporting.base` for how to write a report, and
:mod:`synthcust.reporting.plots` for the plots. ``render_html`` / ``write_report`` /
``scorecard_table`` render an :class:`~synthcust.evaluation.evaluate.EvaluationReport`.
"""

from synthcust.reporting import plots
from synthcust.reporting.base import (
    Report,
    Section,
    environment,
    escape,
    fmt,
    html_table,
    json_safe,
    metric_rows_html,
    render,
    rests_on_html,
    stylesheet,
)
from synthcust.reporting.html import EvaluationPage, render_html, write_report
from synthcust.reporting.terminal import scorecard_table

__all__ = [
    "EvaluationPage",
    "Report",
    "Section",
    "environment",
    "escape",
    "fmt",
    "html_table",
    "json_safe",
    "metric_rows_html",
    "plots",
    "render",
    "render_html",
    "rests_on_html",
    "scorecard_table",
    "stylesheet",
    "write_report",
]
