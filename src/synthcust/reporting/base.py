"""One interface for every synthcust report: ``to_dict()``, ``to_html()``, ``write(path)``.

How to write a new report
-------------------------
A report holds its data; :class:`Report` turns it into a self-contained HTML page (inline CSS
and SVG, no network) and a JSON twin. A report supplies three things:

1. ``to_dict()``: every figure, JSON-safe (numbers, strings, lists, dicts; ``NaN`` -> ``None``;
   :func:`json_safe` converts NumPy, pandas and NaN for you).
2. ``title`` (a class attribute or a property) and ``template`` (a template name in
   ``synthcust/reporting/templates/``; default ``"sections.html.j2"``, the generic page).
3. ``context()``: the template variables. With the generic template return
   ``{"sections": [Section(...), ...]}`` (and optionally ``cards`` = headline metrics,
   ``skipped`` = what was not measured and why, ``lead`` = an opening paragraph,
   ``subtitle``, ``notes`` = "how it was measured" lines shown in the footer).

::

    from dataclasses import dataclass
    from synthcust.reporting import Report, Section, plots

    @dataclass
    class FunnelReport(Report):
        title = "synthcust funnel report"
        steps: pd.DataFrame

        def to_dict(self):
            return json_safe({"steps": self.steps})

        def context(self):
            return {"sections": [Section("Steps", tables={"steps": self.steps},
                                         figures=[self.plot_svg()])],
                    "notes": ["Conversion = users at step k / users at step k-1."]}

    FunnelReport(df).write("funnel.html")   # funnel.html + funnel.json, both atomic

A report with its own layout writes a template that extends ``base.html.j2`` and fills the
``content`` block, with the shared macros of ``macros.html.j2`` (always there as ``m``: table,
records, metric_rows, cards, badge, figures, bullets, skipped, rests_on, section)::

    {% extends "base.html.j2" %}
    {% block content %}{{ m.table(steps) }}{{ m.figures([svg]) }}{% endblock %}

``report.body_html()`` renders the ``content`` block alone (a fragment for another page).

Autoescaping is on: every value is HTML-escaped unless it is marked safe. Only SVG made by
:mod:`synthcust.reporting.plots` is marked safe (``m.figures`` / ``|safe``); never mark text
that comes from data (column names, categories, LLM output) safe. Plots: ``plots.pyplot()``
gives matplotlib's pyplot (lazily, Agg backend), ``plots.svg(fig)`` turns a figure into an
inline SVG string and closes it.

Python callers that still assemble a fragment by hand can use :func:`html_table`,
:func:`metric_rows_html` and :func:`escape`, which render the same macros.
"""

from __future__ import annotations

import html as _html
import json
import os
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from markupsafe import Markup

from synthcust.evaluation.results import jsonable
from synthcust.io.atomic import atomic_write_text

__all__ = [
    "Report",
    "Section",
    "environment",
    "escape",
    "fmt",
    "html_table",
    "json_safe",
    "metric_rows_html",
    "render",
    "rests_on_html",
    "stylesheet",
]


def fmt(v: Any, digits: int = 3) -> str:
    """A number as every report shows it: ``digits`` decimals, thousands with separators, ``-``
    for None.

    >>> fmt(0.12345), fmt(0.12345, 4), fmt(12345.6), fmt(None), fmt("a")
    ('0.123', '0.1235', '12,346', '-', 'a')
    """
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def escape(x: Any) -> str:
    """``str(x)`` HTML-escaped (quotes too), for fragments built outside a template."""
    return _html.escape(str(x))


def json_safe(obj: Any) -> Any:
    """``obj`` with NumPy scalars/arrays, pandas frames/series and NaN made JSON-safe.

    >>> import numpy as np
    >>> json_safe({"a": np.float64("nan"), "b": np.arange(2)})
    {'a': None, 'b': [0, 1]}
    """
    return jsonable(obj)


def _show(v: Any) -> str:
    return json.dumps(v, default=str) if isinstance(v, dict | list) else str(v)


