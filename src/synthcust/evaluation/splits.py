"""The one train/holdout split every figure in synthcust uses (docs/methods/metrics.md#splits)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError


def train_holdout_split(
    df: pd.DataFrame,
    target: str | None = None,
    holdout: float = 0.2,
    random_state: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into train (80%) and holdout (20%), stratified by ``target`` if given.

    Within each class the rows are shuffled and the first ``round(holdout * size)`` go to the
    holdout, so class shares agree to within one row per class.
    """
    if not 0 < holdout < 1:
        raise DataError(f"holdout must be between 0 and 1, got {holdout}")
    if len(df) < 2:
        raise DataError("need at least 2 rows to split into train and holdout")
    rng = np.random.default_rng(random_state)
    if target is None:
        groups = np.zeros(len(df), dtype=np.int64)
    else:
        if target not in df.columns:
            raise DataError(f"target column {target!r} is not in the data")
        groups = pd.factorize(df[target], use_na_sentinel=False)[0]
    order = rng.permutation(len(df))
    g = groups[order]
    # stable sort by group keeps the random order within each group
    order = order[np.argsort(g, kind="stable")]
    g = groups[order]
    counts = np.bincount(g)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(df)) - starts[g]
    k = np.round(counts * holdout).astype(int)
    is_hold = rank < k[g]
    hold_idx = np.sort(order[is_hold])
    train_idx = np.sort(order[~is_hold])
    return df.iloc[train_idx].reset_index(drop=True), df.iloc[hold_idx].reset_index(drop=True)
