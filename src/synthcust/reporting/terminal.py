"""The terminal summary: the scorecard as a Rich table."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from synthcust.reporting.base import fmt

__all__ = ["fmt", "scorecard_table"]

_COLOURS = {"pass": "green", "warn": "yellow", "fail": "red", "info": "white"}


def scorecard_table(report: Any) -> Table:
    """The evaluation's scorecard (and validity failures, privacy gate) as a Rich table."""
    t = Table(title="synthcust evaluation (real data is the yardstick)")
    for c in ("figure", "synthetic", "real vs real", "threshold", "status"):
        t.add_column(c, justify="right" if c != "figure" else "left")
    for m in report.scorecard():
        col = _COLOURS.get(m.status, "white")
        t.add_row(
            m.label, fmt(m.value), fmt(m.reference), fmt(m.threshold), f"[{col}]{m.status}[/{col}]"
        )
    lines = []
    val = report.sections.get("validity")
    fails = (val.extra.get("failures") or []) if val is not None else []
    if fails:
        lines.append(f"validity: {len(fails)} check(s) below target")
        for f in fails[:5]:
            ex = f", e.g. {', '.join(f['examples'])}" if f["examples"] else ""
            lines.append(escape(f"- {f['check']} {f['target']}: {fmt(f['synthetic'])} valid{ex}"))
    if report.gate is not None:
        verdict = "[green]passed[/green]" if report.gate.passed else "[red]FAILED[/red]"
        lines.append(f"privacy gate {verdict}" + "".join(f"\n- {r}" for r in report.gate.reasons))
    if lines:
        t.caption = "\n".join(lines)
    return t
