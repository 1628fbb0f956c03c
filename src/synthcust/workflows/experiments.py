"""Experiments on (synthetic) customers: virtual A/B tests, funnels, subgroup coverage.

What ``synthcust abtest``, ``synthcust funnel`` and ``synthcust diversity`` run, callable from
the library and the service with the same defaults: inputs are files (CSV, Parquet, DuckDB,
SQL URL) or DataFrames, results are :class:`synthcust.reporting.Report` objects, and
:func:`write_outputs` writes a result's JSON and its HTML report (JSON beside it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.evaluation.diversity import CoverageReport, Panel, coverage, oversampled_panel
from synthcust.exceptions import DataError
from synthcust.io import read_table, write_table
from synthcust.io.atomic import atomic_write_text
from synthcust.reporting import Report, Section
from synthcust.reporting.diversity import DiversityReport
from synthcust.simulation.abtest import ABTestResult, run_abtest
from synthcust.simulation.choice import ChoiceModel
from synthcust.simulation.funnel import FunnelResult, fit_funnel, funnel_from_probabilities
from synthcust.synthesizers.fitted import load_model as load_synth_model

__all__ = [
    "Source",
    "abtest",
    "diversity",
    "funnel",
    "parse_assignments",
    "read_source",
    "write_outputs",
]

#: a table to read (a path or URL; ``table`` / ``query`` pick one inside a database) or a frame
Source = str | os.PathLike[str] | pd.DataFrame


def read_source(source: Source, table: str | None = None, query: str | None = None
                ) -> pd.DataFrame:  # fmt: skip
    """A DataFrame from a :data:`Source` (a frame is returned as is)."""
    if isinstance(source, pd.DataFrame):
        return source
    return read_table(source, table=table, query=query)


def parse_assignments(items: Sequence[str] | Mapping[str, str] | None, what: str,
                      example: str) -> dict[str, str]:  # fmt: skip
    """``["cart=odds*1.2", ...]`` -> ``{"cart": "odds*1.2"}`` (a mapping passes through).

    >>> parse_assignments(["cart=odds*1.2"], "--change", "STEP=odds*1.2")
    {'cart': 'odds*1.2'}
    """
    if isinstance(items, Mapping):
        return {str(k): str(v) for k, v in items.items()}
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise DataError(f"cannot read {what} {item!r}; write {example}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def write_outputs(result: Report, out: str | os.PathLike[str] | None = None,
                  report: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """Write ``result``'s JSON to ``out`` and its HTML report to ``report`` (JSON beside it).

    Parameters
    ----------
    result
        Any report.
    out
        The result JSON (optional).
    report
        The HTML page (optional); its JSON twin is ``report`` with suffix ``.json``.

    Returns
    -------
    list of (str, Path)
        What was written: ``("result", path)``, ``("report", html)``, ``("figures", json)``.
    """  # fmt: skip
    written: list[tuple[str, Path]] = []
    twin = None if report is None else Path(report).with_suffix(".json")
    if report is not None and twin == Path(report):
        raise DataError(f"the report {report} must not end in .json (the JSON twin goes beside it)")
    if out is not None and twin is not None and twin.resolve() == Path(out).resolve():
        raise DataError(f"--report {report} writes its JSON to {out}; give -o another name")
    if out is not None:
        atomic_write_text(out, json.dumps(result.to_dict(), indent=1, default=str) + "\n")
        written.append(("result", Path(out)))
    if report is not None and twin is not None:
        written.append(("report", result.write(report)))
        written.append(("figures", twin))
    return written


def abtest(
    model: ChoiceModel | str | os.PathLike[str],
    population: Source,
    variants: Sequence[str],
    *,
    focal: str | None = None,
    outside: str | None = None,
    persona: str | None = None,
    training: Source | None = None,
    tolerance: float = 0.05,
    n_draws: int = 200,
    alpha: float = 0.05,
    power: float = 0.8,
    drop_bad_prices: bool = False,
    random_state: int | None = 0,
    table: str | None = None,
) -> ABTestResult:
    """A virtual A/B(/n) test over a population (:func:`~synthcust.simulation.abtest.run_abtest`).

    Parameters
    ----------
    model
        A fitted choice model or its file (``synthcust choice fit``).
    population
        Customer occasions in the model's wide layout.
    variants
        ``NAME:CHANGES``; the first is the control.
    training
        The model's training data, for the extrapolation check's ranges when the model file
        does not record them.
    drop_bad_prices
        Drop population rows with a price <= 0 or missing (else an error).
    table
        Table name of every input inside a database.

    Returns
    -------
    ABTestResult
        Conversion, lift, power and extrapolation per variant and persona.
    """  # fmt: skip
    pop = read_source(population, table)
    train = read_source(training, table) if training is not None else None
    return run_abtest(
        model, pop, list(variants), focal=focal, outside=outside, persona=persona,
        training=train, extrapolation_tolerance=tolerance, n_draws=n_draws, alpha=alpha,
        power=power, random_state=random_state,
        bad_prices="drop" if drop_bad_prices else "error",
    )  # fmt: skip


def funnel(
    steps: str | Sequence[str],
    events: Source | None = None,
    *,
    given: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    changes: Sequence[str] | Mapping[str, str] | None = None,
    session: str = "session",
    step: str = "step",
    persona: str | None = None,
    timestamp: str | None = None,
    prior: str = "eb",
    ignore_unknown: bool = False,
    n_draws: int = 2000,
    random_state: int | None = 0,
    table: str | None = None,
) -> FunnelResult:
    """Fit a funnel (or take given probabilities) and run a what-if on its steps.

    Parameters
    ----------
    steps
        Ordered steps ``"landing,product,cart"`` or edges ``"landing>product,..."``.
    events
        Session data to fit on (one row per session x step, or per event).
    given
        Step-through probabilities instead of ``events``: a mapping or a JSON file.
    changes
        ``STEP=CHANGE`` items (``cart=odds*1.2``) or a mapping.
    ignore_unknown
        Drop events that are not funnel steps (else an error).

    Returns
    -------
    FunnelResult
        Reach, drop-off and completion per persona, before and after the changes.
    """
    if (events is None) == (given is None):
        raise DataError("give EVENTS (session data to fit on) or --given PROBS.json")
    parsed = parse_assignments(changes, "--change", "STEP=odds*1.2")
    if given is not None:
        probs = given if isinstance(given, Mapping) else _json_file(given, "probabilities")
        if not isinstance(probs, dict):
            raise DataError(f"{given} must hold a JSON object of step probabilities")
        fm = funnel_from_probabilities(probs, steps)
    else:
        assert events is not None
        src = None if isinstance(events, pd.DataFrame) else str(events)
        fm = fit_funnel(read_source(events, table), steps, session=session, step=step,
                        persona=persona, timestamp=timestamp, prior=prior,
                        unknown="ignore" if ignore_unknown else "error", source=src)  # fmt: skip
    return fm.what_if(parsed, n_draws=n_draws, random_state=random_state)


def _json_file(path: str | os.PathLike[str], what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise DataError(f"{what} file {str(path)!r} does not exist") from e
    except json.JSONDecodeError as e:
        raise DataError(
            f"{what} file {str(path)!r} is not valid JSON (line {e.lineno}: {e.msg})"
        ) from e


@dataclass
class DiversityResult(DiversityReport):
    """Subgroup coverage and, optionally, an over-sampled synthetic panel (a report).

    Parameters
    ----------
    result
        The coverage of the subgroups.
    panel
        The panel drawn with design weights (None: none asked for).
    """

    panel: Panel | None = None

    def to_dict(self) -> dict[str, Any]:
        """The coverage figures, and the panel's cells when there is one."""
        d = dict(super().to_dict())
        if self.panel is not None:
            d["panel"] = self.panel.to_dict()
        return d

    def context(self) -> dict[str, Any]:
        """The coverage section, then the panel's."""
        ctx = super().context()
        if self.panel is not None:
            ctx["sections"] = [*ctx["sections"], Section(
                "Over-sampled panel",
                method="Design weight = population share of the cell / panel share of the "
                "cell; weighted estimates return to the real population.",
                tables={"Cells": self.panel.cells.round(4)},
            )]  # fmt: skip
        return ctx


