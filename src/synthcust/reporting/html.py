"""A self-contained HTML report (inline CSS and SVG; opens offline) and its JSON twin."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.reporting import plots
from synthcust.reporting.base import escape, fmt, html_table, metric_rows_html, stylesheet

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


_e = escape


_metric_rows = metric_rows_html
_table = html_table


def _figures(name: str, sec: Any) -> str:
    out: list[str] = []
    extra = sec.extra or {}
    if name == "fidelity":
        a, b = extra.get("association_real"), extra.get("association_synthetic")
        if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame) and a.shape == b.shape:
            svg = plots.heatmap_svg(
                a - b, "Association difference |real - synthetic| (Pearson / Cramér's V / eta)"
            )
            if svg:
                out.append(f"<div>{svg}</div>")
        dists = extra.get("distributions") or {}
        svgs = [plots.distribution_svg(col, d) for col, d in dists.items()]
        svgs = [s for s in svgs if s]
        if svgs:
            out.append(
                "<h3>Per-column distributions</h3><p class='meta'>Numeric columns in quantile "
                "bins of the real training data; categorical columns by their most frequent "
                "categories.</p><div class='grid'>" + "".join(svgs) + "</div>"
            )
    if name == "detection" and "drivers" in sec.tables:
        d = sec.tables["drivers"]
        if "column" not in d.columns:
            d = d.reset_index()  # the column names are the index of the drivers table
        col = next((c for c in d.columns if "importance" in str(c)), None)
        if col is not None and "column" in d.columns:
            top = d.sort_values(col, ascending=False).head(15)
            svg = plots.bars_svg(
                top["column"].astype(str).tolist(),
                top[col].astype(float).tolist(),
                "What gives the synthetic data away",
                "drop in detection AUC when shuffled",
            )
            if svg:
                out.append(f"<div>{svg}</div>")
        hints = extra.get("hints")
        if hints:
            items = hints.values() if isinstance(hints, dict) else hints
            out.append("<ul>" + "".join(f"<li>{_e(h)}</li>" for h in items) + "</ul>")
    if name == "privacy":
        for key, val in extra.items():
            if isinstance(val, dict) and "edges" in val:
                svg = plots.histograms_svg(val, key.replace("_", " "), "distance")
                if svg:
                    out.append(f"<div>{svg}</div>")
    if name == "validity":
        fails = extra.get("failures") or []
        if fails:
            top = fails[:15]
            svg = plots.bars_svg(
                [f"{f['check']}: {f['target']}" for f in top],
                [1.0 - float(f["synthetic"]) for f in top],
                "Checks the synthetic data fails",
                "share of synthetic rows that are not valid",
            )
            if svg:
                out.append(f"<div>{svg}</div>")
            out.append(
                "<table><tr><th>check</th><th>column / constraint</th><th>valid (synthetic)</th>"
                "<th>valid (real)</th><th>bad rows</th><th>examples</th></tr>"
                + "".join(
                    f"<tr><td>{_e(f['check'])}</td><td>{_e(f['target'])}</td>"
                    f"<td class='n'>{_e(fmt(f['synthetic']))}</td>"
                    f"<td class='n'>{_e(fmt(f['real']))}</td>"
                    f"<td class='n'>{_e(fmt(f['bad_rows']))}</td>"
                    f"<td>{_e('; '.join(f['examples']))}</td></tr>"
                    for f in fails
                )
                + "</table>"
            )
        else:
            out.append("<p><b>Every check is fully valid.</b></p>")
    if name == "utility" and extra.get("verdict"):
        out.append(f"<p><b>{_e(extra['verdict'])}</b></p>")
    return "".join(out)


def render_html(report: Any, json_name: str | None = None) -> str:
    """The report as one self-contained HTML page."""
    meta = report.meta
    rows = meta.get("rows", {})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        "<title>synthcust evaluation report</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<h1>synthcust evaluation report</h1>",
        "<p class='meta'>"
        + " · ".join(
            [
                _e(meta.get("created", "")),
                f"synthcust {_e(meta.get('synthcust_version', ''))}",
                f"real train {_e(fmt(rows.get('real_train')))} rows",
                f"synthetic {_e(fmt(rows.get('synthetic')))} rows",
                f"real holdout {_e(fmt(rows.get('real_holdout')))} rows",
            ]
            + ([f"target {_e(meta['target'])}"] if meta.get("target") else [])
        )
        + "</p>",
        "<p>Every figure compares the synthetic data with <b>real</b> data: the rows the "
        "synthesizer learned from (real train) and, where given, real rows it never saw (real "
        "holdout). Synthetic data is never the yardstick.</p>",
    ]
    if report.gate is not None:
        if report.gate.passed:
            parts.append("<div class='gate ok'>Privacy gate passed</div>")
        else:
            reasons = "".join(f"<li>{_e(r)}</li>" for r in report.gate.reasons)
            parts.append(f"<div class='gate bad'>Privacy gate FAILED<ul>{reasons}</ul></div>")
    cards = []
    for m in report.scorecard():
        ref = f"real vs real: {fmt(m.reference)}" if m.reference is not None else ""
        thr = f"threshold: {fmt(m.threshold)}" if m.threshold is not None else ""
        sub = " · ".join(x for x in (ref, thr) if x)
        cards.append(
            f"<div class='card {m.status}' title='{_e(m.method)}'>"
            f"<div class='l'>{_e(m.label)}</div><div class='v'>{_e(fmt(m.value))}</div>"
            f"<div class='r'>{_e(sub)}</div></div>"
        )
    parts.append("<h2>Scorecard</h2><div class='cards'>" + "".join(cards) + "</div>")
    for name, sec in report.sections.items():
        parts.append(f"<h2 id='{_e(name)}'>{_e(_SECTION_TITLES.get(name, name))}</h2>")
        if name in _SECTION_INTRO:
            parts.append(f"<p>{_e(_SECTION_INTRO[name])}</p>")
        if sec.method:
            parts.append(f"<p class='method'>{_e(sec.method)}</p>")
        parts.append(_metric_rows(sec.metrics))
        parts.append(_figures(name, sec))
        for tname, df in sec.tables.items():
            parts.append(f"<details><summary>Table: {_e(tname)}</summary>{_table(df)}</details>")
    skipped = report.all_skipped()
    if skipped:
        parts.append(
            "<h2>What was skipped, and why</h2><ul class='skip'>"
            + "".join(f"<li>{_e(s)}</li>" for s in skipped)
            + "</ul>"
        )
    if json_name:
        parts.append(f"<p class='meta'>Every figure is also in <code>{_e(json_name)}</code>.</p>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_report(report: Any, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.json`` beside it (both atomically)."""
    from synthcust.io.atomic import atomic_write_text

    p = Path(path)
    json_path = p.with_suffix(".json")
    atomic_write_text(json_path, json.dumps(report.to_dict(), indent=1, default=str) + "\n")
    atomic_write_text(p, render_html(report, json_path.name))
    return p, json_path
