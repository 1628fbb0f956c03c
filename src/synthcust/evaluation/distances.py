"""Distances between mixed-type rows, for the privacy metrics.

:class:`MixedEmbedding` maps a table to numbers such that the L2 distance between two rows is
Gower-like: every column contributes on a comparable scale.

* **Numeric** columns (and datetimes, in seconds) are centred on the real train median and
  divided by a robust scale: ``IQR / 1.349`` (the standard deviation of a normal with that IQR);
  when the IQR is 0 (a column that is mostly one value, e.g. ``capital_gain``) the train standard
  deviation; when that is 0 too, 1. So one unit is "one typical spread of this column". Missing
  values are imputed at the median (0 after centring) and flagged in an indicator column of
  weight 1, so "missing vs present" costs as much as a one-unit difference.
* **Categorical** columns are one-hot coded over the ``top`` most frequent train categories
  (ties broken by value, so the coding does not depend on row order), plus one ``(other)``
  column for the rarer ones and for categories never seen in train; missing is a category of its
  own. Each one-hot column is scaled by ``1/sqrt(2)``: a mismatch changes two coordinates, so it
  adds exactly 1 to the squared distance, the same as a one-unit numeric difference. Rare
  categories merged into ``(other)`` count as equal: rows look closer than they are, which errs
  on the side of reporting more privacy risk, not less.

:func:`nearest_neighbors` finds the ``k`` nearest reference rows of every query row by brute
force in blocks of rows: a float32 matrix product proposes ``k + 1`` candidates, whose distances
are then recomputed exactly in float64, so an identical row is at distance exactly 0 and ties can
be detected.

:func:`row_hashes` gives one 64-bit hash per row of the normalised values, for exact-copy
checks that do not depend on distances.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from synthcust.evaluation.common import as_numeric
from synthcust.exceptions import DataError, NotFittedError

__all__ = ["MixedEmbedding", "category_strings", "nearest_neighbors", "robust_scale", "row_hashes"]

_MISSING = "(missing)"
_OTHER = "(other)"
#: Weight of one one-hot coordinate: a category mismatch adds 2 * w**2 = 1 to the squared distance.
_ONE_HOT_WEIGHT = 1.0 / np.sqrt(2.0)
#: Elements of the float32 distance block computed at once (64 MiB).
_BLOCK_ELEMENTS = 1 << 24


def category_strings(s: pd.Series) -> pd.Series:
    """A column's values as strings, missing as ``"(missing)"`` (one normalisation everywhere)."""
    return s.astype(object).where(s.notna(), _MISSING).astype(str)


def robust_scale(values: np.ndarray) -> float:
    """IQR / 1.349 of the non-missing values; the standard deviation if that is 0; else 1.

    Examples
    --------
    >>> round(robust_scale(np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan])), 4)
    1.4826
    >>> robust_scale(np.array([0.0, 0.0, 0.0, 0.0, 10.0]))
    4.0
    >>> robust_scale(np.array([3.0, 3.0]))
    1.0
    """
    v = values[~np.isnan(values)]
    if v.size == 0:
        return 1.0
    q25, q75 = np.quantile(v, [0.25, 0.75])
    iqr = float(q75 - q25)
    if iqr > 0:
        return iqr / 1.349
    sd = float(np.std(v))
    return sd if sd > 0 else 1.0


class MixedEmbedding:
    """Gower-like numeric embedding of mixed-type rows, fitted on real train data.

    Parameters
    ----------
    top : int
        Categories kept per categorical column (most frequent in train); the rest share one
        ``(other)`` coordinate.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, None], "c": ["a", "b", "a", "a"]})
    >>> emb = MixedEmbedding().fit(df, numeric=["x"], categorical=["c"])
    >>> e = emb.transform(df)
    >>> e.shape  # x, x missing, c=a, c=b, c=(other)
    (4, 5)
    >>> round(float(np.sum((e[0] - e[1]) ** 2)), 4)  # x: 1 / (IQR/1.349) = 1.349; c: 1
    2.8198
    """

    def __init__(self, top: int = 30):
        self.top = top

    def fit(
        self, df: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
    ) -> MixedEmbedding:
        if self.top < 1:
            raise DataError(f"top must be at least 1, got {self.top}")
        self.numeric_ = list(numeric)
        self.categorical_ = list(categorical)
        self.center_: dict[str, float] = {}
        self.scale_: dict[str, float] = {}
        self.categories_: dict[str, list[str]] = {}
        self.slices_: dict[str, slice] = {}
        pos = 0
        for c in self.numeric_:
            v = as_numeric(df[c])
            med = np.nanmedian(v) if np.isfinite(v).any() else 0.0
            self.center_[c] = float(med)
            self.scale_[c] = robust_scale(v)
            self.slices_[c] = slice(pos, pos + 2)  # value, missing indicator
            pos += 2
        for c in self.categorical_:
            vc = category_strings(df[c]).value_counts()
            # most frequent first, ties by value: independent of row order
            order = sorted(zip(vc.index, vc.to_numpy(), strict=True), key=lambda t: (-t[1], t[0]))
            cats = [str(k) for k, _ in order[: self.top]]
            self.categories_[c] = cats
            self.slices_[c] = slice(pos, pos + len(cats) + 1)  # + (other)
            pos += len(cats) + 1
        self.n_features_ = pos
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_"):
            raise NotFittedError("MixedEmbedding is not fitted; call fit(train, ...) first")

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """The embedding of ``df``'s rows, float64 of shape ``(len(df), n_features_)``."""
        self._check_fitted()
        lacking = [c for c in self.numeric_ + self.categorical_ if c not in df.columns]
        if lacking:
            raise DataError(f"the data lacks columns {lacking} that the embedding was fitted on")
        n = len(df)
        out = np.zeros((n, self.n_features_), dtype=np.float64)
        rows = np.arange(n)
        for c in self.numeric_:
            v = as_numeric(df[c])
            miss = np.isnan(v)
            z = (v - self.center_[c]) / self.scale_[c]
            z[miss] = 0.0
            j = self.slices_[c].start
            out[:, j] = z
            out[:, j + 1] = miss
        for c in self.categorical_:
            cats = self.categories_[c]
            codes = pd.Index(cats).get_indexer(category_strings(df[c])).astype(np.int64)
            codes[codes < 0] = len(cats)  # rare or unseen -> (other)
            out[rows, self.slices_[c].start + codes] = _ONE_HOT_WEIGHT
        return out

    def feature_mask(self, exclude: Sequence[str] = ()) -> np.ndarray:
        """Boolean mask over the features, False for those of the ``exclude`` columns."""
        self._check_fitted()
        mask = np.ones(self.n_features_, dtype=bool)
        for c in exclude:
            if c not in self.slices_:
                raise DataError(f"column {c!r} is not part of the embedding")
            mask[self.slices_[c]] = False
        return mask


