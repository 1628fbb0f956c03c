"""The evaluation report: an :class:`~synthcust.evaluation.evaluate.EvaluationReport` as one
self-contained HTML page (inline CSS and SVG; opens offline) and its JSON twin.

>>> import numpy as np, pandas as pd
>>> from synthcust.evaluation.evaluate import evaluate
>>> rng = np.random.default_rng(0)
>>> make = lambda n: pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
>>> page = EvaluationPage(evaluate(make(300), make(300), random_state=0)).to_html()
>>> "Fidelity: does the synthetic data look like the real data?" in page
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.evaluation.evaluate import EvaluationReport
from synthcust.reporting import plots
from synthcust.reporting.base import Report, Section, fmt, stylesheet

__all__ = ["CSS", "EvaluationPage", "render_html", "write_report"]

#: The one stylesheet (``reporting/static/report.css``), for pages not yet on templates.
CSS = stylesheet()

_SECTION_TITLES = {
    "validity": "Validity: does every synthetic value obey the real data's rules?",
    "fidelity": "Fidelity: does the synthetic data look like the real data?",
    "detection": "Detection: can a classifier tell synthetic from real?",
    "utility": "Utility: does a model trained on synthetic data work on real data?",
    "privacy": "Privacy risk: does the synthetic data reveal real people?",
}

_SECTION_INTRO = {
    "validity": "Share of synthetic values that are valid (1.0 is the target): schema "
    "constraints, unique keys, numbers and dates inside the real range, categories that occur in "
    "the real data, and the real column's type or date format. The overall score is the mean of "
    "the checks, like SDV's diagnostic report. The reference column is the same check on the "
    "real data.",
    "fidelity": "Compared with the real training data. The reference column is the same figure "
    "for real holdout rows against real train: what two samples of real customers agree on.",
    "detection": "Real holdout rows against an equal number of synthetic rows. 0.5 means a "
    "gradient-boosted classifier cannot tell them apart; the drivers show what gives the "
    "synthetic data away.",
    "utility": "A gradient-boosted model trained on synthetic rows and tested on real holdout "
    "rows (TSTR), against the same model trained on real train rows (TRTR).",
    "privacy": "Distances between synthetic rows and the real training rows, compared with "
    "how close real holdout rows (people the model never saw) come to the training rows.",
}


_LEAD = (
    "Every figure compares the synthetic data with real data: the rows the synthesizer learned "
    "from (real train) and, where given, real rows it never saw (real holdout). Synthetic data "
    "is never the yardstick."
)


def _fidelity_figures(sec: Any) -> tuple[list[str | None], list[Section]]:
    extra = sec.extra or {}
    figs: list[str | None] = []
    subs: list[Section] = []
    a, b = extra.get("association_real"), extra.get("association_synthetic")
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame) and a.shape == b.shape:
        figs.append(plots.heatmap_svg(
            a - b, "Association difference |real - synthetic| (Pearson / Cramér's V / eta)"
        ))  # fmt: skip
    dists = extra.get("distributions") or {}
    svgs = [s for s in (plots.distribution_svg(c, d) for c, d in dists.items()) if s]
    if svgs:
        subs.append(Section(
            "Per-column distributions",
            method="Numeric columns in quantile bins of the real training data; categorical "
            "columns by their most frequent categories.",
            figures=svgs,
        ))  # fmt: skip
    return figs, subs


def _detection_figures(sec: Any) -> tuple[list[str | None], list[Section]]:
    if "drivers" not in sec.tables:
        return [], []
    d = sec.tables["drivers"]
    if "column" not in d.columns:
        d = d.reset_index()  # the column names are the index of the drivers table
    col = next((c for c in d.columns if "importance" in str(c)), None)
    if col is None or "column" not in d.columns:
        return [], []
    top = d.sort_values(col, ascending=False).head(15)
    svg = plots.bars_svg(
        top["column"].astype(str).tolist(),
        top[col].astype(float).tolist(),
        "What gives the synthetic data away",
        "drop in detection AUC when shuffled",
    )
    return [svg], []


def _privacy_figures(sec: Any) -> tuple[list[str | None], list[Section]]:
    figs = [
        plots.histograms_svg(val, key.replace("_", " "), "distance")
        for key, val in (sec.extra or {}).items()
        if isinstance(val, dict) and "edges" in val
    ]
    return figs, []


def _validity_figures(sec: Any) -> tuple[list[str | None], list[Section]]:
    fails = ((sec.extra or {}).get("failures") or [])[:15]
    if not fails:
        return [], []
    svg = plots.bars_svg(
        [f"{f['check']}: {f['target']}" for f in fails],
        [1.0 - float(f["synthetic"]) for f in fails],
        "Checks the synthetic data fails",
        "share of synthetic rows that are not valid",
    )
    return [svg], []


_FIGURES = {
    "fidelity": _fidelity_figures,
    "detection": _detection_figures,
    "privacy": _privacy_figures,
    "validity": _validity_figures,
}


def _figures(name: str, sec: Any) -> tuple[list[str], list[Section]]:
    """A section's plots, and the subsections its plot data make (per-column distributions)."""
    make = _FIGURES.get(name)
    if make is None:
        return [], []
    figs, subs = make(sec)
    return [f for f in figs if f], subs


