"""Inline SVG plots for the HTML report (matplotlib, no network, no files)."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np

REAL, SYNTH, HOLD = "#1f5fa8", "#e07b39", "#8a8a8a"


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _plt().close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    # matplotlib's RDF metadata names outside namespaces and a date: drop it (self-contained,
    # reproducible report)
    return re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)


def distribution_svg(name: str, d: dict[str, Any]) -> str | None:
    """Real vs synthetic (vs holdout) proportions for one column."""
    plt = _plt()
    labels = [str(x) for x in d.get("labels", [])]
    real = np.asarray(d.get("real", []), dtype=float)
    synth = np.asarray(d.get("synthetic", []), dtype=float)
    if not len(labels) or len(real) != len(labels) or len(synth) != len(labels):
        return None
    hold = d.get("holdout")
    fig, ax = plt.subplots(figsize=(3.6, 2.3))
    x = np.arange(len(labels))
    series = [("real train", real, REAL), ("synthetic", synth, SYNTH)]
    if hold is not None and len(hold) == len(labels):
        series.append(("real holdout", np.asarray(hold, dtype=float), HOLD))
    w = 0.8 / len(series)
    for i, (lab, vals, col) in enumerate(series):
        ax.bar(x + (i - (len(series) - 1) / 2) * w, vals, w, label=lab, color=col)
    ax.set_title(name, fontsize=10, loc="left")
    ax.set_ylabel("share of rows")
    if d.get("kind") == "numeric":
        step = max(1, len(labels) // 5)
        ax.set_xticks(x[::step], labels[::step], rotation=30, ha="right", fontsize=7)
    else:
        ax.set_xticks(x, [lab[:14] for lab in labels], rotation=45, ha="right", fontsize=7)
    ax.legend(fontsize=7, frameon=False)
    return _svg(fig)


def heatmap_svg(diff, title: str) -> str | None:
    """|association real - association synthetic| for every pair of columns."""
    plt = _plt()
    m = np.abs(np.asarray(diff, dtype=float))
    if m.size == 0:
        return None
    names = [str(c) for c in getattr(diff, "columns", range(m.shape[1]))]
    size = min(1.0 + 0.32 * len(names), 9)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(
        m, vmin=0, vmax=max(0.3, float(np.nanmax(m)) if np.isfinite(m).any() else 0.3), cmap="Reds"
    )
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_title(title, fontsize=10, loc="left")
    fig.colorbar(im, ax=ax, shrink=0.8, label="absolute difference")
    return _svg(fig)


def bars_svg(labels: list[str], values: list[float], title: str, xlabel: str) -> str | None:
    plt = _plt()
    if not labels:
        return None
    fig, ax = plt.subplots(figsize=(5, 0.3 * len(labels) + 0.8))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=SYNTH)
    ax.set_yticks(y, [lab[:30] for lab in labels], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10, loc="left")
    return _svg(fig)


def histograms_svg(series: dict[str, Any], title: str, xlabel: str) -> str | None:
    """Overlaid histograms, e.g. distance to closest record for synthetic vs holdout."""
    plt = _plt()
    edges = series.get("edges")
    if edges is None:
        return None
    edges = np.asarray(edges, dtype=float)
    fig, ax = plt.subplots(figsize=(5, 2.6))
    colors = {"synthetic": SYNTH, "holdout": HOLD, "real holdout": HOLD, "train": REAL}
    for name, vals in series.items():
        if name == "edges":
            continue
        vals = np.asarray(vals, dtype=float)
        if len(vals) != len(edges) - 1:
            continue
        ax.stairs(vals, edges, label=name, color=colors.get(name, REAL), linewidth=1.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of rows")
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False)
    return _svg(fig)
