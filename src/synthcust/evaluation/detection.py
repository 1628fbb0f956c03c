"""Detection (C2ST): can a classifier tell synthetic rows from real held-out rows?

Exactly as ``docs/methods/metrics.md#detection-auc`` defines it: the real holdout is labelled 1 and
an equal number of
synthetic rows 0 (the larger side is subsampled; both are capped at ``max_rows``); the figure is
the 5-fold stratified cross-validated ROC AUC (mean over folds) of
``HistGradientBoostingClassifier`` with native categorical support. 0.5 means the classifier
cannot tell them apart; 1.0 means every synthetic row is recognisable.

Status bands of ``detection_auc`` (:data:`PASS_AUC`, :data:`WARN_AUC`):

* **pass** AUC <= 0.6: hardly distinguishable;
* **warn** 0.6 < AUC <= 0.8: distinguishable with effort; look at the drivers;
* **fail** AUC > 0.8: easy to tell apart.

What gives the data away is reported two ways, in the ``drivers`` table:

* **importance**: permutation importance (drop in ROC AUC when the column is shuffled) of the
  fold models on their held-out folds, averaged over folds, on at most ``importance_rows`` rows;
* **single_column_auc**: 3-fold CV AUC of a classifier that sees that column alone.

The top three drivers get a plain-language hint in ``extra["hints"]`` (real vs synthetic
quantiles of a numeric column; the category whose share differs most for a categorical one).

Rows are put in a canonical order (by a hash of their content) before any subsampling, so the
result does not depend on the order of the input rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from synthcust.evaluation.common import align, as_numeric
from synthcust.evaluation.modeling import (
    as_text,
    category_levels,
    fit_ready,
    make_classifier,
    model_frame,
    one_thread,
)
from synthcust.evaluation.results import Metric, SectionResult, Status
from synthcust.exceptions import DataError

__all__ = ["PASS_AUC", "WARN_AUC", "detection_status", "evaluate_detection"]

#: ``detection_auc`` at or below this passes.
PASS_AUC = 0.6
#: ``detection_auc`` at or below this (and above :data:`PASS_AUC`) warns; above it fails.
WARN_AUC = 0.8
#: Below this AUC the figure is suspicious (rows shared by both sides), not a pass.
LOW_AUC = 0.4

# a driver gets a hint only when the data can be told apart at all (AUC above _HINT_AUC) and
# the driver is above one of these (below them it is noise of the permutation / the folds)
_HINT_AUC = 0.55
_MIN_IMPORTANCE = 0.01
_MIN_SINGLE_AUC = 0.55

_METHOD = (
    "C2ST: real holdout rows labelled 1, an equal number of synthetic rows labelled 0; "
    "{folds}-fold stratified cross-validated ROC AUC (mean over folds) of "
    "HistGradientBoostingClassifier with native categorical support. 0.5 = indistinguishable; "
    f"pass <= {PASS_AUC}, warn <= {WARN_AUC}, fail above."
)


def detection_status(auc: float | None) -> Status:
    """Pass / warn / fail band of a detection AUC (``info`` when it is missing).

    Examples
    --------
    An AUC well below 0.5 (under ``LOW_AUC``) is a warning too: cross-validation on rows that
    appear on both sides (synthetic rows copied from the holdout) makes the classifier learn
    the reverse of the truth, which is no proof of quality.

    >>> detection_status(0.55), detection_status(0.7), detection_status(0.95)
    ('pass', 'warn', 'fail')
    >>> detection_status(0.2)
    'warn'
    """
    if auc is None or math.isnan(auc):
        return "info"
    if auc < LOW_AUC:
        return "warn"
    if auc <= PASS_AUC:
        return "pass"
    return "warn" if auc <= WARN_AUC else "fail"


def evaluate_detection(
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    folds: int = 5,
    max_rows: int | None = 20_000,
    random_state: int = 0,
    importance_rows: int = 5_000,
    importance_repeats: int = 3,
    single_column_rows: int = 6_000,
) -> SectionResult:
    """Detection AUC (C2ST) of synthetic vs real held-out rows, and what gives them away.

    Parameters
    ----------
    holdout : pandas.DataFrame
        Real rows the synthesizer never saw (its columns decide what is compared).
    synthetic : pandas.DataFrame
        Synthetic rows with (at least) the same columns.
    folds : int
        Cross-validation folds (stratified).
    max_rows : int or None
        Cap on the rows used from each side (``None``: no cap).
    random_state : int
        Seed of subsampling, folds, classifiers and permutations.
    importance_rows : int
        Held-out rows (all folds together) used for permutation importance.
    importance_repeats : int
        Permutations per column.
    single_column_rows : int
        Rows (both sides together) used for the single-column AUCs.

    Returns
    -------
    SectionResult
        ``name="detection"``; metric ``detection_auc``; table ``drivers`` (index ``column``:
        ``kind``, ``importance``, ``importance_sd``, ``rank``, ``single_column_auc``,
        ``single_column_rank``); ``extra``: ``hints``, ``fold_auc``, ``n_per_side``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=400), "c": rng.choice(["a", "b"], 400)})
    >>> fake = pd.DataFrame({"x": rng.normal(3, 1, 400), "c": rng.choice(["a", "b"], 400)})
    >>> res = evaluate_detection(real, fake, folds=3)
    >>> res.metric("detection_auc").status, res.tables["drivers"].index[0]
    ('fail', 'x')
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise DataError(f"folds must be a whole number >= 2, got {folds!r}")
    if max_rows is not None and max_rows < folds:
        raise DataError(f"max_rows must be at least folds ({folds}), got {max_rows}")
    al = align(holdout, synthetic)
    if not al.columns:
        raise DataError(
            "no column can be compared between the holdout and the synthetic data: "
            + "; ".join(al.skipped)
        )
    real_all = _canonical(al.real)
    syn_all = _canonical(al.synthetic)
    n = min(len(real_all), len(syn_all))
    capped = max_rows is not None and n > max_rows
    if capped:
        n = int(max_rows)  # type: ignore[arg-type]
    if n < folds:
        raise DataError(
            f"need at least {folds} rows on each side for {folds}-fold detection; "
            f"got {len(real_all)} real holdout and {len(syn_all)} synthetic rows"
        )
    rng = np.random.default_rng(random_state)
    real = _subsample(real_all, n, rng)
    syn = _subsample(syn_all, n, rng)

    cols = al.columns
    levels = category_levels([real, syn], al.categorical)
    X = model_frame(pd.concat([real, syn], ignore_index=True), al.categorical, levels)
    y = np.r_[np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)]

    with one_thread():
        fold_auc, imp = _cross_validate(
            X, y, folds, random_state, importance_rows, importance_repeats
        )
        single = _single_column_auc(X, y, single_column_rows, random_state)
    auc = float(np.mean(fold_auc))

    drivers = _drivers(cols, al.numeric, imp, single)
    hints = _hints(drivers, real, syn, al.numeric) if auc > _HINT_AUC else []

    notes = _notes(n, len(real_all), len(syn_all), capped, max_rows, fold_auc, auc)
    metric = Metric(
        key="detection_auc",
        label="Detection AUC (C2ST)",
        value=auc,
        threshold=PASS_AUC,
        better="closer_to:0.5",
        status=detection_status(auc),
        method=_METHOD.format(folds=folds),
        note=" ".join(notes),
    )
    return SectionResult(
        name="detection",
        metrics=[metric],
        tables={"drivers": drivers},
        skipped=list(al.skipped),
        extra={
            "hints": hints,
            "fold_auc": [float(a) for a in fold_auc],
            "n_per_side": n,
            "n_real_holdout": len(real_all),
            "n_synthetic": len(syn_all),
            "capped": capped,
        },
        method=(
            _METHOD.format(folds=folds)
            + f" Drivers: permutation importance (mean drop in AUC over {importance_repeats} "
            f"shuffles, on at most {importance_rows:,} held-out rows across the folds) and the "
            f"3-fold AUC of a classifier on each column alone (at most {single_column_rows:,} "
            "rows)."
        ),
    )


