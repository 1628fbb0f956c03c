"""Column-pair fidelity: joint binned distributions, correlations and associations.

Works on :class:`~synthcust.evaluation.binning.Column` objects (frame 0 = real train). Joint
distributions of two binned columns are counted with one ``np.bincount`` of the combined code
``a * k_b + b`` per frame (``np.unique`` on the combined codes when the grid would be huge), so
hundreds of pairs over tens of thousands of rows take a fraction of a second.

* :func:`pairwise_tvd`: 1 - TVD of every pair's joint binned distribution (accuracy, contingency
  similarity).
* :func:`pair_trends`: SDMetrics-style Column Pair Trends: numeric pairs by Pearson correlation
  similarity ``1 - |r_real - r_synth| / 2``, every other pair by contingency similarity, plus
  the statistics a reader wants to see (Pearson, Spearman, Cramér's V, correlation ratio).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from synthcust.evaluation.binning import Column

__all__ = [
    "PairTrends",
    "correlation_ratio",
    "cramers_v",
    "joint_counts",
    "pair_trends",
    "pairwise_corr",
    "pairwise_tvd",
]

# Above this many cells the joint grid is counted sparsely (only the cells that occur).
_DENSE_CELLS = 1 << 20


def joint_counts(
    a: Sequence[np.ndarray], b: Sequence[np.ndarray], ka: int, kb: int
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Counts of the joint codes ``(a, b)`` per frame over one shared set of cells.

    Returns the count vectors (one per frame), and each cell's ``a`` and ``b`` code.
    """
    keys = [x * kb + y for x, y in zip(a, b, strict=True)]
    if ka * kb <= _DENSE_CELLS:
        counts = [np.bincount(k, minlength=ka * kb) for k in keys]
        cells = np.arange(ka * kb)
    else:
        cells, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        parts = np.split(inverse, np.cumsum([len(k) for k in keys])[:-1])
        counts = [np.bincount(p, minlength=len(cells)) for p in parts]
    return counts, cells // kb, cells % kb


