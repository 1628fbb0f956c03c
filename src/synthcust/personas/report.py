"""The persona cards as a report: HTML page (cards with charts) and JSON, on the shared interface.

:class:`PersonaCardsReport` is a :class:`synthcust.reporting.Report`: ``to_dict()`` holds every
figure of the cards, ``to_html()`` renders ``personas_cards.html.j2`` (autoescaped; only the
plots' SVG is trusted markup) and ``write(path)`` writes the page and its JSON twin.

>>> from synthcust.demo import simulate_customers
>>> from synthcust.personas import PersonaSegmenter, describe_personas
>>> df = simulate_customers(600, random_state=0, with_pii=False)
>>> cards = describe_personas(df, PersonaSegmenter(k=2, random_state=0).fit(df))
>>> page = PersonaCardsReport(cards).to_html()
>>> page.count('<section class="persona"')
2
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust.personas.describe import PersonaCard, PersonaCards
from synthcust.personas.traits import show_value, strict_json
from synthcust.reporting import Report, plots

__all__ = ["PersonaCardsReport", "render_html", "write_cards"]

_PALETTE = ("#1f5fa8", "#e07b39", "#2e9d58", "#b04a9e", "#d1343a", "#8a6d3b", "#17a2b8",
            "#6c757d", "#9c27b0", "#795548")


def _sizes_svg(cards: PersonaCards) -> str:
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 0.35 * len(cards.cards) + 0.8))
    labels = [f"{c.id} {c.name}"[:64] for c in cards.cards][::-1]
    shares = [c.share for c in cards.cards][::-1]
    colors = [_PALETTE[i % len(_PALETTE)] for i in range(len(cards.cards))][::-1]
    ax.barh(labels, shares, color=colors)
    for y, s in enumerate(shares):
        ax.text(s, y, f" {s:.0%}", va="center", fontsize=7)
    ax.set_xlabel("share of customers")
    ax.set_title("Persona sizes", fontsize=10, loc="left")
    return plots.svg(fig)


def _selection_svg(cards: PersonaCards) -> str | None:
    sel = cards.selection
    if len(sel) < 2:
        return None
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 2.6))
    ax.plot(sel["k"], sel["bic"], "o-", color="#1f5fa8", label="BIC (lower is better)")
    ax.plot(sel["k"], sel["icl"], "s--", color="#8a8a8a", label="ICL")
    ax.axvline(cards.k, color="#d1343a", linewidth=1, label=f"chosen k = {cards.k}")
    ax.set_xlabel("number of personas k")
    ax.set_xticks(sel["k"].tolist())
    ax2 = ax.twinx()
    ax2.plot(sel["k"], sel["stability"], "^:", color="#2e9d58", label="stability (ARI)")
    ax2.plot(sel["k"], sel["silhouette"], "v:", color="#e07b39", label="silhouette")
    ax2.set_ylim(min(0.0, float(np.nanmin(sel["silhouette"]))), 1.0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=6.5, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, -0.22), ncol=3)
    ax.set_title("Choosing the number of personas", fontsize=10, loc="left")
    return plots.svg(fig)


def _traits_svg(card: PersonaCard, color: str, top: int) -> str | None:
    ts = card.shown_traits()[:top]
    if not ts:
        return None
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(4.4, 0.3 * len(ts) + 0.9))
    labels = [(t.column if t.kind == "numeric" else
               f"{t.column} {'missing' if t.kind == 'missing' else '= ' + str(t.level)}")[:36]
              for t in ts][::-1]
    eff = [t.effect for t in ts][::-1]
    ax.barh(labels, eff, color=[color if e > 0 else "#9aa3b2" for e in eff])
    ax.axvline(0, color="#333", linewidth=0.8)
    ax.set_xlabel("effect vs the rest (Cohen's d or h)")
    ax.set_title(f"{card.id}: what sets them apart", fontsize=9, loc="left")
    return plots.svg(fig)


def _trait_rows(card: PersonaCard, top: int) -> list[tuple[str, ...]]:
    """The trait table of a card as text cells (escaped by the template)."""
    rows: list[tuple[str, ...]] = []
    for t in card.shown_traits()[:top]:
        if t.kind == "numeric":
            what = t.column
            pv = f"median {show_value(t.persona_median, t.is_date)} · mean " \
                f"{show_value(t.persona_value, t.is_date)}"
            pop = f"median {show_value(t.population_median, t.is_date)} · mean " \
                f"{show_value(t.population_value, t.is_date)}"
        else:
            what = f"{t.column} missing" if t.kind == "missing" else f"{t.column} = {t.level}"
            pv, pop = f"{t.persona_value:.1%}", f"{t.population_value:.1%}"
        lift = "" if t.lift is None else f"{t.lift:.2f}"
        rows.append((what, pv, pop, lift, f"{t.effect:+.2f}", f"{t.statistic:+.1f}",
                     f"{t.p_value:.1e}", t.test))
    return rows


def _member_rows(m: pd.DataFrame | None) -> dict[str, Any] | None:
    """Members as ``{"header", "rows"}``; each cell ``(text, is_number)``."""
    if m is None or len(m) == 0:
        return None
    rows = []
    for r in m.itertuples(index=False):
        cells = []
        for v in r:
            if isinstance(v, float | np.floating):
                cells.append((show_value(v), True))
            elif isinstance(v, pd.Timestamp):
                cells.append((str(v.date()), False))
            else:
                cells.append(("" if v is None else str(v), False))
        rows.append(cells)
    return {"header": [str(c) for c in m.columns], "rows": rows}


@dataclass
class PersonaCardsReport(Report):
    """The persona cards page: sizes, how k was chosen, one card per persona.

    Parameters
    ----------
    cards
        The cards (from :func:`~synthcust.personas.describe_personas`, members optional).
    top
        Traits shown per card (chart and table).
    """

    cards: PersonaCards
    top: int = 6
    template = "personas_cards.html.j2"
    title = "Customer personas"

    def to_dict(self) -> dict[str, Any]:
        """Every figure of the cards (``personas.json``), strict JSON."""
        return strict_json(self.cards.to_dict())

    def context(self) -> dict[str, Any]:
        """The template variables of ``personas_cards.html.j2``."""
        cards = self.cards
        personas = []
        for i, c in enumerate(cards.cards):
            color = _PALETTE[i % len(_PALETTE)]
            typical = ", ".join(f"{k}: {show_value(v) if isinstance(v, float) else v}"
                                for k, v in c.typical.items())
            personas.append({"card": c, "color": color, "svg": _traits_svg(c, color, self.top),
                             "traits": _trait_rows(c, self.top), "typical": typical,
                             "members": _member_rows(c.members)})
        method = cards.to_dict()["method"]
        return {"cards": cards, "intro": method, "personas": personas,
                "overview": [_sizes_svg(cards), _selection_svg(cards)],
                "selection": cards.selection.round(4), "members_method": method.get("members")}


def render_html(cards: PersonaCards, json_name: str | None = None, top: int = 6) -> str:
    """The persona cards as one self-contained HTML page (inline CSS and SVG)."""
    return PersonaCardsReport(cards, top).to_html(json_name)


def write_cards(cards: PersonaCards, outdir: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``personas.html`` and ``personas.json`` into ``outdir`` (atomically).

    Returns
    -------
    tuple of Path
        The HTML and JSON paths.
    """
    html_path = PersonaCardsReport(cards).write(Path(outdir) / "personas.html")
    return html_path, html_path.with_suffix(".json")
