"""What the simulation reports share: tables formatted as they show them, "what this rests on".

Every simulation result (:class:`~synthcust.simulation.scenarios.ScenarioResult`,
:class:`~synthcust.simulation.abtest.ABTestResult`,
:class:`~synthcust.simulation.funnel.FunnelResult`,
:class:`~synthcust.simulation.attribution_lab.LabResult`,
:class:`~synthcust.simulation.validation.BehaviourValidation`,
:class:`~synthcust.simulation.validation.ChoiceModelReport`) is a
:class:`synthcust.reporting.Report`: ``to_dict()``, ``to_html()`` and ``write(path)`` (HTML
and JSON beside it), rendered from the ``simulation_*.html.j2`` templates with autoescaping.
This module turns frames into :class:`TableView` (cells formatted as the reports have always
shown them: 4 significant digits, thousands without decimals, ``yes`` for true flags) and the
``rests_on`` dict into :class:`RestsOnView`.

>>> import pandas as pd
>>> t = table_view(pd.DataFrame({"a": [1234.5, 0.123456], "b": ["<x>", "y"]}))
>>> t.rows[0]
[('1,234', True), ('<x>', False)]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RestsOnView", "TableView", "format_value", "rests_on_view", "table_view"]


def format_value(v: Any) -> str:
    """A cell as the simulation reports show it.

    >>> format_value(True), format_value(float("inf")), format_value(0.000123456)
    ('yes', 'inf', '0.0001235')
    """
    if isinstance(v, bool | np.bool_):
        return "yes" if v else ""
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "" if np.isnan(v) else "inf"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)


@dataclass
class TableView:
    """A frame's first rows with every cell formatted: ``rows`` of ``(text, is_number)``."""

    columns: list[str]
    rows: list[list[tuple[str, bool]]]
    total: int
    shown: int

    @property
    def more(self) -> bool:
        """Whether rows were left out."""
        return self.total > self.shown


def table_view(df: pd.DataFrame, max_rows: int = 80, *, raw: bool = False) -> TableView:
    """The first ``max_rows`` rows of ``df`` as a :class:`TableView`.

    Parameters
    ----------
    df
        The frame.
    max_rows
        Rows shown; the view says how many were left out.
    raw
        Show every value with ``str`` (no number formatting, nothing right-aligned).

    Returns
    -------
    TableView
        What the ``table`` macro of ``simulation_macros.html.j2`` renders.
    """
    d = df.head(max_rows)

    def cell(v: Any) -> tuple[str, bool]:
        if raw:
            return str(v), False
        num = isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
        return format_value(v), bool(num)

    rows = [[cell(v) for v in row] for row in d.itertuples(index=False)]
    return TableView([str(c) for c in d.columns], rows, len(df), len(d))


@dataclass
class RestsOnView:
    """``(key, shown value)`` rows and the unvalidated assumptions of a ``rests_on`` dict."""

    rows: list[tuple[str, str]]
    assumptions: list[str] = field(default_factory=list)


def rests_on_view(r: dict[str, Any]) -> RestsOnView:
    """What a simulation rests on, ready for the ``rests_on`` macro."""

    def show(v: Any) -> str:
        return json.dumps(v, default=str) if isinstance(v, dict | list) else str(v)

    rows = [(str(k), show(v)) for k, v in r.items() if k != "assumptions"]
    return RestsOnView(rows, [str(a) for a in r.get("assumptions") or []])
