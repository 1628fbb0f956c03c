"""How oversampling treats each column (numeric, categorical, id) and encodes a table for it.

:func:`layout` sorts the feature columns by kind (ids are not features; free text is refused),
:class:`Encoder` standardises numbers and codes categories (missing values as indicators) and
decodes new rows back to the input's dtypes; :func:`numeric_back` and :func:`values_back` map
generated values into the observed range and the seen set.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Kind

__all__ = [
    "Encoder",
    "Layout",
    "as_float",
    "draw_seed",
    "layout",
    "new_ids",
    "numeric_back",
    "values_back",
]


@dataclass
class Layout:
    """How each feature column is treated (see the module docstring)."""

    numeric: list[str] = field(default_factory=list)  # numeric dtype and datetimes
    categorical: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    datetime: list[str] = field(default_factory=list)


def layout(X: pd.DataFrame, categorical: Sequence[str] | None) -> Layout:
    forced = set(categorical or [])
    unknown = sorted(map(str, forced - set(X.columns)))
    if unknown:
        raise DataError(f"categorical columns {unknown} are not in the data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = infer_schema(X, detect_pii=False)
    text = [c.name for c in schema.columns if c.kind == Kind.TEXT and c.name not in forced]
    if text:
        raise DataError(
            f"free-text column(s) {text} cannot be oversampled (SMOTE cannot interpolate prose "
            "and a category model of unique sentences only copies them); drop them first "
            "(df.drop(columns=[...]) or --drop COL), or pass them as categorical= if they are "
            "really labels"
        )
    lay = Layout()
    kinds = {c.name: c.kind for c in schema.columns}
    for c in X.columns:
        s, kind = X[c], kinds[str(c)]
        if c in forced:
            lay.categorical.append(c)
        elif kind == Kind.ID:
            lay.ids.append(c)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            lay.numeric.append(c)
            lay.datetime.append(c)
        elif (
            pd.api.types.is_numeric_dtype(s.dtype)
            and not pd.api.types.is_bool_dtype(s.dtype)
            and kind == Kind.NUMERIC
        ):
            lay.numeric.append(c)
        else:  # text labels, booleans (and 0/1), categories, constants
            lay.categorical.append(c)
    if not lay.numeric and not lay.categorical:
        raise DataError("no feature columns to oversample (only id columns besides the target)")
    return lay


def as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        epoch = pd.Timestamp(0, tz=getattr(s.dt, "tz", None))
        return ((s - epoch) / pd.Timedelta(1, "s")).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def numeric_back(v: np.ndarray, like: pd.Series) -> pd.Series:
    """Floats -> a Series with ``like``'s dtype: clipped to its range, whole if it is whole."""
    known = as_float(like)
    ok = ~np.isnan(known)
    v = v.copy()
    if ok.any():
        lo, hi = known[ok].min(), known[ok].max()
        np.clip(v, lo, hi, out=v)  # NaN stays NaN
        if np.all(known[ok] == np.round(known[ok])):
            v = np.round(v)
    if pd.api.types.is_datetime64_any_dtype(like.dtype):
        epoch = pd.Timestamp(0, tz=getattr(like.dt, "tz", None))
        return pd.Series(epoch + pd.to_timedelta(v, unit="s")).astype(like.dtype)
    if np.isnan(v).any() and like.dtype.kind in "iub":
        return pd.Series(v).astype("Int64" if like.dtype.kind != "b" else "boolean")
    return pd.Series(v).astype(like.dtype)


def values_back(values: np.ndarray, like: pd.Series) -> pd.Series:
    """Seen values (object array, NaN/None for missing) -> Series with ``like``'s dtype."""
    if isinstance(like.dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical(values, dtype=like.dtype))
    s = pd.Series(values, dtype=object)
    try:
        return s.astype(like.dtype)
    except (TypeError, ValueError):  # e.g. missing in a bool column: keep a nullable dtype
        return s.convert_dtypes()


def new_ids(like: pd.Series, n: int) -> pd.Series:
    """``n`` ids that clash with none in ``like`` (numbers after the max, else text)."""
    if pd.api.types.is_numeric_dtype(like.dtype) and not pd.api.types.is_bool_dtype(like.dtype):
        top = np.nanmax(as_float(like)) if like.notna().any() else 0
        return pd.Series(np.arange(1, n + 1) + math.floor(top)).astype(like.dtype)
    seen = set(like.dropna().astype(str))
    prefix = "synthetic-"
    while any(str(v).startswith(prefix) for v in seen):
        prefix = "_" + prefix
    vals = np.array([f"{prefix}{i}" for i in range(1, n + 1)], dtype=object)
    return values_back(vals, like)


class Encoder:
    """Features <-> a float matrix for imbalanced-learn (numbers standardised, category codes)."""

    def __init__(self, X: pd.DataFrame, lay: Layout):
        self.X, self.lay = X, lay
        num = np.column_stack([as_float(X[c]) for c in lay.numeric]) if lay.numeric else None
        self.miss_cols: list[str] = []
        cats: list[np.ndarray] = []
        self.uniques: list[np.ndarray] = []
        if num is not None:
            miss = np.isnan(num)
            allgone = miss.all(axis=0)  # an all-missing column: median 0 (never used)
            self.median = np.zeros(num.shape[1])
            if (~allgone).any():
                self.median[~allgone] = np.nanmedian(num[:, ~allgone], axis=0)
            filled = np.where(miss, self.median, num)
            self.mean = filled.mean(axis=0)
            sd = filled.std(axis=0)
            self.sd = np.where(sd > 0, sd, 1.0)
            self.Z = (filled - self.mean) / self.sd
            for j in np.flatnonzero(miss.any(axis=0)):  # missing indicator: a categorical
                self.miss_cols.append(lay.numeric[j])
                cats.append(miss[:, j].astype(np.int64))
                self.uniques.append(np.array([False, True], dtype=object))
        else:
            self.Z = np.empty((len(X), 0))
        for c in lay.categorical:
            codes, uniq = pd.factorize(X[c].astype(object), use_na_sentinel=False)
            cats.append(codes.astype(np.int64))
            self.uniques.append(np.asarray(uniq, dtype=object))
        self.C = np.column_stack(cats) if cats else np.empty((len(X), 0), dtype=np.int64)

    def one_hot(self, scale: float) -> tuple[np.ndarray, list[slice]]:
        """``[Z, one-hot(C) * scale]`` and the slice of each categorical block."""
        blocks, slices, at = [self.Z], [], self.Z.shape[1]
        for j, u in enumerate(self.uniques):
            oh = np.zeros((len(self.C), len(u)))
            oh[np.arange(len(self.C)), self.C[:, j]] = scale
            blocks.append(oh)
            slices.append(slice(at, at + len(u)))
            at += len(u)
        return np.hstack(blocks), slices

    def decode(self, Z: np.ndarray, C: np.ndarray) -> pd.DataFrame:
        """New rows: standardised numbers ``Z`` and category codes ``C`` -> frame like ``X``."""
        cols: dict[Any, pd.Series] = {}
        k = len(self.miss_cols)
        if self.lay.numeric:
            num = Z * self.sd + self.mean
            for j, c in enumerate(self.lay.numeric):
                v = num[:, j]
                if c in self.miss_cols:
                    v = np.where(C[:, self.miss_cols.index(c)] == 1, np.nan, v)
                cols[c] = numeric_back(v, self.X[c])
        for j, c in enumerate(self.lay.categorical):
            cols[c] = values_back(self.uniques[k + j][C[:, k + j]], self.X[c])
        return pd.DataFrame({c: cols[c].reset_index(drop=True) for c in self.X.columns})


def draw_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))
