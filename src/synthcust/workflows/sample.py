"""The sample workflow: conditions, segments, an optional privacy gate, partitioned output.

>>> from synthcust.demo.world import simulate_customers
>>> from synthcust.workflows.fit import fit
>>> model = fit(simulate_customers(300, random_state=0), synthesizer="copula").model
>>> df = sample(model, 50, conditions=["age>=40"], random_state=1)
>>> len(df), bool((df["age"] >= 40).all())
(50, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.evaluation.privacy import (
    GateDecision,
    GateThresholds,
    evaluate_privacy,
    privacy_gate,
)
from synthcust.exceptions import SynthcustError
from synthcust.io import write_table
from synthcust.rules.conditions import parse_condition_text
from synthcust.rules.segments import Segment
from synthcust.scale import sample_partitioned
from synthcust.synthesizers.fitted import SynthModel, load_model
from synthcust.workflows.defaults import GATE

__all__ = ["check_gate", "parse_conditions", "sample", "sample_on_dask", "write"]


def parse_conditions(conditions: Mapping[str, Any] | Iterable[str] | None) -> dict[str, Any]:
    """Conditions as a mapping: ``["age>=40", "plan=pro|team"]`` or ``{"plan": "pro"}``.

    Examples
    --------
    >>> parse_conditions(["plan=pro"])
    {'plan': 'pro'}
    """
    if conditions is None:
        return {}
    if isinstance(conditions, Mapping):
        return dict(conditions)
    return dict(parse_condition_text(c) for c in conditions)


def _as_model(model: SynthModel | str | os.PathLike) -> SynthModel:
    return model if isinstance(model, SynthModel) else load_model(model)


def sample(
    model: SynthModel | str | os.PathLike,
    n: int,
    *,
    conditions: Mapping[str, Any] | Iterable[str] | None = None,
    segment: str | Segment | None = None,
    where: str | None = None,
    random_state: int | None = None,
    gate: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    thresholds: GateThresholds = GATE,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Draw ``n`` synthetic customers from a fitted model (or a model file).

    Parameters
    ----------
    model : SynthModel or path
        A fitted model, or a file written by ``fit``.
    n : int
        Number of rows (positive).
    conditions : mapping or list of str, optional
        ``{"plan": "pro"}`` or texts ``col=value``, ``col=a|b``, ``col=low..high``, ``col>=x``.
    segment : str or Segment, optional
        A segment defined at fit time.
    where : str, optional
        An ad-hoc segment rule, e.g. ``"age < 30"`` (not with ``segment``).
    random_state : int, optional
        Same seed, same rows.
    gate : (real, holdout), optional
        Check the rows against the privacy gate first (see :func:`check_gate`); raises
        :class:`~synthcust.exceptions.SynthcustError` when they fail it.
    thresholds : GateThresholds
        The gate's bars.
    progress : callable, optional
        ``progress(message)`` at each step, and with the status of long sampling (rows drawn,
        seconds) where the model reports it.

    Returns
    -------
    pandas.DataFrame
    """
    say = progress or (lambda _msg: None)
    if n <= 0:
        raise SynthcustError(f"-n must be a positive number of rows, got {n}")
    if where and segment:
        raise SynthcustError("give either --segment or --where, not both")
    conds = parse_conditions(conditions)
    m = _as_model(model)
    say(f"sampling {n:,} rows")
    seg = Segment.parse("where", where) if where else segment
    df = m.sample(n, conditions=conds, segment=seg, random_state=random_state, progress=progress)
    if gate is not None:
        say("checking the privacy gate")
        decision = check_gate(m, df, gate[0], gate[1], thresholds)
        if not decision.passed:
            raise SynthcustError(
                "privacy gate failed, nothing written: " + "; ".join(decision.reasons)
            )
    return df


def check_gate(
    model: SynthModel,
    synthetic: pd.DataFrame,
    real: pd.DataFrame,
    holdout: pd.DataFrame,
    thresholds: GateThresholds = GATE,
) -> GateDecision:
    """The privacy gate on the columns the model learned from the real data.

    Parameters
    ----------
    model : SynthModel
        The model ``synthetic`` was drawn from.
    synthetic, real, holdout : pandas.DataFrame
        Its rows, the real rows it learned, and real rows it never saw.
    thresholds : GateThresholds
        The bars.

    Returns
    -------
    GateDecision
    """
    cols = [c for c in model.learned_columns if c in real.columns and c in holdout.columns]
    res = evaluate_privacy(real[cols], synthetic[cols], holdout[cols], thresholds=thresholds)
    return privacy_gate(res, thresholds)


def write(
    df: pd.DataFrame, out: str | os.PathLike, *, table: str = "synthetic", raw_csv: bool = False
) -> Path:
    """Write synthetic rows (CSV, Parquet or DuckDB by the extension), atomically.

    CSV/TSV cells that a spreadsheet would run as a formula get a ``'`` in front unless
    ``raw_csv`` (:func:`synthcust.io.neutralise_formulas`).
    """
    is_db = str(out).endswith((".duckdb", ".ddb"))
    write_table(df, out, table=table if is_db else None, raw_csv=raw_csv)
    return Path(out)


def sample_on_dask(
    model: SynthModel | str | os.PathLike,
    n: int,
    out: str | os.PathLike,
    *,
    conditions: Mapping[str, Any] | Iterable[str] | None = None,
    random_state: int | None = None,
    scheduler: str = "local",
    workers: int = 2,
    partition_rows: int = 1_000_000,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Sample ``n`` rows in partitions on Dask into a folder of Parquet files.

    Returns
    -------
    synthcust.scale.PartitionedResult
    """
    if n <= 0:
        raise SynthcustError(f"-n must be a positive number of rows, got {n}")
    model_arg = model if isinstance(model, SynthModel) else str(model)
    return sample_partitioned(
        model_arg, n, out, scheduler=scheduler, workers=workers,
        partition_rows=partition_rows, seed=0 if random_state is None else random_state,
        conditions=parse_conditions(conditions) or None, progress=progress, overwrite=True,
    )  # fmt: skip
