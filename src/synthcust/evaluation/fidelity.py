"""Fidelity metrics: how closely synthetic columns follow the real ones.

Per-column KL divergence KL(real || synthetic), exactly as ``BENCHMARKS.md`` defines it:

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

:func:`evaluate_fidelity` is the whole fidelity section of a report: KL, MOSTLY AI-style
accuracy (1 - TVD of binned univariate and bivariate distributions), SDMetrics-style column
shapes and column pair trends, missing-value rates and category coverage, each with the same
figure for real holdout vs real train as the ceiling when a holdout is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from synthcust.evaluation.binning import (
    coverage,
    distribution,
    hash_order,
    prepare_columns,
    shape_score,
    subsample,
)
from synthcust.evaluation.common import align
from synthcust.evaluation.pairs import pair_trends, pairwise_tvd
from synthcust.evaluation.results import Metric, SectionResult
from synthcust.exceptions import DataError

__all__ = [
    "KL_THRESHOLD",
    "KLSummary",
    "evaluate_fidelity",
    "kl_divergence",
    "kl_per_column",
    "kl_summary",
]

#: The seed study's bar: every column should score below this KL (nats).
KL_THRESHOLD = 0.12

_METHOD = (
    "KL(real || synthetic) per column in nats: numeric columns in {bins} bins at the real "
    "quantiles (duplicate edges merged), categoricals by category, missing values as their own "
    "bin; {eps:g} added to every bin, then renormalised"
)


#: Real-relation thresholds of SDMetrics' Column Pair Trends (sdmetrics >= 0.32).
_STRONG_R, _STRONG_V = 0.5, 0.3


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
        method=_METHOD.format(bins=bins, eps=eps),
    )


_ACC_BINS = 10
_ACC_TOP = 10


def _rows_note(sizes: dict[str, tuple[int, int]], max_rows: int | None, seed: int) -> str:
    cut = {k: v for k, v in sizes.items() if v[0] < v[1]}
    if not cut:
        return ""
    parts = ", ".join(f"{k} {used:,} of {total:,}" for k, (used, total) in cut.items())
    return (
        f"Rows used: {parts} (max_rows={max_rows}; rows drawn by a hash of their content keyed "
        f"by random_state={seed}, so the draw does not depend on row order)."
    )


def _mean(values: Any) -> float | None:
    arr = np.asarray(list(values), dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else None


def _offdiag_mean(m: np.ndarray) -> float | None:
    iu = np.triu_indices(m.shape[0], k=1)
    return _mean(m[iu]) if iu[0].size else None


def evaluate_fidelity(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    max_rows: int | None = 50_000,
    random_state: int = 0,
) -> SectionResult:
    """Fidelity of synthetic data to the real training data, as ``BENCHMARKS.md`` defines it.

    Parameters
    ----------
    real : pandas.DataFrame
        The real *training* data (what the synthesizer saw).
    synthetic : pandas.DataFrame
        Synthetic data with the real columns (extra columns are skipped).
    holdout : pandas.DataFrame, optional
        Real data the synthesizer never saw. When given, every headline figure also gets its
        ``reference``: the same figure for real holdout vs real train (the ceiling), and the
        accuracy compares a holdout-sized sample of the synthetic data.
    max_rows : int or None
        Each frame is cut to at most this many rows before computing (None: use all rows).
    random_state : int
        Keys the row draws; the draw depends on row content, never on row order.

    Returns
    -------
    SectionResult
        ``name="fidelity"``. Metrics ``kl_max``, ``kl_mean``, ``accuracy``,
        ``accuracy_univariate``, ``accuracy_bivariate``, ``shapes``, ``pairs``,
        ``missing_rate_max_diff``, ``categories_missed``, ``categories_invented_count``; tables
        ``columns`` (one row per column) and ``pairs`` (one row per column pair); ``extra``
        with ``distributions`` (per-column plot data), ``association_real`` /
        ``association_synthetic`` (all columns: Pearson, Cramér's V, correlation ratio) and
        ``correlation_real`` / ``correlation_synthetic`` (numeric Pearson) as DataFrames.

    Raises
    ------
    DataError
        From :func:`~synthcust.evaluation.common.align` (an empty frame, synthetic data lacking
        real columns, ...), or when no column can be compared.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    >>> res = evaluate_fidelity(real, real.sample(frac=1, random_state=1))
    >>> round(res.metric("accuracy").value, 6), round(res.metric("pairs").value, 6)
    (1.0, 1.0)
    """
    if max_rows is not None and max_rows < 1:
        raise DataError(f"max_rows must be a positive number of rows or None, got {max_rows}")
    al = align(real, synthetic, holdout)
    skipped = list(al.skipped)
    if not al.columns:
        raise DataError(
            "no column can be compared between the real and synthetic data: " + "; ".join(skipped)
        )
    r = subsample(al.real, max_rows, random_state)
    s = subsample(al.synthetic, max_rows, random_state)
    h = None if al.holdout is None else subsample(al.holdout, max_rows, random_state)
    sizes = {"real train": (len(r), len(al.real)), "synthetic": (len(s), len(al.synthetic))}
    frames = [r, s]
    names = ["real", "synthetic"]
    acc_frame, ref = 1, None
    if h is not None:
        sizes["holdout"] = (len(h), len(al.holdout))
        frames.append(h)
        names.append("holdout")
        ref = 2
        if len(s) > len(h):
            # MOSTLY AI compares a holdout-sized synthetic sample, so that sampling noise
            # weighs on the synthetic figure as it does on the ceiling.
            frames.append(s.iloc[np.sort(hash_order(s, random_state)[: len(h)])])
            acc_frame = 3
    rows_note = _rows_note(sizes, max_rows, random_state)
    cols = prepare_columns(frames, al.numeric, al.categorical)
    others = [1] if ref is None else [1, ref]

    # per-column figures
    table = pd.DataFrame(index=pd.Index([c.name for c in cols], name="column"))
    table["kind"] = [c.kind for c in cols]
    for f, name in zip(others, names[1:], strict=True):
        suffix = "" if f == 1 else f"_{name}"
        kl = {}
        for c in cols:
            try:
                kl[c.name] = kl_per_column(frames[0], frames[f], columns=[c.name])[c.name]
            except DataError as err:
                kl[c.name] = np.nan
                if f == 1:
                    skipped.append(f"column {c.name!r}: KL not computed ({err})")
        table[f"kl{suffix}"] = pd.Series(kl)
    acc_codes = [c.codes(_ACC_BINS, top=_ACC_TOP) for c in cols]
    acc_others = [acc_frame] if ref is None else [acc_frame, ref]
    acc = pairwise_tvd([a[0] for a in acc_codes], [a[1] for a in acc_codes], acc_others)
    table["accuracy"] = np.diag(acc[acc_frame])
    if ref is not None:
        table["accuracy_holdout"] = np.diag(acc[ref])
    empty_synth = [c.name for c in cols if not (~c.missing(1)).any()]
    for f, name in zip(others, names[1:], strict=True):
        suffix = "" if f == 1 else f"_{name}"
        table[f"shape{suffix}"] = [shape_score(c, f) for c in cols]
    table["shape_metric"] = ["KSComplement" if c.is_numeric else "TVComplement" for c in cols]
    for f, name in enumerate(names):
        table[f"missing_{'synth' if name == 'synthetic' else name}"] = [
            float(c.missing(f).mean()) for c in cols
        ]
    cat_cols = [c for c in cols if not c.is_numeric]
    cov = {f: {c.name: coverage(c, f) for c in cat_cols} for f in others}
    cov_keys = [
        "categories_real",
        "categories_missed",
        "categories_missed_examples",
        "categories_invented",
        "categories_invented_examples",
    ]
    for key in cov_keys:
        table[key] = pd.Series({n: v[key] for n, v in cov[1].items()}, dtype=object)
    if ref is not None:
        for key in ("categories_missed", "categories_invented"):
            table[f"{key}_holdout"] = pd.Series(
                {n: v[key] for n, v in cov[ref].items()}, dtype=object
            )

    trends = pair_trends(cols, others, names, bins=_ACC_BINS)

    # headline metrics
    def reference(values: Any) -> float | None:
        return None if ref is None else values

    kl_vals = table["kl"].dropna()
    kl_ref = None if ref is None else table["kl_holdout"].dropna()
    kl_max = float(kl_vals.max()) if len(kl_vals) else None
    failing = kl_vals[kl_vals >= KL_THRESHOLD].sort_values(ascending=False)
    kl_note = (
        f"Columns at or above {KL_THRESHOLD}: {', '.join(map(str, failing.index))}."
        if len(failing)
        else ""
    )
    uni = _mean(np.diag(acc[acc_frame]))
    bi = _offdiag_mean(acc[acc_frame])
    uni_ref = None if ref is None else _mean(np.diag(acc[ref]))
    bi_ref = None if ref is None else _offdiag_mean(acc[ref])

    def combine(u: float | None, b: float | None) -> float | None:
        return u if b is None else (None if u is None else (u + b) / 2)

    acc_note_parts = []
    if acc_frame == 3:
        acc_note_parts.append(
            f"Synthetic data cut to the holdout's {len(h):,} rows (of {len(s):,}) for this figure."
        )
    if bi is None:
        acc_note_parts.append("Only one column: accuracy is the univariate figure.")
    acc_note = " ".join([*acc_note_parts, rows_note]).strip()
    pairs_tab = trends.table
    strong = (
        np.where(
            pairs_tab["kind"] == "numeric-numeric",
            pairs_tab["real_strength"] > _STRONG_R,
            pairs_tab["real_strength"] > _STRONG_V,
        )
        if len(pairs_tab)
        else np.zeros(0, dtype=bool)
    )
    strong = pd.Series(strong, index=pairs_tab.index, dtype=bool)
    shapes = _mean(table["shape"])
    shapes_ref = None if ref is None else _mean(table["shape_holdout"])
    pairs_val = _mean(pairs_tab["score"]) if len(pairs_tab) else None
    pairs_ref = None if ref is None or not len(pairs_tab) else _mean(pairs_tab["score_holdout"])
    miss_diff = (table["missing_synth"] - table["missing_real"]).abs()
    miss_ref = None if ref is None else (table["missing_holdout"] - table["missing_real"]).abs()
    cat_missed = _mean(table.loc[[c.name for c in cat_cols], "categories_missed"])
    cat_missed_ref = (
        None
        if ref is None or not cat_cols
        else _mean(table.loc[[c.name for c in cat_cols], "categories_missed_holdout"])
    )
    invented = int(sum(v["categories_invented"] for v in cov[1].values()))
    invented_ref = (
        None if ref is None else int(sum(v["categories_invented"] for v in cov[ref].values()))
    )
    shapes_note = (
        f"No non-missing synthetic value in {', '.join(map(repr, empty_synth))}: shape 0."
        if empty_synth
        else ""
    )
    ref_text = " Reference: the same figure for real holdout vs real train (the ceiling)."
    acc_method = (
        "MOSTLY AI accuracy: mean of univariate and bivariate 1 - TVD. Numeric and datetime "
        f"columns in {_ACC_BINS} quantile bins of the real train data (duplicate edges merged), "
        f"categoricals as their {_ACC_TOP} most frequent real categories + '(other)', missing "
        "values a bin of their own; univariate = mean over columns of 1 - TVD, bivariate = mean "
        "over all column pairs of 1 - TVD of the joint binned distribution."
    )
    metrics = [
        Metric(
            key="kl_max",
            label="Max per-column KL divergence",
            value=kl_max,
            reference=None if kl_ref is None or not len(kl_ref) else float(kl_ref.max()),
            threshold=KL_THRESHOLD,
            better="lower",
            status="info" if kl_max is None else ("pass" if kl_max < KL_THRESHOLD else "fail"),
            method=_METHOD.format(bins=20, eps=1e-6).capitalize()
            + f"; the largest over columns. Bar: every column below {KL_THRESHOLD}.",
            note=" ".join(p for p in (kl_note, rows_note) if p),
        ),
        Metric(
            key="kl_mean",
            label="Mean per-column KL divergence",
            value=_mean(kl_vals),
            reference=None if kl_ref is None else _mean(kl_ref),
            better="lower",
            method=_METHOD.format(bins=20, eps=1e-6).capitalize() + "; the mean over columns.",
            note=rows_note,
        ),
        Metric(
            key="accuracy",
            label="Accuracy (1 - TVD)",
            value=combine(uni, bi),
            reference=reference(combine(uni_ref, bi_ref)),
            method=acc_method,
            note=acc_note,
        ),
        Metric(
            key="accuracy_univariate",
            label="Univariate accuracy (1 - TVD)",
            value=uni,
            reference=reference(uni_ref),
            method="Mean over columns of 1 - TVD of the binned column (binning as for accuracy).",
            note=acc_note,
        ),
        Metric(
            key="accuracy_bivariate",
            label="Bivariate accuracy (1 - TVD)",
            value=bi,
            reference=reference(bi_ref),
            method="Mean over all column pairs of 1 - TVD of the joint binned distribution "
            "(binning as for accuracy).",
            note=acc_note,
        ),
        Metric(
            key="shapes",
            label="Column shapes",
            value=shapes,
            reference=reference(shapes_ref),
            method="Mean over columns of 1 - KS statistic (numeric and datetime columns) or "
            "1 - TVD of category shares (categoricals), over non-missing values: SDMetrics' "
            "KSComplement / TVComplement.",
            note=" ".join(p for p in (shapes_note, rows_note) if p),
        ),
        Metric(
            key="pairs",
            label="Column pair trends",
            value=pairs_val,
            reference=reference(pairs_ref),
            method="Mean over all column pairs: numeric pairs 1 - |r_real - r_synthetic| / 2 on "
            "Pearson r (pairwise-complete rows); other pairs contingency similarity, 1 - TVD of "
            f"the joint distribution with numeric columns in {_ACC_BINS} real-quantile bins and "
            "every category (missing values a bin of their own): SDMetrics' Column Pair Trends.",
            note=rows_note if len(pairs_tab) else "Only one column: no pairs.",
        ),
        Metric(
            key="pairs_associated",
            label="Column pair trends, related pairs",
            value=_mean(pairs_tab.loc[strong, "score"]) if strong.any() else None,
            reference=reference(
                _mean(pairs_tab.loc[strong, "score_holdout"])
                if strong.any() and "score_holdout" in pairs_tab
                else None
            ),
            method="As column pair trends, but only over the pairs that are related in the real "
            f"data: |Pearson r| > {_STRONG_R} for numeric pairs, Cramér's V > {_STRONG_V} of the "
            "binned contingency table for the others. SDMetrics (>= 0.32) reports this subset as "
            "its Column Pair Trends, so this is the figure to compare with SDV's; the all-pairs "
            "figure is higher because unrelated pairs are easy to reproduce.",
            note=f"{int(strong.sum())} of {len(pairs_tab)} pairs are related."
            if len(pairs_tab)
            else "Only one column: no pairs.",
        ),
        Metric(
            key="missing_rate_max_diff",
            label="Max missing-rate difference",
            value=float(miss_diff.max()),
            reference=reference(None if miss_ref is None else float(miss_ref.max())),
            better="lower",
            method="Largest absolute difference over columns between the share of missing "
            "values in the real and the synthetic data.",
            note=rows_note,
        ),
        Metric(
            key="categories_missed",
            label="Real categories never generated",
            value=cat_missed,
            reference=reference(cat_missed_ref),
            better="lower",
            method="Mean over categorical columns of the share of real categories (missing "
            "excluded) that the synthetic data never produces.",
            note=rows_note if cat_cols else "No categorical column.",
        ),
        Metric(
            key="categories_invented_count",
            label="Invented categories",
            value=float(invented),
            reference=reference(None if invented_ref is None else float(invented_ref)),
            better="lower",
            method="Number of distinct categories, summed over categorical columns, that the "
            "synthetic data has and the real train data never has.",
            note=rows_note if cat_cols else "No categorical column.",
        ),
    ]
    if ref is not None:
        # Only the accuracy compares equal sample sizes; elsewhere say how the ceiling was taken.
        size_note = (
            f"The reference uses the holdout's {len(h):,} rows against {len(s):,} synthetic rows;"
            " fewer rows lower a figure by sampling noise alone, so the synthetic figure can "
            "exceed the ceiling."
            if len(s) != len(h)
            else ""
        )
        metrics = [
            replace(
                m,
                method=m.method + ref_text,
                note=m.note
                if m.key.startswith("accuracy")
                else " ".join(p for p in (m.note, size_note) if p),
            )
            if m.reference is not None
            else m
            for m in metrics
        ]
    extra = {
        "distributions": {c.name: distribution(c, names) for c in cols},
        "association_real": trends.association[0],
        "association_synthetic": trends.association[1],
        "correlation_real": trends.correlation[0],
        "correlation_synthetic": trends.correlation[1],
    }
    if ref is not None:
        extra["association_holdout"] = trends.association[ref]
        extra["correlation_holdout"] = trends.correlation[ref]
    return SectionResult(
        name="fidelity",
        metrics=metrics,
        tables={"columns": table, "pairs": pairs_tab},
        skipped=skipped,
        extra=extra,
        method=(
            "Real train vs synthetic"
            + (", and real train vs real holdout as the ceiling" if ref is not None else "")
            + ": per-column KL, accuracy (1 - TVD), column shapes, column pair trends, "
            "missing-value rates and category coverage (see each metric)."
        ),
    )
