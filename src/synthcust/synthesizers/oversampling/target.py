"""Class labels for oversampling: validation and the row counts each class should reach."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError

__all__ = ["MAX_CLASSES", "check_target", "target_counts"]

#: Most distinct whole-number values a numeric target may have to count as class labels.
MAX_CLASSES = 20


def check_target(y: Any, name: str = "target") -> pd.Series:
    """Validate class labels ``y``: no missing value, at least two classes, not continuous.

    Returns ``y`` as a Series with a fresh ``RangeIndex``.

    Examples
    --------
    >>> check_target(pd.Series(["a", "b", "a"])).tolist()
    ['a', 'b', 'a']
    >>> check_target(pd.Series([0.1, 0.25, 0.3]))
    Traceback (most recent call last):
    ...
    synthcust.exceptions.DataError: target 'target' looks continuous ...
    """
    y = pd.Series(y).reset_index(drop=True)
    if isinstance(y.dtype, pd.CategoricalDtype):  # a declared but absent class is not a class
        y = y.cat.remove_unused_categories()
    label = str(y.name) if y.name is not None else name
    if len(y) == 0:
        raise DataError(f"target {label!r} is empty; there is nothing to rebalance")
    n_missing = int(y.isna().sum())
    if n_missing:
        raise DataError(
            f"target {label!r} is missing in {n_missing:,} row(s); drop those rows or fill them "
            "with a class before rebalancing"
        )
    if pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
        v = y.to_numpy(dtype=float)
        n_unique = len(np.unique(v))
        if not np.all(v == np.round(v)) or n_unique > MAX_CLASSES:
            raise DataError(
                f"target {label!r} looks continuous ({n_unique:,} distinct numeric values"
                + ("" if np.all(v == np.round(v)) else ", not whole numbers")
                + "); oversampling needs class labels. Bin it into classes first "
                "(e.g. pandas.qcut) or pick a class column"
            )
    if pd.api.types.is_datetime64_any_dtype(y.dtype):
        raise DataError(f"target {label!r} holds dates; oversampling needs class labels")
    counts = y.value_counts()
    if len(counts) < 2:
        raise DataError(
            f"target {label!r} has a single class ({counts.index[0]!r}, {int(counts.iloc[0]):,} "
            "rows); there is no minority class to raise"
        )
    return y


def target_counts(y: pd.Series, sampling_strategy: float | Mapping[Any, int]) -> dict[Any, int]:
    """Rows each class should have after oversampling.

    ``sampling_strategy`` as a number is the ratio minority / majority wanted afterwards
    (``1.0`` = balanced): every class with fewer than ``ceil(ratio * n_majority)`` rows is raised
    to that count, the others are left alone. As a mapping it gives the count per class (classes
    not named are left alone; a count may not be below the current one).

    Raises
    ------
    DataError
        If the ratio is not in (0, 1] or no class is below it (nothing to do).

    Examples
    --------
    >>> target_counts(pd.Series(["a"] * 8 + ["b"] * 2), 0.5)
    {'a': 8, 'b': 4}
    """
    counts = y.value_counts()
    if isinstance(sampling_strategy, Mapping):
        out = {k: int(v) for k, v in counts.items()}
        for cls, n in sampling_strategy.items():
            if cls not in out:
                raise DataError(
                    f"class {cls!r} in sampling_strategy is not in the target; classes: "
                    f"{sorted(map(str, out))}"
                )
            if isinstance(n, bool) or not float(n).is_integer() or n < out[cls]:
                raise DataError(
                    f"sampling_strategy[{cls!r}] = {n!r}: give a whole number of rows >= the "
                    f"current {out[cls]:,} (oversampling only adds rows)"
                )
            out[cls] = int(n)
        return out
    ratio = sampling_strategy
    if isinstance(ratio, bool) or not isinstance(ratio, int | float | np.number):
        raise DataError(f"ratio must be a number in (0, 1] or a dict of counts, got {ratio!r}")
    ratio = float(ratio)
    if not 0 < ratio <= 1:
        raise DataError(
            f"ratio must be in (0, 1] (minority / majority after resampling; 1.0 = balanced), "
            f"got {ratio:g}"
        )
    n_major = int(counts.max())
    want = math.ceil(ratio * n_major - 1e-9)
    current = float(counts.min()) / n_major
    if not (counts < want).any():
        smallest = counts.idxmin()
        raise DataError(
            f"ratio {ratio:g} is not above the current ratio: the smallest class {smallest!r} "
            f"already has {int(counts.min()):,} rows vs {n_major:,} in the largest "
            f"({current:.3f}); ask for a ratio above {current:.3f} (1.0 = balanced)"
        )
    return {k: max(int(v), want) for k, v in counts.items()}
