"""The augment-study's machinery: classifiers, the study's data, the runner that builds each
method's training rows and scores the classifier on real rows only, and the bootstrap.

See :mod:`synthcust.studies.augment` for the protocols.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthcust.evaluation.modeling import (
    category_levels,
    class_labels,
    fit_ready,
    is_classification,
    model_frame,
    one_thread,
    proba_for,
)
from synthcust.exceptions import DataError
from synthcust.synthesizers.oversampling.oversample import (
    SMOTE_KINDS,
    build_synthesizer,
    check_target,
    fit_per_class,
    generative_rows,
    layout,
    smote_rows,
    target_counts,
)

__all__ = [
    "Runner",
    "StudyData",
    "available_classifiers",
    "bootstrap_auc_f1",
    "f1_at",
    "make_classifier",
    "prepare",
    "score_rows",
    "t_ci",
]


# --------------------------------------------------------------------------- bootstrap
def bootstrap_auc_f1(
    y: np.ndarray, P: np.ndarray, W: np.ndarray, threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """AUC and F1 of many score vectors under many row weightings, vectorised.

    Parameters
    ----------
    y : bool array (n,)
        True for the positive (minority) class.
    P : float array (S, n)
        Scores (probabilities of the positive class), one row per model.
    W : array (B, n)
        Row weights (bootstrap multiplicities; a row of ones is the plain figure).

    Returns
    -------
    (auc, f1) : arrays (S, B)
        Weighted Mann-Whitney AUC (ties count one half) and F1 at ``threshold``.

    Examples
    --------
    >>> y = np.array([False, False, True, True])
    >>> auc, f1 = bootstrap_auc_f1(y, np.array([[0.1, 0.6, 0.4, 0.9]]), np.ones((1, 4)))
    >>> float(auc[0, 0]), float(f1[0, 0])
    (0.75, 0.5)
    """
    y = np.asarray(y, dtype=bool)
    W = np.asarray(W, dtype=float)
    S = P.shape[0]
    auc = np.empty((S, W.shape[0]))
    for s in range(S):
        order = np.argsort(P[s], kind="stable")
        p = P[s, order]
        starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
        Ws = W[:, order]
        pos = np.add.reduceat(Ws * y[order], starts, axis=1)
        neg = np.add.reduceat(Ws * ~y[order], starts, axis=1)
        below = np.cumsum(neg, axis=1) - neg
        num = (pos * (below + 0.5 * neg)).sum(axis=1)
        den = pos.sum(axis=1) * neg.sum(axis=1)
        auc[s] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    pred = np.greater_equal(P, threshold)  # (S, n)
    tp = W @ (pred & y).T.astype(float)  # (B, S)
    fp = W @ (pred & ~y).T.astype(float)
    fn = W @ (~pred & y).T.astype(float)
    den = 2 * tp + fp + fn
    f1 = np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), 0.0)
    return auc, f1.T


def t_ci(d: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``d`` (NaN dropped) with its 95% t-interval ``(mean, low, high)``."""
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return math.nan, math.nan, math.nan
    m = float(d.mean())
    if len(d) < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return m, m - half, m + half


# ------------------------------------------------------------------------------ models
def make_classifier(classifier: str, seed: int, balanced: bool) -> Any:
    """A fresh classifier: ``hgb`` (native categoricals), ``lightgbm`` or ``xgboost``;
    ``balanced`` sets ``class_weight="balanced"``."""
    cw = "balanced" if balanced else None
    if classifier == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            random_state=seed, categorical_features="from_dtype", class_weight=cw
        )
    if classifier == "lightgbm":
        import lightgbm

        return lightgbm.LGBMClassifier(random_state=seed, class_weight=cw, verbose=-1, n_jobs=1)
    if classifier == "xgboost":
        import xgboost

        return _XGB(xgboost.XGBClassifier(enable_categorical=True, random_state=seed, n_jobs=1))
    raise DataError(f"unknown classifier {classifier!r}; use hgb, lightgbm or xgboost")


class _XGB:
    """XGBoost wants integer labels and has no class_weight: labels encoded here."""

    def __init__(self, model: Any):
        self.model = model

    def fit(self, X: pd.DataFrame, y: np.ndarray, sample_weight: Any = None) -> _XGB:
        self.classes_, codes = np.unique(y, return_inverse=True)
        self.model.fit(X, codes, sample_weight=sample_weight)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(X)