def diversity(
    real: Source,
    synth: Source,
    by: str | Sequence[str],
    *,
    max_order: int = 2,
    min_n: int = 30,
    max_rel_halfwidth: float = 0.5,
    panel_model: str | os.PathLike[str] | None = None,
    panel_size: int = 1000,
    panel_min: int | None = None,
    panel_out: str | os.PathLike[str] | None = None,
    random_state: int | None = 0,
    table: str | None = None,
) -> DiversityResult:
    """Coverage of subgroups in real vs synthetic data, optionally with an over-sampled panel.

    Parameters
    ----------
    by
        Subgroup columns (comma-separated or a list).
    panel_model
        A fitted synthcust model file: also draw a panel over-sampling the ``by`` cells by
        conditional sampling, with design weights, written to ``panel_out``.
    panel_min
        Rows per cell at least (default ``min_n``).

    Returns
    -------
    DiversityResult
        The coverage (and the panel), a report.
    """
    real_df = read_source(real, table)
    cov: CoverageReport = coverage(real_df, read_source(synth, table), by, max_order=max_order,
                                   min_n=min_n, max_rel_halfwidth=max_rel_halfwidth)  # fmt: skip
    panel = None
    if panel_model is not None:
        if panel_out is None:
            raise DataError("--panel-model needs --panel-out FILE for the panel")
        cols = [c.strip() for c in by.split(",") if c.strip()] if isinstance(by, str) else list(by)
        panel = oversampled_panel(load_synth_model(panel_model), panel_size, cols,
                                  population=real_df, min_per_group=panel_min or min_n,
                                  random_state=random_state)  # fmt: skip
        write_table(panel.frame, panel_out)
    return DiversityResult(cov, panel)
