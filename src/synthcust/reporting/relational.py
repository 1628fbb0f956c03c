"""The relational evaluation report: synthetic customers and their purchase histories against
real ones, as one self-contained HTML page and its JSON twin.

See :func:`synthcust.evaluation.relational.evaluate_relational` for the figures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthcust.evaluation.relational import RelationalReport
from synthcust.evaluation.results import SectionResult
from synthcust.reporting import plots
from synthcust.reporting.base import Report, Section

__all__ = ["RelationalPage", "render_relational_html", "write_relational_report"]

_TITLES = {
    "children": "Orders per customer",
    "rfm": "Recency, frequency, monetary (per customer)",
    "gaps": "Inter-purchase time",
    "basket": "Basket composition",
    "parent_child": "Customer attributes vs spend",
    "privacy": "Privacy at the customer level",
}

_LEAD = (
    "Synthetic customers and their purchase histories against real ones (the customers the "
    "model learned from). The reference column is the same figure for real holdout customers "
    "(never seen by the model) against the same real customers: what two samples of real "
    "customers agree on."
)


def _dist(title: str, d: Any) -> str | None:
    if not isinstance(d, dict):
        return None
    d = dict(d)
    for k in ("real", "synthetic", "holdout"):
        if k in d and d[k] is not None:
            d[k] = list(d[k])
    return plots.distribution_svg(title, d)


def _svgs(name: str, sec: SectionResult) -> list[str]:
    ex = sec.extra
    out: list[str | None] = []
    if name == "children":
        out.append(_dist("orders per customer", ex.get("distribution")))
    elif name == "rfm":
        out += [_dist(k, v) for k, v in (ex.get("distributions") or {}).items()]
    elif name == "gaps":
        out.append(_dist("days between orders", ex.get("distribution")))
    elif name == "basket":
        out.append(_dist("lines per order", ex.get("lines_per_order")))
        out.append(_dist("top-20 products (share of lines)", ex.get("top_products")))
    elif name == "parent_child":
        for k, v in ex.items():
            if k.startswith("mean_log_monetary_by_"):
                out.append(means_svg(k.removeprefix("mean_log_monetary_by_"), v))
    elif name == "privacy":
        for k, v in ex.items():
            out.append(plots.histograms_svg(v, k.replace("_", " "), "distance"))
    return [s for s in out if s]


def means_svg(col: str, d: dict[str, Any]) -> str | None:
    """Mean log(1 + spend) per category of ``col``: real, synthetic (and holdout) bars."""
    plt = plots.pyplot()
    labels = [str(x) for x in d.get("labels", [])]
    series = [
        (k, d[k], c)
        for k, c in (("real", plots.REAL), ("synthetic", plots.SYNTH), ("holdout", plots.HOLD))
        if k in d
    ]
    if not labels or len(series) < 2:
        return None
    fig, ax = plt.subplots(figsize=(3.8, 2.4))
    x = np.arange(len(labels))
    w = 0.8 / len(series)
    for i, (lab, vals, colr) in enumerate(series):
        ax.bar(x + (i - (len(series) - 1) / 2) * w, vals, w, label=lab, color=colr)
    ax.set_xticks(x, [lab[:14] for lab in labels], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("mean log(1 + spend)")
    ax.set_title(f"spend by {col}", fontsize=10, loc="left", pad=16)
    plots.legend(ax)
    return plots.svg(fig)


@dataclass
class RelationalPage(Report):
    """A :class:`RelationalReport` as a report page (see :class:`~synthcust.reporting.Report`)."""

    result: RelationalReport
    title = "synthcust relational report"

    def to_dict(self) -> dict[str, Any]:
        """The relational evaluation's figures (``RelationalReport.to_dict()``)."""
        return self.result.to_dict()

    def context(self) -> dict[str, Any]:
        """Table sizes as the subtitle, then one section per area."""
        sizes = "; ".join(
            f"{side}: " + ", ".join(f"{t} {n:,}" for t, n in tabs.items())
            for side, tabs in self.result.meta.get("tables", {}).items()
        )
        sections = [
            Section(
                _TITLES.get(name, name),
                id=name,
                method=sec.method,
                metrics=list(sec.metrics),
                figures=_svgs(name, sec),
                details=dict(sec.tables),
                skipped=list(sec.skipped),
            )
            for name, sec in self.result.sections.items()
        ]
        return {"subtitle": sizes, "lead": _LEAD, "sections": sections}


def render_relational_html(report: RelationalReport, json_name: str | None = None) -> str:
    """The relational report as one self-contained HTML page (inline CSS and SVG)."""
    return RelationalPage(report).to_html(json_name)


def write_relational_report(
    report: RelationalReport, path: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Write ``path`` (HTML) and the JSON twin beside it, both atomically.

    Returns
    -------
    tuple of Path
        The HTML and the JSON file.
    """
    html_path = RelationalPage(report).write(path)
    return html_path, html_path.with_suffix(".json")