def _drivers(cols: list[str], numeric: list[str], imp: np.ndarray, single: dict) -> pd.DataFrame:
    """What gives the synthetic data away: permutation importance and single-column AUC."""
    drivers = pd.DataFrame(
        {
            "kind": ["numeric" if c in numeric else "categorical" for c in cols],
            "importance": imp.mean(axis=0),
            "importance_sd": imp.std(axis=0),
            "single_column_auc": [single[c] for c in cols],
        },
        index=pd.Index(cols, name="column"),
    )
    drivers["rank"] = _rank(drivers["importance"])
    drivers["single_column_rank"] = _rank(drivers["single_column_auc"])
    drivers = drivers.sort_values(["rank", "single_column_rank"], kind="stable")
    drivers = drivers[
        ["kind", "importance", "importance_sd", "rank", "single_column_auc", "single_column_rank"]
    ]
    return drivers


def _notes(
    n: int,
    n_real: int,
    n_syn: int,
    capped: bool,
    max_rows: int | None,
    fold_auc: list[float],
    auc: float,
) -> list[str]:
    """The detection metric's note: rows used, fold spread, and a warning for AUC << 0.5."""
    notes = [f"{n:,} rows per side"]
    if n_real != n_syn or capped:
        notes.append(
            f"(of {n_real:,} real holdout and {n_syn:,} synthetic rows"
            + (f"; capped at max_rows={max_rows:,}" if capped else "; larger side subsampled")
            + ")"
        )
    notes.append(f"fold AUCs {min(fold_auc):.3f}-{max(fold_auc):.3f}")
    if auc < LOW_AUC:
        notes.append(
            "AUC far below 0.5 is suspicious, not good: it happens when synthetic rows repeat "
            "the real holdout rows (a copy of the yardstick); check where the synthetic data "
            "came from"
        )
    return notes