def _is_numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@cache
def stylesheet() -> str:
    """The one stylesheet (``reporting/static/report.css``) every page inlines."""
    return resources.files("synthcust.reporting").joinpath("static/report.css").read_text("utf-8")


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of every report (package templates, autoescape on)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("synthcust", "reporting/templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = fmt
    env.filters["show"] = _show
    env.tests["numeric"] = _is_numeric
    env.globals["css"] = Markup(stylesheet())
    # the shared macros as the global ``m`` (so blocks rendered alone, see body_html, have them)
    env.globals["m"] = env.get_template("macros.html.j2").make_module({})
    return env


#: What a page may leave out of its context (anything else a template uses must be given:
#: undefined names are errors, not silent blanks).
_DEFAULTS: dict[str, Any] = {
    "subtitle": "",
    "notes": list,
    "json_name": None,
    "lead": "",
    "cards": list,
    "sections": list,
    "skipped": list,
}


def render(template_name: str, /, **context: Any) -> str:
    """Render one template of ``synthcust/reporting/templates`` with ``context``.

    Page templates extending ``base.html.j2`` expect ``title``; ``subtitle``, ``notes``,
    ``json_name``, ``lead``, ``cards``, ``sections`` and ``skipped`` default to empty. Any other
    name a template uses must be given (``StrictUndefined``).
    """
    for key, empty in _DEFAULTS.items():
        context.setdefault(key, empty() if callable(empty) else empty)
    return environment().get_template(template_name).render(**context)


def _macros() -> Any:
    return environment().globals["m"]


def html_table(df: Any, max_rows: int = 60, digits: int = 3) -> str:
    """A DataFrame as an escaped HTML table (the ``table`` macro), first ``max_rows`` rows,
    floats to ``digits`` decimals."""
    return str(_macros().table(df, max_rows, digits))


def metric_rows_html(metrics: list[Any]) -> str:
    """Metrics (label, value, reference, threshold, status, method, note) as an HTML table."""
    return str(_macros().metric_rows(metrics))


def rests_on_html(r: dict[str, Any]) -> str:
    """ "What this rests on" (a dict; its ``assumptions`` listed as unvalidated) as HTML."""
    return str(_macros().rests_on(r))


#: The markers base.html.j2 puts around the content block (see Report.body_html).
_CONTENT_START, _CONTENT_END = "<!--content-->", "<!--/content-->"


@dataclass
class Section:
    """One section of the generic page (``sections.html.j2``).

    Parameters
    ----------
    title : str
        The heading.
    intro : str
        A paragraph under the heading.
    method : str
        How the section's figures were measured (small print).
    verdict : str
        One bold sentence (the conclusion), shown before the figures.
    metrics : list
        Objects with ``label, value, reference, threshold, status, method, note`` (e.g.
        :class:`synthcust.evaluation.results.Metric`), shown as a table.
    figures : list of str
        SVG strings from :mod:`synthcust.reporting.plots` (trusted markup; never data text).
    tables : dict of str to DataFrame
        Shown open, each under its name.
    details : dict of str to DataFrame
        Shown collapsed ("Table: name").
    bullets : list of str
        A plain list.
    skipped : list of str
        What the section did not measure, and why.
    subsections : list of Section
        Rendered after the tables, one heading level down.
    rests_on : dict
        "What this rests on" (data, model, method; ``assumptions``: unvalidated ones).
    id : str, optional
        The HTML anchor.
    max_rows : int
        Rows shown per table.
    digits : int
        Decimals of the floats in the tables.
    """

    title: str
    intro: str = ""
    method: str = ""
    verdict: str = ""
    metrics: list[Any] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    bullets: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)
    rests_on: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    max_rows: int = 60
    digits: int = 3


class Report:
    """Base of every report: a subclass supplies ``to_dict()``, ``title``, ``context()``.

    ``template`` names the page template (default: the generic ``sections.html.j2``).
    ``to_html()`` renders it; ``write(path)`` writes the HTML and a ``.json`` beside it, both
    atomically. Works as a mixin of dataclasses (it declares no fields).
    """

    template: ClassVar[str] = "sections.html.j2"
    title: Any = "synthcust report"

    def to_dict(self) -> dict[str, Any]:
        """Every figure of the report, JSON-safe."""
        raise NotImplementedError(f"{type(self).__name__} must define to_dict()")

    def context(self) -> dict[str, Any]:
        """The template variables (see the module docstring)."""
        return {}

    def to_json(self) -> str:
        """``to_dict()`` as indented JSON text (NaN and NumPy values made JSON-safe)."""
        return json.dumps(json_safe(self.to_dict()), indent=1, default=str) + "\n"

    def to_html(self, json_name: str | None = None) -> str:
        """The report as one self-contained HTML page.

        Parameters
        ----------
        json_name : str, optional
            The JSON twin's file name, cited at the foot of the page.
        """
        return render(self.template, **self._context(json_name))

    def body_html(self) -> str:
        """Only the page's ``content`` block (no head, header or footer): a fragment to put
        inside another page."""
        page = self.to_html()
        start = page.index(_CONTENT_START) + len(_CONTENT_START)
        return page[start : page.index(_CONTENT_END, start)]

    def _context(self, json_name: str | None) -> dict[str, Any]:
        ctx: dict[str, Any] = {k: v() if callable(v) else v for k, v in _DEFAULTS.items()}
        ctx.update(self.context())
        ctx.setdefault("title", self.title)
        ctx["json_name"] = json_name
        ctx["report"] = self
        return ctx

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the HTML page to ``path`` and the JSON to ``path`` with suffix ``.json``.

        Returns
        -------
        Path
            The HTML file's path (the JSON is ``path.with_suffix(".json")``).
        """
        p = Path(path)
        json_path = p.with_suffix(".json")
        atomic_write_text(json_path, self.to_json())
        atomic_write_text(p, self.to_html(json_path.name))
        return p
