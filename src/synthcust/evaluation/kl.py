"""Per-column KL divergence: how closely each synthetic column follows the real one.

Per-column KL divergence KL(real || synthetic), exactly as
``docs/methods/metrics.md#kl-divergence`` defines it:

* **Numeric** columns (numbers and datetimes; booleans are *not* numeric) are cut into ``bins``
  bins at the real data's quantiles ``np.quantile(real, linspace(0, 1, bins + 1))``; duplicate
  edges are merged, so a point mass gives fewer, wider bins. Bins are half-open ``[a, b)``
  except that values below the real minimum fall into the first bin and values above the real
  maximum into the last. Datetimes are compared as nanoseconds since the epoch.
* **Categorical** columns (everything else: strings, categories, booleans, objects) count each
  category; a category seen only in the synthetic data becomes a bin where the real data has
  zero mass.
* **Missing** values form a bin (category) of their own whenever either side has any.
* Both distributions get ``eps`` added to every bin's probability and are renormalised;
  KL = sum p * ln(p / q) with p the real and q the synthetic distribution (nats).

The seed study's bar is KL < 0.12 on every column (:func:`kl_summary`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError

__all__ = [
    "KL_METHOD",
    "KL_THRESHOLD",
    "KLSummary",
    "kl_divergence",
    "kl_per_column",
    "kl_summary",
]

#: The seed study's bar: every column should score below this KL (nats).
KL_THRESHOLD = 0.12

KL_METHOD = (
    "KL(real || synthetic) per column in nats: numeric columns in {bins} bins at the real "
    "quantiles (duplicate edges merged), categoricals by category, missing values as their own "
    "bin; {eps:g} added to every bin, then renormalised"
)


def kl_divergence(p: np.ndarray, q: np.ndarray, *, eps: float = 1e-6) -> float:
    """KL(p || q) in nats of two histograms over the same bins, after adding ``eps``.

    ``p`` and ``q`` may be counts or probabilities; each is normalised to sum to 1, ``eps`` is
    added to every bin and each is renormalised.

    Examples
    --------
    >>> round(kl_divergence(np.array([5, 5]), np.array([9, 1])), 4)
    0.5108
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.shape != q.shape or p.ndim != 1 or p.size == 0:
        raise DataError(
            f"histograms must be 1-D and of equal length, got shapes {p.shape} and {q.shape}"
        )
    if p.sum() <= 0 or q.sum() <= 0:
        raise DataError("a histogram is empty; both sides need at least one value")
    p = p / p.sum() + eps
    q = q / q.sum() + eps
    p /= p.sum()
    q /= q.sum()
    return float(np.sum(p * np.log(p / q)))


def _numeric_kind(s: pd.Series) -> str | None:
    """'number', 'datetime' or 'timedelta' for columns binned as numbers; None otherwise."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return "number"
    return None


def _as_float(s: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Values as float64 and the missing mask, without copying per row in Python."""
    missing = s.isna().to_numpy()
    if kind == "datetime":
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        ints = s.to_numpy(dtype="datetime64[ns]").view(np.int64)
        values = ints.astype(np.float64)
    elif kind == "timedelta":
        values = s.to_numpy(dtype="timedelta64[ns]").view(np.int64).astype(np.float64)
    else:
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = missing | np.isnan(values)
    values = np.where(missing, np.nan, values)
    return values, missing


def _numeric_histograms(
    real: pd.Series, synth: pd.Series, kind: str, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    r_vals, r_miss = _as_float(real, kind)
    s_vals, s_miss = _as_float(synth, kind)
    finite = r_vals[~r_miss]
    finite = finite[np.isfinite(finite)]
    if finite.size:
        edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)))
    else:
        edges = np.empty(0)
    inner = edges[1:-1]  # outer edges are open: values beyond them join the outer bins
    n_bins = max(len(edges) - 1, 1)
    has_missing = bool(r_miss.any() or s_miss.any())
    size = n_bins + int(has_missing)

    def histogram(values: np.ndarray, miss: np.ndarray) -> np.ndarray:
        codes = np.searchsorted(inner, np.where(miss, 0.0, values), side="right")
        codes[miss] = n_bins
        return np.bincount(codes, minlength=size)

    return histogram(r_vals, r_miss), histogram(s_vals, s_miss)


