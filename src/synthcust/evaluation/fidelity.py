"""Fidelity metrics: how closely synthetic columns follow the real ones.

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

The seed study's bar is KL < 0.12 on every column (:func:`kl_summary`). The KL functions
live in :mod:`synthcust.evaluation.kl` and are importable from here too.

:func:`evaluate_fidelity` is the whole fidelity section of a report: KL, MOSTLY AI-style
accuracy (1 - TVD of binned univariate and bivariate distributions), SDMetrics-style column
shapes and column pair trends, missing-value rates and category coverage, each with the same
figure for real holdout vs real train as the ceiling when a holdout is given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
from synthcust.evaluation.kl import (
    KL_METHOD,
    KL_THRESHOLD,
    KLSummary,
    kl_divergence,
    kl_per_column,
    kl_summary,
)
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

#: Real-relation thresholds of SDMetrics' Column Pair Trends (sdmetrics >= 0.32).
_STRONG_R, _STRONG_V = 0.5, 0.3
#: Bins of numeric columns and top categories of categorical ones, for accuracy (MOSTLY AI).
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
    """Fidelity of synthetic data to the real training data (``docs/methods/metrics.md#fidelity``).

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
    fr = _prepare(real, synthetic, holdout, max_rows, random_state)
    table, acc, cov = _column_table(fr)
    trends = pair_trends(fr.cols, fr.others, fr.names, bins=_ACC_BINS)
    metrics = [
        *_kl_metrics(fr, table),
        *_accuracy_metrics(fr, acc),
        *_shape_pair_metrics(fr, table, trends.table),
        *_coverage_metrics(fr, table, cov),
    ]
    if fr.ref is not None:
        metrics = _with_reference_notes(fr, metrics)
    ref = fr.ref
    extra = {
        "distributions": {c.name: distribution(c, fr.names) for c in fr.cols},
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
        tables={"columns": table, "pairs": trends.table},
        skipped=fr.skipped,
        extra=extra,
        method=(
            "Real train vs synthetic"
            + (", and real train vs real holdout as the ceiling" if ref is not None else "")
            + ": per-column KL, accuracy (1 - TVD), column shapes, column pair trends, "
            "missing-value rates and category coverage (see each metric)."
        ),
    )


# --------------------------------------------------------------------------- the frames
@dataclass
class _Frames:
    """The compared frames (0 real train, 1 synthetic, [2 holdout, [3 holdout-sized synthetic]])
    and what every figure needs to know about them."""

    frames: list[pd.DataFrame]
    names: list[str]
    cols: list[Any]  # binning.PreparedColumn of every compared column
    acc_frame: int  # the frame the accuracy compares (1, or 3: holdout-sized synthetic)
    ref: int | None  # the holdout frame, when given
    rows_note: str
    skipped: list[str]
    n_synth: int
    n_hold: int | None

    @property
    def others(self) -> list[int]:
        return [1] if self.ref is None else [1, self.ref]

    def reference(self, value: Any) -> Any:
        return None if self.ref is None else value


def _prepare(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    max_rows: int | None,
    random_state: int,
) -> _Frames:
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
    return _Frames(
        frames=frames,
        names=names,
        cols=prepare_columns(frames, al.numeric, al.categorical),
        acc_frame=acc_frame,
        ref=ref,
        rows_note=_rows_note(sizes, max_rows, random_state),
        skipped=skipped,
        n_synth=len(s),
        n_hold=None if h is None else len(h),
    )


# ------------------------------------------------------------------- per-column figures
def _column_table(fr: _Frames) -> tuple[pd.DataFrame, np.ndarray, dict[int, dict[str, Any]]]:
    """One row per column (KL, accuracy, shape, missing rates, category coverage), the
    accuracy matrices and the category coverage per compared frame."""
    cols, frames, names, ref = fr.cols, fr.frames, fr.names, fr.ref
    table = pd.DataFrame(index=pd.Index([c.name for c in cols], name="column"))
    table["kind"] = [c.kind for c in cols]
    for f, name in zip(fr.others, names[1:], strict=True):
        suffix = "" if f == 1 else f"_{name}"
        kl = {}
        for c in cols:
            try:
                kl[c.name] = kl_per_column(frames[0], frames[f], columns=[c.name])[c.name]
            except DataError as err:
                kl[c.name] = np.nan
                if f == 1:
                    fr.skipped.append(f"column {c.name!r}: KL not computed ({err})")
        table[f"kl{suffix}"] = pd.Series(kl)
    acc_codes = [c.codes(_ACC_BINS, top=_ACC_TOP) for c in cols]
    acc_others = [fr.acc_frame] if ref is None else [fr.acc_frame, ref]
    acc = pairwise_tvd([a[0] for a in acc_codes], [a[1] for a in acc_codes], acc_others)
    table["accuracy"] = np.diag(acc[fr.acc_frame])
    if ref is not None:
        table["accuracy_holdout"] = np.diag(acc[ref])
    for f, name in zip(fr.others, names[1:], strict=True):
        suffix = "" if f == 1 else f"_{name}"
        table[f"shape{suffix}"] = [shape_score(c, f) for c in cols]
    table["shape_metric"] = ["KSComplement" if c.is_numeric else "TVComplement" for c in cols]
    for f, name in enumerate(names):
        table[f"missing_{'synth' if name == 'synthetic' else name}"] = [
            float(c.missing(f).mean()) for c in cols
        ]
    cat_cols = [c for c in cols if not c.is_numeric]
    cov = {f: {c.name: coverage(c, f) for c in cat_cols} for f in fr.others}
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
    return table, acc, cov


# ---------------------------------------------------------------------- headline metrics
def _kl_metrics(fr: _Frames, table: pd.DataFrame) -> list[Metric]:
    kl_vals = table["kl"].dropna()
    kl_ref = None if fr.ref is None else table["kl_holdout"].dropna()
    kl_max = float(kl_vals.max()) if len(kl_vals) else None
    failing = kl_vals[kl_vals >= KL_THRESHOLD].sort_values(ascending=False)
    kl_note = (
        f"Columns at or above {KL_THRESHOLD}: {', '.join(map(str, failing.index))}."
        if len(failing)
        else ""
    )
    return [
        Metric(
            key="kl_max",
            label="Max per-column KL divergence",
            value=kl_max,
            reference=None if kl_ref is None or not len(kl_ref) else float(kl_ref.max()),
            threshold=KL_THRESHOLD,
            better="lower",
            status="info" if kl_max is None else ("pass" if kl_max < KL_THRESHOLD else "fail"),
            method=KL_METHOD.format(bins=20, eps=1e-6).capitalize()
            + f"; the largest over columns. Bar: every column below {KL_THRESHOLD}.",
            note=" ".join(p for p in (kl_note, fr.rows_note) if p),
        ),
        Metric(
            key="kl_mean",
            label="Mean per-column KL divergence",
            value=_mean(kl_vals),
            reference=None if kl_ref is None else _mean(kl_ref),
            better="lower",
            method=KL_METHOD.format(bins=20, eps=1e-6).capitalize() + "; the mean over columns.",
            note=fr.rows_note,
        ),
    ]


def _combine(u: float | None, b: float | None) -> float | None:
    return u if b is None else (None if u is None else (u + b) / 2)


def _accuracy_metrics(fr: _Frames, acc: np.ndarray) -> list[Metric]:
    ref = fr.ref
    uni = _mean(np.diag(acc[fr.acc_frame]))
    bi = _offdiag_mean(acc[fr.acc_frame])
    uni_ref = None if ref is None else _mean(np.diag(acc[ref]))
    bi_ref = None if ref is None else _offdiag_mean(acc[ref])
    acc_note_parts = []
    if fr.acc_frame == 3:
        acc_note_parts.append(
            f"Synthetic data cut to the holdout's {fr.n_hold:,} rows (of {fr.n_synth:,}) for "
            "this figure."
        )
    if bi is None:
        acc_note_parts.append("Only one column: accuracy is the univariate figure.")
    acc_note = " ".join([*acc_note_parts, fr.rows_note]).strip()
    acc_method = (
        "MOSTLY AI accuracy: mean of univariate and bivariate 1 - TVD. Numeric and datetime "
        f"columns in {_ACC_BINS} quantile bins of the real train data (duplicate edges merged), "
        f"categoricals as their {_ACC_TOP} most frequent real categories + '(other)', missing "
        "values a bin of their own; univariate = mean over columns of 1 - TVD, bivariate = mean "
        "over all column pairs of 1 - TVD of the joint binned distribution."
    )
    return [
        Metric(
            key="accuracy",
            label="Accuracy (1 - TVD)",
            value=_combine(uni, bi),
            reference=fr.reference(_combine(uni_ref, bi_ref)),
            method=acc_method,
            note=acc_note,
        ),
        Metric(
            key="accuracy_univariate",
            label="Univariate accuracy (1 - TVD)",
            value=uni,
            reference=fr.reference(uni_ref),
            method="Mean over columns of 1 - TVD of the binned column (binning as for accuracy).",
            note=acc_note,
        ),
        Metric(
            key="accuracy_bivariate",
            label="Bivariate accuracy (1 - TVD)",
            value=bi,
            reference=fr.reference(bi_ref),
            method="Mean over all column pairs of 1 - TVD of the joint binned distribution "
            "(binning as for accuracy).",
            note=acc_note,
        ),
    ]


def _shape_pair_metrics(fr: _Frames, table: pd.DataFrame, pairs_tab: pd.DataFrame) -> list[Metric]:
    ref = fr.ref
    empty_synth = [c.name for c in fr.cols if not (~c.missing(1)).any()]
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
    shapes_note = (
        f"No non-missing synthetic value in {', '.join(map(repr, empty_synth))}: shape 0."
        if empty_synth
        else ""
    )
    return [
        Metric(
            key="shapes",
            label="Column shapes",
            value=shapes,
            reference=fr.reference(shapes_ref),
            method="Mean over columns of 1 - KS statistic (numeric and datetime columns) or "
            "1 - TVD of category shares (categoricals), over non-missing values: SDMetrics' "
            "KSComplement / TVComplement.",
            note=" ".join(p for p in (shapes_note, fr.rows_note) if p),
        ),
        Metric(
            key="pairs",
            label="Column pair trends",
            value=pairs_val,
            reference=fr.reference(pairs_ref),
            method="Mean over all column pairs: numeric pairs 1 - |r_real - r_synthetic| / 2 on "
            "Pearson r (pairwise-complete rows); other pairs contingency similarity, 1 - TVD of "
            f"the joint distribution with numeric columns in {_ACC_BINS} real-quantile bins and "
            "every category (missing values a bin of their own): SDMetrics' Column Pair Trends.",
            note=fr.rows_note if len(pairs_tab) else "Only one column: no pairs.",
        ),
        Metric(
            key="pairs_associated",
            label="Column pair trends, related pairs",
            value=_mean(pairs_tab.loc[strong, "score"]) if strong.any() else None,
            reference=fr.reference(
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
    ]


def _coverage_metrics(
    fr: _Frames, table: pd.DataFrame, cov: dict[int, dict[str, Any]]
) -> list[Metric]:
    ref = fr.ref
    cat_cols = [c.name for c in fr.cols if not c.is_numeric]
    miss_diff = (table["missing_synth"] - table["missing_real"]).abs()
    miss_ref = None if ref is None else (table["missing_holdout"] - table["missing_real"]).abs()
    cat_missed = _mean(table.loc[cat_cols, "categories_missed"])
    cat_missed_ref = (
        None
        if ref is None or not cat_cols
        else _mean(table.loc[cat_cols, "categories_missed_holdout"])
    )
    invented = int(sum(v["categories_invented"] for v in cov[1].values()))
    invented_ref = (
        None if ref is None else int(sum(v["categories_invented"] for v in cov[ref].values()))
    )
    return [
        Metric(
            key="missing_rate_max_diff",
            label="Max missing-rate difference",
            value=float(miss_diff.max()),
            reference=fr.reference(None if miss_ref is None else float(miss_ref.max())),
            better="lower",
            method="Largest absolute difference over columns between the share of missing "
            "values in the real and the synthetic data.",
            note=fr.rows_note,
        ),
        Metric(
            key="categories_missed",
            label="Real categories never generated",
            value=cat_missed,
            reference=fr.reference(cat_missed_ref),
            better="lower",
            method="Mean over categorical columns of the share of real categories (missing "
            "excluded) that the synthetic data never produces.",
            note=fr.rows_note if cat_cols else "No categorical column.",
        ),
        Metric(
            key="categories_invented_count",
            label="Invented categories",
            value=float(invented),
            reference=fr.reference(None if invented_ref is None else float(invented_ref)),
            better="lower",
            method="Number of distinct categories, summed over categorical columns, that the "
            "synthetic data has and the real train data never has.",
            note=fr.rows_note if cat_cols else "No categorical column.",
        ),
    ]


def _with_reference_notes(fr: _Frames, metrics: list[Metric]) -> list[Metric]:
    """Say how the real-vs-real ceiling was taken on every metric that has one."""
    ref_text = " Reference: the same figure for real holdout vs real train (the ceiling)."
    # Only the accuracy compares equal sample sizes; elsewhere say how the ceiling was taken.
    size_note = (
        f"The reference uses the holdout's {fr.n_hold:,} rows against {fr.n_synth:,} synthetic "
        "rows; fewer rows lower a figure by sampling noise alone, so the synthetic figure can "
        "exceed the ceiling."
        if fr.n_synth != fr.n_hold
        else ""
    )
    return [
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
