"""Column preparation for the fidelity metrics: every column read once, then binned by codes.

A :class:`Column` holds one column of every compared frame (real train first, then the others)
in a form the metrics can use without going back to pandas:

* **numeric** columns (numbers and datetimes, datetimes in seconds) as float arrays with NaN
  for missing values; :meth:`Column.quantile_codes` cuts them into quantile bins of the *real*
  data (duplicate edges merged, values beyond the real range join the outer bins, missing values
  a bin of their own);
* **categorical** columns as integer codes shared by all frames: the real categories first, most
  frequent first (ties by label), then categories only the other frames have ("invented"),
  ``-1`` for missing. :meth:`Column.top_codes` keeps the ``top`` most frequent real categories
  and folds the rest into ``"(other)"``; missing stays a bin of its own.

:func:`subsample` draws rows by a keyed hash of their content, so the rows drawn do not depend on
the order of the rows (or, after :func:`~synthcust.evaluation.common.align`, of the columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthcust.evaluation.common import as_numeric
from synthcust.exceptions import DataError

MISSING = "(missing)"
OTHER = "(other)"

__all__ = [
    "MISSING",
    "OTHER",
    "Column",
    "coverage",
    "distribution",
    "hash_order",
    "ks_statistic",
    "prepare_columns",
    "shape_score",
    "subsample",
    "tvd",
]


def hash_order(df: pd.DataFrame, random_state: int = 0) -> np.ndarray:
    """Row positions ordered by a keyed hash of each row's content.

    Taking the first ``n`` positions is a random sample of ``n`` rows that does not depend on
    the row order: identical rows hash alike, and which copy is taken does not matter.
    """
    key = f"{int(random_state) & 0xFFFFFFFFFFFFFFFF:016x}"
    hashes = pd.util.hash_pandas_object(df, index=False, hash_key=key).to_numpy()
    return np.argsort(hashes, kind="stable")


def subsample(df: pd.DataFrame, max_rows: int | None, random_state: int = 0) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``df``, drawn by :func:`hash_order` (row-order invariant).

    Examples
    --------
    >>> df = pd.DataFrame({"x": range(10)})
    >>> len(subsample(df, 4)), len(subsample(df, None))
    (4, 10)
    >>> a = subsample(df, 4, random_state=1)["x"].sort_values().tolist()
    >>> b = subsample(df.iloc[::-1], 4, random_state=1)["x"].sort_values().tolist()
    >>> a == b
    True
    """
    if max_rows is None or len(df) <= max_rows:
        return df
    if max_rows < 1:
        raise DataError(f"max_rows must be a positive number of rows or None, got {max_rows}")
    keep = np.sort(hash_order(df, random_state)[:max_rows])
    return df.iloc[keep]


