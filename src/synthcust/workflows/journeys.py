"""Journeys and attribution as every face runs them: simulate, fit, generate, attribute, score.

What ``synthcust journeys ...`` and ``synthcust attribution ...`` run: simulate journeys of a
scenario with their ground truth, fit the variable-order Markov journey model on real paths and
generate synthetic ones, credit channels with the attribution models, and score the models
against the simulator's truth (the attribution lab).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.exceptions import DataError
from synthcust.io import write_table
from synthcust.io.atomic import atomic_write_text
from synthcust.simulation.attribution import (
    DEFAULT_MODELS,
    AttributionResult,
    attribute,
    from_log,
)
from synthcust.simulation.attribution_lab import LAB_MODELS, LabResult, evaluate
from synthcust.simulation.journey_model import JourneyMarkovModel, fidelity
from synthcust.simulation.journeys import (
    JourneySimulation,
    Scenario,
    get_scenario,
    simulate,
)
from synthcust.workflows.experiments import Source, read_source

__all__ = [
    "JourneyRun",
    "attribution_lab",
    "fit_journey_model",
    "generate_journeys",
    "load_scenario",
    "run_attribution",
    "simulate_journeys",
    "split_names",
]


def split_names(text: str | Sequence[str] | None) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]`` (None stays None; an empty list is refused).

    >>> split_names("last_touch, markov_2")
    ['last_touch', 'markov_2']
    """
    if text is None:
        return None
    items = ([x.strip() for x in text.split(",") if x.strip()] if isinstance(text, str)
             else [str(x) for x in text])  # fmt: skip
    if not items:
        raise DataError(f"empty list {text!r}; write comma-separated names")
    return items


def load_scenario(arg: str | Scenario) -> Scenario:
    """A scenario by name, or from a JSON file of its parameters (``scenarios --show``)."""
    if isinstance(arg, str) and arg.lower().endswith(".json"):
        try:
            obj = json.loads(Path(arg).read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise DataError(f"scenario file {arg!r} does not exist") from e
        except json.JSONDecodeError as e:
            raise DataError(
                f"scenario file {arg!r} is not valid JSON (line {e.lineno}: {e.msg})"
            ) from e
        return Scenario.from_dict(obj)
    return get_scenario(arg)


def _write_json(path: str | os.PathLike[str], obj: dict[str, Any]) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=1, default=str))


@dataclass
class JourneyRun:
    """Simulated journeys, the table written and where it and the ground truth went."""

    simulation: JourneySimulation
    frame: pd.DataFrame
    path: Path
    truth_path: Path


def simulate_journeys(
    scenario: str | Scenario,
    users: int,
    out: str | os.PathLike[str],
    *,
    random_state: int | None = None,
    paths: bool = False,
    truth: str | os.PathLike[str] | None = None,
) -> JourneyRun:
    """Simulate ``users`` journeys of a scenario; write them and their ground truth.

    Parameters
    ----------
    scenario
        A scenario name, a JSON file of parameters or a :class:`Scenario`.
    out
        The touch log (or, with ``paths``, the aggregated path table) to write.
    truth
        Ground-truth JSON (default: ``out`` with ``.truth.json``).

    Returns
    -------
    JourneyRun
        The simulation, the table written and both paths.
    """
    sc = load_scenario(scenario)
    sim = simulate(sc, users, random_state=random_state)
    df = sim.path_table() if paths else sim.touches
    p = write_table(df, out)
    tp = Path(truth) if truth is not None else p.with_name(p.name.split(".")[0] + ".truth.json")
    _write_json(tp, {"scenario": sim.scenario.to_dict(), "seed": random_state,
                     **sim.truth.to_dict()})  # fmt: skip
    return JourneyRun(sim, df, p, tp)


def fit_journey_model(
    data: Source,
    out: str | os.PathLike[str] | None = None,
    *,
    order: int | None = None,
    max_order: int = 6,
    random_state: int | None = 0,
    table: str | None = None,
) -> JourneyMarkovModel:
    """Fit the variable-order Markov journey model on real paths (and save it to ``out``).

    Returns
    -------
    JourneyMarkovModel
        The fitted model.
    """
    m = JourneyMarkovModel(order=order, max_order=max_order, random_state=random_state)
    m.fit(read_source(data, table))
    if out is not None:
        m.save(out)
    return m


def generate_journeys(
    model: JourneyMarkovModel | str | os.PathLike[str],
    n: int,
    out: str | os.PathLike[str] | None = None,
    *,
    random_state: int | None = None,
    compare: Source | None = None,
) -> tuple[pd.DataFrame, Path | None, dict[str, Any] | None]:
    """Generate ``n`` synthetic journeys (a path table) from a fitted journey model.

    Returns
    -------
    tuple
        The path table, where it was written (None: not written) and, with ``compare`` (a
        real path table), the fidelity figures against it.
    """
    m = model if isinstance(model, JourneyMarkovModel) else JourneyMarkovModel.load(model)
    syn = m.sample(n, random_state=random_state)
    p = write_table(syn, out) if out is not None else None
    f = fidelity(read_source(compare), syn) if compare is not None else None
    return syn, p, f


def run_attribution(
    data: Source,
    *,
    models: str | Sequence[str] | None = None,
    channels: str | Sequence[str] | None = None,
    sort: bool = False,
    baseline_rate: float = 0.0,
    out: str | os.PathLike[str] | None = None,
    table: str | None = None,
    query: str | None = None,
) -> AttributionResult:
    """Credit channels with attribution models on a touch log or a path table.

    Parameters
    ----------
    models
        Model names (default: all of :data:`~synthcust.simulation.attribution.DEFAULT_MODELS`).
    channels
        Declared channels; others are errors.
    sort
        Sort a touch log by time within each user.
    out
        Write the credits (CSV/Parquet; ``.json`` also holds the notes).

    Returns
    -------
    AttributionResult
        Credits per channel and model, and notes.
    """
    df = read_source(data, table, query)
    ch = split_names(channels)
    d = from_log(df, channels=ch, sort=True) if sort else df
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = attribute(d, split_names(models) or DEFAULT_MODELS, channels=ch,
                        baseline_rate=baseline_rate)  # fmt: skip
    if out is not None:
        if Path(out).suffix == ".json":
            _write_json(out, {"credits": res.credits.to_dict(), "notes": res.notes})
        else:
            write_table(res.credits.reset_index(), out)
    return res


def attribution_lab(
    scenarios: str | Sequence[str | Scenario] | None = None,
    *,
    seeds: int = 5,
    users: int = 50_000,
    models: str | Sequence[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LabResult:
    """Score the attribution models against the simulator's truth (the attribution lab).

    Parameters
    ----------
    scenarios
        Scenario names or JSON files (default: all named scenarios).
    report
        HTML report to write (JSON beside it).
    progress
        Called with (runs done, runs in all).

    Returns
    -------
    LabResult
        Scores per scenario, model and seed; a report.
    """
    names = split_names(scenarios) if isinstance(scenarios, str) else scenarios
    scen = [load_scenario(s) for s in names] if names else None
    lab = evaluate(scen, seeds=seeds, n_users=users, models=split_names(models) or LAB_MODELS,
                   progress=progress)  # fmt: skip
    if report is not None:
        lab.write(report)
    return lab
