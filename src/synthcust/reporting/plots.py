"""Inline SVG plots for every report (matplotlib, no network, no files).

``pyplot()`` imports matplotlib lazily (Agg backend, the house style) and returns pyplot;
``svg(fig)`` renders a figure as an inline ``<svg>`` string and closes it. Colours: ``REAL``,
``SYNTH``, ``HOLD``.

>>> plt = pyplot()
>>> fig, ax = plt.subplots()
>>> svg(fig).startswith("<svg")
True
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np

REAL, SYNTH, HOLD = "#1f5fa8", "#e07b39", "#8a8a8a"


def pyplot():
    """matplotlib.pyplot, imported lazily with the Agg backend and the reports' style."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            # column names are data: "$x$" or "\\notacommand" must print as written, never be
            # parsed as mathtext (an unknown command crashed the report)
            "text.parse_math": False,
        }
    )
    return plt


def svg(fig) -> str:
    """``fig`` as an inline SVG string (no metadata, text as text); closes the figure."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    pyplot().close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # matplotlib's RDF metadata names outside namespaces and a date: drop it (self-contained,
    # reproducible report)
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)


def _edge_label(v: float, unit: str | None) -> str:
    if unit:  # datetimes as seconds since the epoch
        return str(np.datetime64(int(v), "s").astype("datetime64[D]"))
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:,.0f}"


def legend(ax) -> None:
    """The reports' legend: small, frameless, in a row above the axes."""
    ax.legend(
        fontsize=6.5,
        frameon=False,
        ncol=3,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        handlelength=1.2,
        columnspacing=0.8,
    )


def distribution_svg(name: str, d: dict[str, Any]) -> str | None:
    """Real vs synthetic (vs holdout) proportions for one column.

    Numeric (and datetime) columns: shares of the non-missing values in the real train data's
    quantile bins (so real train is about flat and a bump or a dip is where the synthetic data
    differs); categorical columns, booleans and 0/1 flags included: bars of the shares of the
    most frequent categories. A numeric column whose quantiles leave a single bin gives
    ``None`` (nothing to draw).
    """
    plt = pyplot()
    names = [("real", "real train", REAL), ("synthetic", "synthetic", SYNTH)]
    names.append(("holdout", "real holdout", HOLD))
    if "edges" in d:
        edges = [float(e) for e in d["edges"]]
        k = len(edges) - 1
        series = [
            (lab, np.asarray(d[key], dtype=float), col)
            for key, lab, col in names
            if d.get(key) is not None and len(d[key]) == k
        ]
        if k < 2 or len(series) < 2:
            # one bin (a 0/1 or two-valued column binned as a number) shows nothing: no
            # chart rather than an empty line; such columns come as categories (bars)
            return None
        fig, ax = plt.subplots(figsize=(3.6, 2.4))
        x = np.arange(k + 1)
        for lab, vals, col in series:
            ax.stairs(vals, x, label=lab, color=col, linewidth=1.6)
        step = max(1, k // 5)
        unit = d.get("unit")
        ax.set_xticks(
            x[::step],
            [_edge_label(e, unit) for e in edges[::step]],
            rotation=30,
            ha="right",
            fontsize=7,
        )
        ax.set_xlabel("real-train quantile bins (edges)", fontsize=7)
        missing = d.get("missing") or {}
        if any(v for v in missing.values()):
            shares = ", ".join(f"{k_} {100 * v:.1f}%" for k_, v in missing.items())
            ax.text(0.99, 0.02, f"missing: {shares}", transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=6, color="#555")  # fmt: skip
    else:
        labels = [str(x) for x in d.get("labels", [])]
        series = [
            (lab, np.asarray(d[key], dtype=float), col)
            for key, lab, col in names
            if d.get(key) is not None and len(d[key]) == len(labels)
        ]
        if not labels or len(series) < 2:
            return None
        fig, ax = plt.subplots(figsize=(3.6, 2.4))
        x = np.arange(len(labels))
        w = 0.8 / len(series)
        for i, (lab, vals, col) in enumerate(series):
            ax.bar(x + (i - (len(series) - 1) / 2) * w, vals, w, label=lab, color=col)
        ax.set_xticks(x, [lab[:14] for lab in labels], rotation=45, ha="right", fontsize=7)
    ax.set_title(name, fontsize=10, loc="left", pad=16)
    ax.set_ylabel("share of rows")
    legend(ax)
    return svg(fig)


def heatmap_svg(diff, title: str) -> str | None:
    """|association real - association synthetic| for every pair of columns."""
    plt = pyplot()
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
    return svg(fig)


def bars_svg(labels: list[str], values: list[float], title: str, xlabel: str) -> str | None:
    """Horizontal bars, first label on top."""
    plt = pyplot()
    if not labels:
        return None
    fig, ax = plt.subplots(figsize=(5, 0.3 * len(labels) + 0.8))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=SYNTH)
    ax.set_yticks(y, [lab[:30] for lab in labels], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10, loc="left")
    return svg(fig)


def histograms_svg(series: dict[str, Any], title: str, xlabel: str) -> str | None:
    """Overlaid histograms, e.g. distance to closest record for synthetic vs holdout."""
    plt = pyplot()
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
    return svg(fig)