def available_classifiers() -> list[str]:
    """``hgb`` always; ``lightgbm`` / ``xgboost`` when importable."""
    import importlib.util

    return ["hgb"] + [m for m in ("lightgbm", "xgboost") if importlib.util.find_spec(m)]


# ------------------------------------------------------------------------------- study
@dataclass
class StudyData:
    """The real features (ids dropped), labels, model frame and column layout of a study."""

    X: pd.DataFrame  # raw features (ids dropped)
    labels: np.ndarray  # class labels as text
    Xm: pd.DataFrame  # model frame of X (levels from the real data)
    cat: list[str]
    levels: dict[str, list[str]]
    layout: Any  # the oversamplers' column layout of X (kinds inferred once)


def prepare(df: pd.DataFrame, target: str, drop: Sequence[str]) -> tuple[StudyData, list[str]]:
    """The study's data from the real table (target checked, ids and ``drop`` left out),
    and notes on what was left out."""
    notes: list[str] = []
    if target not in df.columns:
        raise DataError(f"target {target!r} is not a column; columns: {', '.join(df.columns)}")
    missing = sorted(set(drop) - set(df.columns))
    if missing:
        raise DataError(f"columns to drop {missing} are not in the data")
    y = df[target]
    if y.isna().any():
        notes.append(f"{int(y.isna().sum()):,} rows without a target value left out")
        df = df[y.notna().to_numpy()].reset_index(drop=True)
        y = df[target]
    if not is_classification(y):
        check_target(y, target)  # raises the "looks continuous" error
        raise DataError(f"target {target!r} is not a class label")
    check_target(y, target)
    X = df.drop(columns=[target, *drop]).reset_index(drop=True)
    if drop:
        notes.append(f"columns {list(drop)} dropped as asked")
    lay = layout(X, None)
    if lay.ids:
        notes.append(f"id column(s) {lay.ids} are not features: left out of the study")
        X = X.drop(columns=lay.ids)
    labels = class_labels(y, pd.api.types.is_numeric_dtype(y.dtype)).to_numpy(dtype=object)
    cat = [c for c in X.columns if c not in set(lay.numeric)]
    levels = category_levels([X], cat)
    lay.ids = []
    return StudyData(X, labels, model_frame(X, cat, levels), cat, levels, lay), notes