# ------------------------------------------------------------------------------- internals
def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by a hash of their content: results do not depend on the input row order."""
    h = pd.util.hash_pandas_object(df, index=False).to_numpy()
    return df.iloc[np.argsort(h, kind="stable")].reset_index(drop=True)


def _subsample(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(df) <= n:
        return df
    idx = np.sort(rng.choice(len(df), size=n, replace=False))
    return df.iloc[idx].reset_index(drop=True)


def _cross_validate(
    X: pd.DataFrame,
    y: np.ndarray,
    folds: int,
    random_state: int,
    importance_rows: int,
    repeats: int,
) -> tuple[list[float], np.ndarray]:
    """Fold AUCs, and permutation importances (folds x columns) on the held-out folds."""
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    rng = np.random.default_rng(random_state)
    per_fold = max(2 * repeats, math.ceil(importance_rows / folds))
    aucs: list[float] = []
    imps = []
    for train_idx, test_idx in skf.split(X, y):
        clf = make_classifier(random_state).fit(fit_ready(X.iloc[train_idx]), y[train_idx])
        Xt, yt = X.iloc[test_idx], y[test_idx]
        aucs.append(float(roc_auc_score(yt, clf.predict_proba(Xt)[:, 1])))
        if len(test_idx) > per_fold:
            keep = _stratified_pick(yt, per_fold, rng)
            Xt, yt = Xt.iloc[keep], yt[keep]
        r = permutation_importance(
            clf, Xt, yt, scoring="roc_auc", n_repeats=repeats, random_state=random_state
        )
        imps.append(r.importances_mean)
    return aucs, np.vstack(imps)


def _stratified_pick(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """About ``k`` positions of ``y`` keeping the class shares (at least one per class)."""
    out = []
    for cls in np.unique(y):
        pos = np.flatnonzero(y == cls)
        m = max(1, round(k * len(pos) / len(y)))
        out.append(rng.choice(pos, size=min(m, len(pos)), replace=False))
    return np.sort(np.concatenate(out))


def _single_column_auc(
    X: pd.DataFrame, y: np.ndarray, max_rows: int, random_state: int
) -> dict[str, float]:
    """3-fold CV AUC of a classifier that sees one column only, for each column."""
    rng = np.random.default_rng(random_state + 1)
    if len(y) > max_rows:
        keep = _stratified_pick(y, max_rows, rng)
        X, y = X.iloc[keep].reset_index(drop=True), y[keep]
    k = min(3, int(np.bincount(y).min()))
    out: dict[str, float] = {}
    if k < 2:
        return dict.fromkeys(X.columns, float("nan"))
    splits = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state).split(X, y))
    for c in X.columns:
        Xc = X[[c]]
        aucs = []
        for tr, te in splits:
            clf = make_classifier(random_state)
            # one feature needs neither many nor deep trees; only the ranking of its bins counts
            clf.set_params(max_iter=20, learning_rate=0.3, max_leaf_nodes=15)
            clf.fit(fit_ready(Xc.iloc[tr]), y[tr])
            aucs.append(roc_auc_score(y[te], clf.predict_proba(Xc.iloc[te])[:, 1]))
        out[c] = float(np.mean(aucs))
    return out


def _rank(s: pd.Series) -> np.ndarray:
    """1 = largest; ties share the lower rank; missing last."""
    return s.rank(ascending=False, method="min", na_option="bottom").astype(int).to_numpy()


def _hints(
    drivers: pd.DataFrame, real: pd.DataFrame, syn: pd.DataFrame, numeric: list[str]
) -> list[str]:
    hints = []
    for c, row in drivers.head(3).iterrows():
        imp, single = row["importance"], row["single_column_auc"]
        if not (imp >= _MIN_IMPORTANCE or single >= _MIN_SINGLE_AUC):
            continue
        head = f"{c!r} (AUC drop {imp:.3f} when shuffled; alone it scores AUC {single:.2f}): "
        body = _numeric_hint(real[c], syn[c]) if c in numeric else _category_hint(real[c], syn[c])
        hints.append(head + body)
    return hints


def _fmt(v: float, is_dt: bool) -> str:
    if math.isnan(v):
        return "n/a"
    if is_dt:
        return str(pd.Timestamp(v, unit="s").round("s"))
    return f"{v:,.4g}"


def _numeric_hint(r: pd.Series, s: pd.Series) -> str:
    is_dt = pd.api.types.is_datetime64_any_dtype(r.dtype)
    rv, sv = as_numeric(r), as_numeric(s)
    rm, sm = np.isnan(rv).mean(), np.isnan(sv).mean()
    rv, sv = rv[~np.isnan(rv)], sv[~np.isnan(sv)]
    parts = []
    if len(rv) and len(sv):
        qs = [0.1, 0.5, 0.9]
        rq, sq = np.quantile(rv, qs), np.quantile(sv, qs)
        parts.append(
            "10th/50th/90th percentiles real "
            + "/".join(_fmt(v, is_dt) for v in rq)
            + " vs synthetic "
            + "/".join(_fmt(v, is_dt) for v in sq)
        )
        rd, sd = len(np.unique(rv)), len(np.unique(sv))
        # the same number of rows on both sides, so distinct counts compare directly
        if max(rd, sd) > 2 * min(rd, sd):
            parts.append(f"{rd:,} distinct values in the real rows vs {sd:,} in the synthetic")
        rint, sint = np.mean(rv == np.round(rv)), np.mean(sv == np.round(sv))
        if abs(rint - sint) > 0.2:
            parts.append(f"whole numbers: {rint:.0%} real vs {sint:.0%} synthetic")
    if abs(rm - sm) > 0.01:
        parts.append(f"missing {rm:.1%} real vs {sm:.1%} synthetic")
    return "; ".join(parts) if parts else "distributions look alike; it matters in combination"


def _category_hint(r: pd.Series, s: pd.Series) -> str:
    rs = as_text(r).fillna("(missing)").value_counts(normalize=True)
    ss = as_text(s).fillna("(missing)").value_counts(normalize=True)
    both = pd.concat([rs.rename("real"), ss.rename("synthetic")], axis=1).fillna(0.0)
    diff = (both["real"] - both["synthetic"]).abs()
    top = diff.sort_index().idxmax()  # sort first: ties broken by name, not row order
    rp, sp = both.loc[top, "real"], both.loc[top, "synthetic"]
    msg = f"{top!r} is {rp:.1%} of real rows vs {sp:.1%} of synthetic"
    only_syn = both.index[(both["real"] == 0) & (both["synthetic"] > 0)]
    if len(only_syn):
        msg += f"; {len(only_syn)} categories appear only in the synthetic rows"
    return msg