def _tvd_counts(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def cramers_v(counts: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> float:
    """Cramér's V (no bias correction) of a contingency table given as cell counts.

    ``chi2 = n * (sum O_ij^2 / (r_i c_j) - 1)`` over the occupied cells; ``V = sqrt(chi2 / (n *
    (min(#rows, #cols) - 1)))`` over the occupied rows and columns; NaN when one side is constant.

    Examples
    --------
    >>> table = np.array([10, 0, 0, 10])  # a perfect 2 x 2 association
    >>> cramers_v(table, np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    1.0
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.sum()
    r = np.bincount(rows, weights=counts)
    c = np.bincount(cols, weights=counts)
    k = min(int((r > 0).sum()), int((c > 0).sum()))
    if n == 0 or k < 2:
        return float("nan")
    occ = counts > 0
    chi2 = n * (np.sum(counts[occ] ** 2 / (r[rows[occ]] * c[cols[occ]])) - 1.0)
    return float(np.sqrt(np.clip(chi2 / (n * (k - 1)), 0.0, 1.0)))


def correlation_ratio(groups: np.ndarray, y: np.ndarray) -> float:
    """Correlation ratio eta of numeric ``y`` by integer ``groups`` (rows with NaN ``y`` dropped).

    ``eta = sqrt(between-group sum of squares / total sum of squares)``; NaN when ``y`` is
    constant.

    Examples
    --------
    >>> correlation_ratio(np.array([0, 0, 1, 1]), np.array([1.0, 1.0, 3.0, 3.0]))
    1.0
    """
    valid = ~np.isnan(y)
    y = y[valid]
    g = groups[valid]
    if y.size < 2:
        return float("nan")
    yc = y - y.mean()
    sst = float(np.dot(yc, yc))
    if sst <= 0:
        return float("nan")
    sums = np.bincount(g, weights=yc)
    n = np.bincount(g)
    occ = n > 0
    ssb = float(np.sum(sums[occ] ** 2 / n[occ]))
    return float(np.sqrt(np.clip(ssb / sst, 0.0, 1.0)))


def pairwise_corr(x: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix of the columns of ``x`` over pairwise-complete rows.

    Columns are standardised first (for precision); NaN where a pair has fewer than two rows
    or no variance.
    """
    x = np.asarray(x, dtype=float)
    p = x.shape[1]
    if p == 0:
        return np.empty((0, 0))
    m = ~np.isnan(x)
    x0 = np.where(m, x, 0.0)
    count = np.maximum(m.sum(axis=0), 1)
    mean = x0.sum(axis=0) / count
    dev = np.where(m, x - mean, 0.0)
    scale = np.sqrt((dev * dev).sum(axis=0) / count)
    scale = np.where(scale > 0, scale, 1.0)
    z = dev / scale
    # p x p products of a few columns: threaded BLAS only adds contention on a busy machine
    with (
        threadpool_limits(limits=1, user_api="blas"),
        np.errstate(invalid="ignore", divide="ignore"),
    ):
        mf = m.astype(float)
        n = mf.T @ mf
        s = z.T @ mf  # s[i, j] = sum of z_i over rows where j is present
        q = (z * z).T @ mf
        prod = z.T @ z
        cov = prod - s * s.T / n
        var_i = q - s * s / n
        var_j = var_i.T
        corr = cov / np.sqrt(var_i * var_j)
    tiny = 1e-12 * np.maximum(q, q.T)
    corr[(n < 2) | (var_i <= tiny) | (var_j <= tiny)] = np.nan
    corr = np.clip(corr, -1.0, 1.0)
    np.fill_diagonal(corr, np.where(np.isnan(np.diag(corr)), np.nan, 1.0))
    return corr


def pairwise_tvd(
    codes: Sequence[Sequence[np.ndarray]],
    sizes: Sequence[int],
    others: Sequence[int],
    pairs: Sequence[tuple[int, int]] | None = None,
) -> dict[int, np.ndarray]:
    """1 - TVD of the joint binned distribution of column pairs, frame 0 against each other.

    ``codes[c][f]`` are column ``c``'s codes in frame ``f`` (in ``range(sizes[c])``). Returns per
    frame in ``others`` a symmetric ``p x p`` matrix: off the diagonal 1 - TVD of the pair's
    joint distribution (NaN for pairs not asked for), on the diagonal 1 - TVD of the column.
    """
    p = len(codes)
    out = {f: np.full((p, p), np.nan) for f in others}
    for i in range(p):
        ref = np.bincount(codes[i][0], minlength=sizes[i])
        for f in others:
            out[f][i, i] = 1.0 - _tvd_counts(ref, np.bincount(codes[i][f], minlength=sizes[i]))
    todo = list(combinations(range(p), 2)) if pairs is None else pairs
    frames = [0, *others]
    for i, j in todo:
        counts, _, _ = joint_counts(
            [codes[i][f] for f in frames], [codes[j][f] for f in frames], sizes[i], sizes[j]
        )
        for f, cnt in zip(others, counts[1:], strict=True):
            out[f][i, j] = out[f][j, i] = 1.0 - _tvd_counts(counts[0], cnt)
    return out


@dataclass
class PairTrends:
    """Per-pair table and per-frame matrices (frame order as in the columns' data)."""

    table: pd.DataFrame
    association: dict[int, pd.DataFrame] = field(default_factory=dict)
    correlation: dict[int, pd.DataFrame] = field(default_factory=dict)


def _ranks(x: np.ndarray) -> np.ndarray:
    return pd.DataFrame(x).rank(method="average").to_numpy(dtype=float)


def pair_trends(
    columns: Sequence[Column],
    others: Sequence[int],
    names: Sequence[str],
    *,
    bins: int = 10,
) -> PairTrends:
    """Column pair trends of frame 0 (real) against each frame in ``others``.

    ``names`` labels frame 0 and then each of ``others`` in the table ("real", "synthetic",
    "holdout"). Score per pair: numeric-numeric ``1 - |r_0 - r_f| / 2`` on Pearson r (contingency
    similarity on ``bins`` quantile bins when r is undefined, e.g. a constant column); every
    other pair contingency similarity (1 - TVD of the joint distribution) with numeric columns in
    ``bins`` real-quantile bins and categories as they are, missing values a bin of their own.
    """
    frames = [0, *others]
    labels = [c.name for c in columns]
    p = len(columns)
    num_idx = [i for i, c in enumerate(columns) if c.is_numeric]
    num_names = [labels[i] for i in num_idx]
    pearson, spearman = {}, {}
    for f in frames:
        x = (
            np.column_stack([columns[i].data[f] for i in num_idx])
            if num_idx
            else np.empty((len(columns[0].data[f]), 0))
        )
        pearson[f] = pairwise_corr(x)
        spearman[f] = pairwise_corr(_ranks(x)) if num_idx else pearson[f]
    pos = {i: k for k, i in enumerate(num_idx)}
    coded = [c.codes(bins) for c in columns]
    assoc = {f: np.eye(p) for f in frames}
    rows = []
    for i, j in combinations(range(p), 2):
        a, b = columns[i], columns[j]
        row: dict[str, object] = {"col_a": a.name, "col_b": b.name}
        if a.is_numeric and b.is_numeric:
            row["kind"] = "numeric-numeric"
            row["statistic"] = "pearson"
            stat = {f: pearson[f][pos[i], pos[j]] for f in frames}
            for f, name in zip(frames, names, strict=True):
                row[f"spearman_{name}"] = spearman[f][pos[i], pos[j]]
        elif a.is_numeric or b.is_numeric:
            row["kind"] = "numeric-categorical"
            row["statistic"] = "eta"
            num, cat = (a, b) if a.is_numeric else (b, a)
            cat_codes, _ = cat.full_codes()
            stat = {f: correlation_ratio(cat_codes[f], num.data[f]) for f in frames}
        else:
            row["kind"] = "categorical-categorical"
            row["statistic"] = "cramers_v"
            stat = None
        counts = None
        if row["kind"] != "numeric-numeric" or any(np.isnan(v) for v in stat.values()):
            counts, ca, cb = joint_counts(
                [coded[i][0][f] for f in frames],
                [coded[j][0][f] for f in frames],
                coded[i][1],
                coded[j][1],
            )
            if stat is None:
                stat = {f: cramers_v(counts[k], ca, cb) for k, f in enumerate(frames)}
        for f, name in zip(frames, names, strict=True):
            row[name] = stat[f]
            assoc[f][i, j] = assoc[f][j, i] = stat[f]
        # strength of the real relation, as SDMetrics (>= 0.32) thresholds it: |Pearson r| for
        # numeric pairs, Cramer's V of the binned real contingency table for the others
        if row["kind"] == "numeric-numeric":
            row["real_strength"] = abs(stat[0])
        else:
            if counts is None:  # pragma: no cover - counts exist for every non-numeric pair
                raise AssertionError("contingency counts missing")
            row["real_strength"] = cramers_v(counts[0], ca, cb)
        for k, (f, name) in enumerate(zip(others, names[1:], strict=True)):
            key = "score" if k == 0 else f"score_{name}"
            if counts is None:
                row[key] = 1.0 - abs(stat[0] - stat[f]) / 2.0
                row["score_method"] = "correlation similarity (Pearson)"
            else:
                row[key] = 1.0 - _tvd_counts(counts[0], counts[k + 1])
                row["score_method"] = "contingency similarity"
        rows.append(row)
    order = ["col_a", "col_b", "kind", "statistic", *names]
    order += [f"spearman_{n}" for n in names]
    order += ["score", *(f"score_{n}" for n in names[2:]), "score_method", "real_strength"]
    table = pd.DataFrame(rows, columns=order)
    return PairTrends(
        table=table,
        association={f: pd.DataFrame(assoc[f], index=labels, columns=labels) for f in frames},
        correlation={
            f: pd.DataFrame(pearson[f], index=num_names, columns=num_names) for f in frames
        },
    )