def _validity_failures(extra: dict[str, Any]) -> dict[str, pd.DataFrame]:
    fails = extra.get("failures") or []
    if not fails:
        return {}
    rows = [
        {
            "check": f["check"],
            "column / constraint": f["target"],
            "valid (synthetic)": f["synthetic"],
            "valid (real)": f["real"],
            "bad rows": f["bad_rows"],
            "examples": "; ".join(f["examples"]),
        }
        for f in fails
    ]
    return {"Checks below target": pd.DataFrame(rows)}


def _section(name: str, sec: Any) -> Section:
    extra = sec.extra or {}
    figs, subs = _figures(name, sec)
    verdict, bullets, tables = "", [], {}
    if name == "validity":
        tables = _validity_failures(extra)
        if not tables:
            verdict = "Every check is fully valid."
    elif name == "detection" and extra.get("hints"):
        hints = extra["hints"]
        bullets = [str(h) for h in (hints.values() if isinstance(hints, dict) else hints)]
    elif name == "utility" and extra.get("verdict"):
        verdict = str(extra["verdict"])
    return Section(
        title=_SECTION_TITLES.get(name, name),
        id=name,
        intro=_SECTION_INTRO.get(name, ""),
        method=sec.method,
        metrics=list(sec.metrics),
        verdict=verdict,
        figures=figs,
        bullets=bullets,
        tables=tables,
        subsections=subs,
        details=dict(sec.tables),
        max_rows=1000 if name == "validity" else 60,
    )


@dataclass
class EvaluationPage(Report):
    """The evaluation report page of an :class:`EvaluationReport` (HTML, JSON, see
    :class:`~synthcust.reporting.base.Report`)."""

    result: EvaluationReport
    template = "evaluation.html.j2"
    title = "synthcust evaluation report"

    def to_dict(self) -> dict[str, Any]:
        """The evaluation's figures (``EvaluationReport.to_dict()``)."""
        return self.result.to_dict()

    def context(self) -> dict[str, Any]:
        """Template variables: subtitle, gate, scorecard cards, sections, what was skipped."""
        rep = self.result
        meta = rep.meta
        rows = meta.get("rows", {})
        sub = [
            str(meta.get("created", "")),
            f"synthcust {meta.get('synthcust_version', '')}",
            f"real train {fmt(rows.get('real_train'))} rows",
            f"synthetic {fmt(rows.get('synthetic'))} rows",
            f"real holdout {fmt(rows.get('real_holdout'))} rows",
        ] + ([f"target {meta['target']}"] if meta.get("target") else [])
        return {
            "subtitle": " · ".join(sub),
            "lead": _LEAD,
            "gate": rep.gate,
            "left_out": meta.get("left_out") or {},
            "cards": rep.scorecard(),
            "sections": [_section(name, sec) for name, sec in rep.sections.items()],
            "skipped": rep.all_skipped(),
        }


def render_html(report: EvaluationReport, json_name: str | None = None) -> str:
    """The evaluation report as one self-contained HTML page.

    Parameters
    ----------
    report : EvaluationReport
        What :func:`synthcust.evaluation.evaluate.evaluate` returned.
    json_name : str, optional
        The JSON twin's file name, cited at the foot of the page.
    """
    return EvaluationPage(report).to_html(json_name)


def write_report(report: EvaluationReport, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write the evaluation report to ``path`` (HTML) and its JSON twin beside it, atomically.

    Returns
    -------
    tuple of Path
        The HTML and the JSON file.
    """
    html_path = EvaluationPage(report).write(path)
    return html_path, html_path.with_suffix(".json")