class Runner:
    """Builds the training rows of each method and scores the classifier on real rows."""

    def __init__(
        self,
        data: StudyData,
        ratio: float,
        k_neighbors: int,
        augment_k: float,
        classifier: str,
        synthesizer_params: dict[str, dict[str, Any]],
        positive: str,
        classes: list[str],
        notes: list[str],
    ):
        self.d, self.ratio, self.k = data, ratio, k_neighbors
        self.augment_k, self.classifier = augment_k, classifier
        self.sp, self.positive, self.classes, self.notes = (
            synthesizer_params,
            positive,
            classes,
            notes,
        )
        self.fitted: dict[tuple[str, str], Any] = {}

    def _fitted(self, key: tuple[str, str], make: Callable[[], Any]) -> Any:
        if key not in self.fitted:
            self.fitted[key] = make()
        return self.fitted[key]

    def prefit(self, method: str, idx: np.ndarray, seed: int) -> None:
        """Fit (and cache for scope "full") the synthesizer ``method`` uses on rows ``idx``."""
        X, y = self.d.X.iloc[idx].reset_index(drop=True), self.d.labels[idx]
        if method.startswith("augment:"):
            self._synth(method, X, y, seed, "full")
        elif method.split(":")[0] in ("generative", "hybrid"):
            self._gen(method, X, pd.Series(y), seed, "full")

    def _synth(self, method: str, X: pd.DataFrame, y: np.ndarray, seed: int, scope: str) -> Any:
        name = method.split(":", 1)[1]

        def fit() -> Any:
            frame = X.copy()
            frame["__target__"] = y
            return _fit_synth(name, self.sp.get(name), seed, frame)

        return self._fitted((method, scope), fit)

    def _gen(self, method: str, X: pd.DataFrame, ys: pd.Series, seed: int, scope: str) -> Any:
        """One synthesizer per raised class (``generative[:NAME]`` / ``hybrid[:NAME]``; the
        copula by default), shared by the generative and hybrid methods of the same NAME."""
        name = method.split(":", 1)[1] if ":" in method else "copula"
        want, counts = target_counts(ys, self.ratio), ys.value_counts()
        raised = [c for c in want if want[c] > counts[c]]
        return self._fitted(
            (f"generative:{name}", scope),
            lambda: fit_per_class(X, ys, raised, name, self.sp.get(name), seed),
        )

    def train_rows(
        self, method: str, idx: np.ndarray, seed: int, scope: str, n_synthetic: int | None
    ) -> tuple[pd.DataFrame, np.ndarray, bool]:
        """(model frame, labels, balanced?) of ``method``'s training set on real rows ``idx``."""
        X, y = self.d.X.iloc[idx].reset_index(drop=True), self.d.labels[idx]
        if method == "none":
            return self.d.Xm.iloc[idx], y, False
        if method == "class_weight":
            return self.d.Xm.iloc[idx], y, True
        rng = np.random.default_rng(seed)
        ys = pd.Series(y)
        notes: list[str] = []
        if method.startswith("augment:"):
            model = self._synth(method, X, y, seed, scope)
            n = n_synthetic or max(1, round(self.augment_k * len(X)))
            syn = model.sample(int(n), random_state=seed)
            ok = syn["__target__"].astype(object).isin(self.classes).to_numpy()
            Xs = model_frame(
                syn.loc[ok, list(X.columns)].reset_index(drop=True), self.d.cat, self.d.levels
            )
            ys_ = syn.loc[ok, "__target__"].astype(object).to_numpy()
            return pd.concat([self.d.Xm.iloc[idx], Xs], ignore_index=True), np.r_[y, ys_], False
        want = target_counts(ys, self.ratio)
        counts = ys.value_counts()
        n_new = {c: want[c] - int(counts[c]) for c in want if want[c] > counts[c]}
        lay = self.d.layout
        if method in SMOTE_KINDS:
            Xn, yn = smote_rows(X, ys, n_new, lay, method, self.k, 10, rng, notes)
        elif method.split(":")[0] in ("generative", "hybrid"):
            gen = self._gen(method, X, ys, seed, scope)
            if method.split(":")[0] == "generative":
                Xn, yn = generative_rows(X, ys, n_new, "copula", None, rng, notes, fitted=gen)
            else:
                half = {c: n // 2 for c, n in n_new.items() if n // 2 > 0}
                rest = {c: n - n // 2 for c, n in n_new.items()}
                Xa, ya = smote_rows(X, ys, half, lay, "smote", self.k, 10, rng, notes)
                Xb, yb = generative_rows(X, ys, rest, "copula", None, rng, notes, fitted=gen)
                Xn, yn = pd.concat([Xa, Xb], ignore_index=True), np.r_[ya, yb]
        else:
            raise DataError(f"unknown method {method!r}")
        for n_ in notes:
            if n_ not in self.notes and "outside the seen set" not in n_:
                self.notes.append(n_)
        Xn_m = model_frame(Xn[list(X.columns)], self.d.cat, self.d.levels)
        return pd.concat([self.d.Xm.iloc[idx], Xn_m], ignore_index=True), np.r_[y, yn], False

    def fit_predict(
        self, Xt: pd.DataFrame, yt: np.ndarray, balanced: bool, seed: int, evals: list[np.ndarray]
    ) -> list[np.ndarray]:
        """Fit on (Xt, yt); return P(minority) on each list of **real** row positions."""
        with one_thread(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = make_classifier(self.classifier, seed, balanced).fit(fit_ready(Xt), yt)
            return [score_rows(clf, self.d.Xm.iloc[e], self.classes, self.positive) for e in evals]


def score_rows(clf: Any, X_real: pd.DataFrame, classes: list[str], positive: str) -> np.ndarray:
    """P(positive) of the classifier on real evaluation rows (the one place rows are scored)."""
    P = proba_for(clf, X_real, classes)
    return P[:, classes.index(positive)]


def _fit_synth(name: str, params: dict[str, Any] | None, seed: int, frame: pd.DataFrame) -> Any:
    model = build_synthesizer(name, params, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(frame)


def f1_at(y: np.ndarray, p: np.ndarray) -> float:
    """F1 of the positive class (``y`` True) at probability 0.5."""
    pred = p >= 0.5
    tp = float((pred & y).sum())
    den = 2 * tp + float((pred & ~y).sum()) + float((~pred & y).sum())
    return 2 * tp / den if den else 0.0