def tvd(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance of two histograms over the same bins (counts or shares).

    Examples
    --------
    >>> tvd(np.array([5, 5]), np.array([9, 1]))
    0.4
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov D (largest gap between the two ECDFs); NaNs dropped.

    The same figure as ``scipy.stats.ks_2samp(a, b).statistic``, without the p-value.

    Examples
    --------
    >>> ks_statistic(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0]))
    0.5
    """
    a = np.sort(a[~np.isnan(a)])
    b = np.sort(b[~np.isnan(b)])
    if a.size == 0 or b.size == 0:
        raise DataError("the KS statistic needs at least one value on each side")
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


@dataclass
class Column:
    """One column of every compared frame (real train first), ready for binning.

    ``data`` holds per frame a float array (numeric; NaN = missing) or shared category codes
    (categorical; ``-1`` = missing). For categoricals, ``labels`` names the codes: the first
    ``n_real`` are the real categories (most frequent first), the rest occur only elsewhere.
    """

    name: str
    kind: str  # "numeric", "datetime" or "categorical"
    data: list[np.ndarray]
    labels: list[str] = field(default_factory=list)
    n_real: int = 0
    _quantile_cache: dict[int, tuple[list[np.ndarray], int, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def is_numeric(self) -> bool:
        return self.kind != "categorical"

    def missing(self, frame: int) -> np.ndarray:
        d = self.data[frame]
        return np.isnan(d) if self.is_numeric else d < 0

    def quantile_edges(self, bins: int) -> np.ndarray:
        """Quantile edges of the real values (duplicates merged); empty when none are finite."""
        real = self.data[0]
        finite = real[~np.isnan(real)]
        if finite.size == 0:
            return np.empty(0)
        return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)))

    def quantile_codes(self, bins: int) -> tuple[list[np.ndarray], int, np.ndarray]:
        """Codes in ``bins`` real-quantile bins, missing last; returns (codes, size, edges)."""
        if bins in self._quantile_cache:
            return self._quantile_cache[bins]
        edges = self.quantile_edges(bins)
        inner = edges[1:-1]
        n_bins = max(len(edges) - 1, 1)
        out = []
        for v in self.data:
            miss = np.isnan(v)
            codes = np.searchsorted(inner, np.where(miss, 0.0, v), side="right")
            codes[miss] = n_bins
            out.append(codes.astype(np.int64))
        self._quantile_cache[bins] = (out, n_bins + 1, edges)
        return out, n_bins + 1, edges

    def full_codes(self) -> tuple[list[np.ndarray], int]:
        """Every category its own code, missing last; returns (codes, size)."""
        size = len(self.labels)
        return [np.where(d < 0, size, d) for d in self.data], size + 1

    def top_codes(self, top: int) -> tuple[list[np.ndarray], int, list[str]]:
        """The ``top`` most frequent real categories, then ``"(other)"``, then missing."""
        k = min(top, self.n_real)
        labels = [*self.labels[:k], OTHER, MISSING]
        out = [np.where(d < 0, k + 1, np.minimum(d, k)) for d in self.data]
        return out, k + 2, labels

    def codes(self, bins: int, top: int | None = None) -> tuple[list[np.ndarray], int]:
        """Quantile codes (numeric) or top/full category codes (categorical)."""
        if self.is_numeric:
            codes, size, _ = self.quantile_codes(bins)
            return codes, size
        if top is None:
            return self.full_codes()
        codes, size, _ = self.top_codes(top)
        return codes, size


def _category_column(name: str, series: list[pd.Series]) -> Column:
    # Labels are compared as text so that a category dtype, strings and objects agree.
    # (pandas < 3 turns missing values into the text "nan", hence the explicit mask)
    texts = []
    for s in series:
        t = s.astype(str).to_numpy(dtype=object)
        t[s.isna().to_numpy()] = None
        texts.append(t)
    lengths = [len(t) for t in texts]
    codes, uniques = pd.factorize(np.concatenate(texts), use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    real_counts = np.bincount(codes[: lengths[0]][codes[: lengths[0]] >= 0], minlength=len(uniques))
    all_counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    in_real = real_counts > 0
    labels_str = uniques.astype(str)
    label_rank = np.unique(labels_str, return_inverse=True)[1]
    # real categories by descending real count, then invented by descending count; ties by label
    order = np.lexsort((label_rank, -all_counts, -real_counts, ~in_real))
    remap = np.empty(len(uniques) + 1, dtype=np.int64)
    remap[order] = np.arange(len(uniques))
    remap[-1] = -1  # factorize's missing sentinel -1 indexes the last slot
    codes = remap[codes]
    data = np.split(codes, np.cumsum(lengths)[:-1])
    return Column(
        name=name,
        kind="categorical",
        data=list(data),
        labels=labels_str[order].tolist(),
        n_real=int(in_real.sum()),
    )


def prepare_columns(
    frames: list[pd.DataFrame], numeric: list[str], categorical: list[str]
) -> list[Column]:
    """One :class:`Column` per aligned column (real frame first), in the real column order."""
    out = []
    for name in frames[0].columns:
        if name in numeric:
            kind = (
                "datetime"
                if pd.api.types.is_datetime64_any_dtype(frames[0][name].dtype)
                else "numeric"
            )
            out.append(Column(name, kind, [as_numeric(f[name]) for f in frames]))
        elif name in categorical:
            out.append(_category_column(name, [f[name] for f in frames]))
    return out


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.zeros(len(counts))


def shape_score(col: Column, frame: int) -> float:
    """Column shape similarity of ``frame`` to the real frame over non-missing values.

    Numeric and datetime columns: 1 - KS D (SDMetrics' KSComplement); categorical columns:
    1 - TVD of the category shares (SDMetrics' TVComplement). 0 when ``frame`` has no
    non-missing value at all.
    """
    if not (~col.missing(frame)).any():
        return 0.0
    if col.is_numeric:
        return 1.0 - ks_statistic(col.data[0], col.data[frame])
    size = len(col.labels)
    real = np.bincount(col.data[0][col.data[0] >= 0], minlength=size)
    other = np.bincount(col.data[frame][col.data[frame] >= 0], minlength=size)
    return 1.0 - tvd(real, other)


def coverage(col: Column, frame: int, examples: int = 5) -> dict[str, object]:
    """Real categories ``frame`` never produces and categories it has that real data lacks."""
    d = col.data[frame]
    counts = np.bincount(d[d >= 0], minlength=len(col.labels))
    missed = [col.labels[k] for k in range(col.n_real) if counts[k] == 0]
    extra = np.arange(col.n_real, len(col.labels))
    extra = extra[counts[extra] > 0]
    extra = extra[np.argsort(-counts[extra], kind="stable")]
    return {
        "categories_real": col.n_real,
        "categories_missed": len(missed) / col.n_real if col.n_real else 0.0,
        "categories_missed_examples": missed[:examples],
        "categories_invented": len(extra),
        "categories_invented_examples": [col.labels[k] for k in extra[:examples]],
    }


def distribution(
    col: Column, names: list[str], *, bins: int = 20, top: int = 15, digits: int = 6
) -> dict[str, object]:
    """Compact plot data of one column: shares per bin (numeric) or category for each frame.

    Numeric: ``edges`` of ``bins`` real-quantile bins (duplicates merged; datetimes in seconds
    since the epoch), shares of the non-missing values per bin, and the missing share per frame.
    Categorical: the ``top`` most frequent real categories, then ``"(other)"`` and
    ``"(missing)"`` where any frame has them; shares of all rows.
    """
    out: dict[str, object] = {"kind": col.kind}
    if col.is_numeric:
        codes, size, edges = col.quantile_codes(bins)
        out["edges"] = [round(float(e), digits) for e in edges]
        if col.kind == "datetime":
            out["unit"] = "seconds since 1970-01-01"
        missing = {}
        for name, c in zip(names, codes[: len(names)], strict=True):
            counts = np.bincount(c, minlength=size)
            out[name] = np.round(_shares(counts[:-1]), digits).tolist()
            missing[name] = round(float(counts[-1] / max(len(c), 1)), digits)
        out["missing"] = missing
        return out
    codes, size, labels = col.top_codes(top)
    counts = [np.bincount(c, minlength=size) for c in codes[: len(names)]]
    keep = np.ones(size, dtype=bool)
    keep[-2:] = np.sum(counts, axis=0)[-2:] > 0  # drop "(other)" / "(missing)" when empty
    out["labels"] = [lab for lab, k in zip(labels, keep, strict=True) if k]
    for name, cnt in zip(names, counts[: len(names)], strict=True):
        out[name] = np.round(_shares(cnt)[keep], digits).tolist()
    return out
