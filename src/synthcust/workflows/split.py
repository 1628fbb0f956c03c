"""The train/holdout split every figure uses (docs: "Splits" in the metric definitions).

Real data is split once into train (80%) and holdout (20%), stratified by the target when there
is one, ``random_state=0``; synthesizers see train only, and every figure is measured against
the real holdout.

>>> import pandas as pd
>>> df = pd.DataFrame({"x": range(100), "y": [0, 1] * 50})
>>> train, holdout = split(df, target="y")
>>> len(train), len(holdout), int(holdout["y"].sum())
(80, 20, 10)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from synthcust.evaluation.splits import train_holdout_split
from synthcust.exceptions import SynthcustError
from synthcust.io import write_table
from synthcust.workflows.defaults import HOLDOUT, SPLIT_SEED

__all__ = ["SplitResult", "split", "write_split"]


@dataclass(frozen=True)
class SplitResult:
    """Where a split was written and how many rows went each way."""

    train_path: Path
    holdout_path: Path
    train_rows: int
    holdout_rows: int
    target: str | None


def split(
    data: pd.DataFrame,
    *,
    target: str | None = None,
    holdout: float = HOLDOUT,
    random_state: int = SPLIT_SEED,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``data`` into real train and real holdout rows.

    Parameters
    ----------
    data : pandas.DataFrame
        The real table.
    target : str, optional
        Stratify on this column (class shares agree to within one row per class).
    holdout : float
        Share of rows held out (0.2).
    random_state : int
        Seed of the shuffle (0, as the benchmarks use).

    Returns
    -------
    (train, holdout) : tuple of pandas.DataFrame
        Both with a fresh index, rows in their original order.
    """
    if target is not None and target not in data.columns:
        raise SynthcustError(
            f"target column {target!r} is not in the data; columns: {list(data.columns)}"
        )
    return train_holdout_split(data, target=target, holdout=holdout, random_state=random_state)


def write_split(
    data: pd.DataFrame,
    out_train: str | os.PathLike,
    out_holdout: str | os.PathLike,
    *,
    target: str | None = None,
    holdout: float = HOLDOUT,
    random_state: int = SPLIT_SEED,
) -> SplitResult:
    """Split ``data`` (see :func:`split`) and write both parts, each atomically.

    The output format follows each file's extension (``.csv``, ``.csv.gz``, ``.parquet``,
    ``.duckdb``).

    Returns
    -------
    SplitResult
    """
    if Path(out_train).resolve() == Path(out_holdout).resolve():
        raise SynthcustError("the train and holdout outputs must be different files")
    train, hold = split(data, target=target, holdout=holdout, random_state=random_state)
    for df, path in ((train, out_train), (hold, out_holdout)):
        is_db = str(path).endswith((".duckdb", ".ddb"))
        write_table(df, path, table=("train" if df is train else "holdout") if is_db else None)
    return SplitResult(Path(out_train), Path(out_holdout), len(train), len(hold), target)