def nearest_neighbors(
    query: np.ndarray, reference: np.ndarray, k: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of the ``k`` nearest reference rows of each query row (L2).

    Brute force, in blocks of query rows so memory stays bounded (about 64 MiB per block). A
    float32 matrix product proposes ``k + 1`` candidates per row; their distances are recomputed
    exactly in float64 and sorted, so identical rows are at distance exactly 0.

    Returns
    -------
    (distances, indices), both of shape ``(len(query), k)``, nearest first.

    Examples
    --------
    >>> ref = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
    >>> d, i = nearest_neighbors(np.array([[0.0, 0.0], [3.0, 3.0]]), ref, k=2)
    >>> d.tolist(), i.tolist()
    ([[0.0, 1.0], [1.0, 3.605551275463989]], [[0, 2], [1, 2]])
    """
    query = np.asarray(query, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if query.ndim != 2 or reference.ndim != 2 or query.shape[1] != reference.shape[1]:
        raise DataError(
            f"query and reference must be 2-D with the same width, got {query.shape} and "
            f"{reference.shape}"
        )
    n_ref = len(reference)
    if not 1 <= k <= n_ref:
        raise DataError(f"need 1 <= k <= {n_ref} reference rows, got k={k}")
    n = len(query)
    dist = np.empty((n, k), dtype=np.float64)
    idx = np.empty((n, k), dtype=np.int64)
    if n == 0:
        return dist, idx
    c = min(k + 1, n_ref)  # one spare candidate absorbs float32 rounding in the ranking
    r32 = reference.astype(np.float32)
    rt = np.ascontiguousarray(r32.T)
    r_sq = np.einsum("ij,ij->i", r32, r32)
    step = max(1, min(n, _BLOCK_ELEMENTS // n_ref))
    for s in range(0, n, step):
        q = query[s : s + step]
        g = q.astype(np.float32) @ rt
        g *= -2.0
        g += r_sq  # |q|^2 is constant per row: not needed to rank
        if c <= 6:
            cand = np.empty((len(q), c), dtype=np.int64)
            rows = np.arange(len(q))
            for j in range(c):  # c passes of argmin beat argpartition for small c
                cand[:, j] = g.argmin(axis=1)
                g[rows, cand[:, j]] = np.inf
        else:
            cand = np.argpartition(g, c - 1, axis=1)[:, :c]
        diff = q[:, None, :] - reference[cand]
        d = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        dist[s : s + step] = np.take_along_axis(d, order, axis=1)
        idx[s : s + step] = np.take_along_axis(cand, order, axis=1)
    return dist, idx


def row_hashes(df: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> np.ndarray:
    """One uint64 hash per row of the normalised values of ``numeric + categorical`` columns.

    Numbers (and datetimes) are compared as floats, so ``39`` and ``39.0`` match; ``-0.0`` equals
    ``0.0``; every kind of missing value (``NaN``, ``None``, ``pd.NA``, ``NaT``, infinities)
    is one value. Categories are compared as strings, so ``True`` and ``"True"`` match. The
    column order given decides the hash: pass the same order for frames you compare.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2], "c": ["u", None]})
    >>> b = pd.DataFrame({"c": [None, "u"], "x": [2.0, 1.0]})
    >>> ha, hb = row_hashes(a, ["x"], ["c"]), row_hashes(b, ["x"], ["c"])
    >>> bool(ha[0] == hb[1]) and bool(ha[1] == hb[0])
    True
    """
    cols: dict[str, object] = {}
    for i, c in enumerate(numeric):
        v = as_numeric(df[c]) + 0.0  # -0.0 + 0.0 == +0.0
        v[np.isnan(v)] = np.inf  # as_numeric maps infinities to NaN, so inf is free
        cols[f"n{i}"] = v
    for i, c in enumerate(categorical):
        cols[f"c{i}"] = category_strings(df[c]).to_numpy(dtype=object)
    if not cols:
        raise DataError("no columns to compare rows on")
    frame = pd.DataFrame(cols, index=pd.RangeIndex(len(df)))
    return pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