def _categorical_histograms(real: pd.Series, synth: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    r_miss = real.isna().to_numpy()
    s_miss = synth.isna().to_numpy()
    # Factorising real values first gives real categories the lowest codes and appends any
    # category only the synthetic data has.
    values = np.concatenate(
        [real.to_numpy(dtype=object)[~r_miss], synth.to_numpy(dtype=object)[~s_miss]]
    )
    codes, uniques = pd.factorize(values)
    n_cat = len(uniques)
    has_missing = bool(r_miss.any() or s_miss.any())
    size = max(n_cat + int(has_missing), 1)
    n_real = int((~r_miss).sum())
    r_hist = np.bincount(codes[:n_real], minlength=size)
    s_hist = np.bincount(codes[n_real:], minlength=size)
    if has_missing:
        r_hist[n_cat] += int(r_miss.sum())
        s_hist[n_cat] += int(s_miss.sum())
    return r_hist, s_hist


def _column_histograms(
    real: pd.Series, synth: pd.Series, name: Any, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    r_kind = _numeric_kind(real)
    s_kind = _numeric_kind(synth)
    if r_kind is not None:
        if s_kind != r_kind:
            raise DataError(
                f"column {name!r} is {r_kind} in the real data but {synth.dtype} in the synthetic"
                f" data; cast the synthetic column to the real column's type ({real.dtype})"
            )
        return _numeric_histograms(real, synth, r_kind, bins)
    return _categorical_histograms(real, synth)


def _resolve_columns(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: Iterable[Any] | None
) -> list[Any]:
    cols = list(real.columns) if columns is None else list(columns)
    not_in_real = [c for c in cols if c not in real.columns]
    if not_in_real:
        raise DataError(
            f"column(s) {not_in_real} are not in the real data; choose from {list(real.columns)}"
        )
    not_in_synth = [c for c in cols if c not in synthetic.columns]
    if not_in_synth:
        raise DataError(
            f"column(s) {not_in_synth} are missing from the synthetic data; sample them too or"
            " pass columns= to compare only the shared ones"
        )
    if len(real) == 0 or len(synthetic) == 0:
        which = "real" if len(real) == 0 else "synthetic"
        raise DataError(f"the {which} data has no rows; KL needs at least one row on each side")
    return cols


def kl_per_column(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    columns: Iterable[Any] | None = None,
    bins: int = 20,
    eps: float = 1e-6,
) -> pd.Series:
    """Per-column KL divergence KL(real || synthetic) in nats.

    Parameters
    ----------
    real : pandas.DataFrame
        Real (training) data: it defines the numeric bins.
    synthetic : pandas.DataFrame
        Synthetic data with (at least) the same columns.
    columns : iterable, optional
        Columns to compare; all columns of ``real`` when omitted.
    bins : int
        Number of quantile bins for numeric columns (before merging duplicate edges).
    eps : float
        Added to every bin's probability before renormalising.

    Returns
    -------
    pandas.Series
        Index = column, value = KL(real || synthetic), named ``"kl"``.

    Raises
    ------
    DataError
        A column is missing from either frame, a frame has no rows, or a column numeric
        (or datetime) in ``real`` is not of the same kind in ``synthetic``.

    Examples
    --------
    >>> real = pd.DataFrame({"x": ["a"] * 5 + ["b"] * 5})
    >>> synth = pd.DataFrame({"x": ["a"] * 9 + ["b"]})
    >>> kl_per_column(real, synth).round(4).to_dict()
    {'x': 0.5108}
    """
    if bins < 1:
        raise DataError(f"bins must be a positive integer, got {bins}")
    if eps <= 0:
        raise DataError(f"eps must be > 0 so that KL stays finite, got {eps}")
    cols = _resolve_columns(real, synthetic, columns)
    out = {}
    for col in cols:
        r_hist, s_hist = _column_histograms(real[col], synthetic[col], col, bins)
        out[col] = kl_divergence(r_hist, s_hist, eps=eps)
    return pd.Series(out, dtype=float, name="kl")


@dataclass(frozen=True)
class KLSummary:
    """Per-column KL with its summary against a threshold.

    Attributes
    ----------
    per_column: KL(real || synthetic) per column (nats).
    max: the largest per-column KL.
    mean: the mean per-column KL.
    threshold: columns at or above it fail.
    failing: columns with KL >= threshold, worst first.
    method: how the figures were measured, for reports.
    """

    per_column: pd.Series
    max: float
    mean: float
    threshold: float
    failing: list[Any] = field(default_factory=list)
    method: str = ""

    @property
    def passed(self) -> bool:
        """True when every column is below the threshold."""
        return not self.failing

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready dictionary of the summary."""
        return {
            "per_column": {str(k): float(v) for k, v in self.per_column.items()},
            "max": self.max,
            "mean": self.mean,
            "threshold": self.threshold,
            "failing": [str(c) for c in self.failing],
            "passed": self.passed,
            "method": self.method,
        }


def kl_summary(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    threshold: float = KL_THRESHOLD,
    *,
    columns: Iterable[Any] | None = None,
    bins: int = 20,
    eps: float = 1e-6,
) -> KLSummary:
    """Per-column KL, its max and mean, and the columns failing ``threshold``.

    Parameters are those of :func:`kl_per_column`; ``threshold`` defaults to the seed
    study's bar of 0.12.

    Examples
    --------
    >>> real = pd.DataFrame({"x": ["a"] * 5 + ["b"] * 5, "y": range(10)})
    >>> synth = pd.DataFrame({"x": ["a"] * 9 + ["b"], "y": range(10)})
    >>> summary = kl_summary(real, synth)
    >>> summary.failing, summary.passed
    (['x'], False)
    """
    per_col = kl_per_column(real, synthetic, columns=columns, bins=bins, eps=eps)
    failing = per_col[per_col >= threshold].sort_values(ascending=False)
    return KLSummary(
        per_column=per_col,
        max=float(per_col.max()) if len(per_col) else 0.0,
        mean=float(per_col.mean()) if len(per_col) else 0.0,
        threshold=float(threshold),
        failing=list(failing.index),
        method=KL_METHOD.format(bins=bins, eps=eps),
    )
