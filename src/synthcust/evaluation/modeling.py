"""Feature preparation for the model-based evaluations (detection, utility).

scikit-learn's ``HistGradientBoostingClassifier`` handles categorical columns natively when they
arrive as pandas ``category`` dtype, and missing values in either kind of column. So the model
frame is simple: numeric and datetime columns become float (datetimes in seconds, via
:func:`~synthcust.evaluation.common.as_numeric`), every other column becomes a ``category``
with one shared list of levels across all frames that the same model sees (so a level means the
same code in train and test). Booleans are categories too.

The gradient-boosting models bin categories into at most 255 bins, so a column with more levels
keeps its ``max_levels - 1`` most frequent ones and lumps the rest into ``"(other)"``.

Also here, shared by utility and the small-data study: what a target is
(:func:`is_classification`, :func:`class_task`, :class:`Task`), class labels as text
(:func:`class_labels`), probabilities in a fixed class order (:func:`proba_for`) and the
classification scores (:func:`class_scores`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)
from threadpoolctl import threadpool_limits

from synthcust.evaluation.common import as_numeric, is_numeric
from synthcust.exceptions import DataError

__all__ = [
    "MAX_CLASSES",
    "MAX_LEVELS",
    "OTHER",
    "Task",
    "as_text",
    "category_levels",
    "class_labels",
    "class_scores",
    "class_task",
    "is_classification",
    "make_classifier",
    "make_regressor",
    "model_frame",
    "one_thread",
    "proba_for",
]

#: A numeric target with at most this many distinct whole-number values is a class label.
MAX_CLASSES = 20
#: Most levels a categorical feature keeps (HistGradientBoosting allows < 255 bins per feature).
MAX_LEVELS = 250
#: The level that rare categories are lumped into when a column has more than ``MAX_LEVELS``.
OTHER = "(other)"


def as_text(s: pd.Series) -> pd.Series:
    """Values of a categorical column as ``object`` strings; missing stays missing (``None``)."""
    missing = s.isna().to_numpy()
    t = s.astype(object).astype(str).astype(object)
    if missing.any():
        t = t.where(~missing, None)
    return t


def category_levels(
    frames: Iterable[pd.DataFrame],
    categorical_cols: Sequence[str],
    max_levels: int = MAX_LEVELS,
) -> dict[str, list[str]]:
    """The union of levels of each categorical column over ``frames``, most frequent first.

    Counts are pooled over all frames; a column with more than ``max_levels`` levels keeps the
    ``max_levels - 1`` most frequent and gets :data:`OTHER` for the rest (ties broken by name,
    so the result does not depend on row order).

    Examples
    --------
    >>> a = pd.DataFrame({"plan": ["pro", "basic", "pro"]})
    >>> b = pd.DataFrame({"plan": ["team", None]})
    >>> category_levels([a, b], ["plan"])
    {'plan': ['pro', 'basic', 'team']}
    """
    frames = list(frames)
    out: dict[str, list[str]] = {}
    for c in categorical_cols:
        pooled = pd.concat([as_text(f[c]) for f in frames if c in f.columns], ignore_index=True)
        vc = pooled.value_counts(dropna=True)
        # most frequent first, then by name: independent of row order
        order = sorted(
            zip(vc.index.tolist(), vc.to_numpy().tolist(), strict=True),
            key=lambda kv: (-kv[1], kv[0]),
        )
        levels = [str(k) for k, _ in order]
        if len(levels) > max_levels:
            levels = [v for v in levels[: max_levels - 1] if v != OTHER] + [OTHER]
        out[c] = levels
    return out


def model_frame(
    df: pd.DataFrame,
    categorical_cols: Sequence[str],
    categories: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """A frame ready for HistGradientBoosting: floats and shared-level categories.

    Parameters
    ----------
    df : pandas.DataFrame
        The rows to encode; every column is used, in order.
    categorical_cols : sequence of str
        Columns to encode as ``category`` (the rest become float; datetimes in seconds).
    categories : mapping
        Levels per categorical column (from :func:`category_levels`); values outside them map
        to :data:`OTHER` when it is a level, else to missing.

    Returns
    -------
    pandas.DataFrame
        Same rows (fresh ``RangeIndex``) and columns; the caller's frame is untouched.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [30, 40], "vip": [True, False]})
    >>> X = model_frame(df, ["vip"], {"vip": ["False", "True"]})
    >>> X.dtypes.astype(str).tolist(), X["vip"].tolist()
    (['float64', 'category'], ['True', 'False'])
    """
    cat = set(categorical_cols)
    cols: dict[str, object] = {}
    for c in df.columns:
        s = df[c]
        if c not in cat:
            cols[c] = as_numeric(s)
            continue
        levels = list(categories[c])
        t = as_text(s)
        codes = pd.Index(levels).get_indexer(t).astype(np.int64)  # -1: not a level / missing
        if OTHER in levels:
            codes[(codes < 0) & t.notna().to_numpy()] = levels.index(OTHER)
        cols[c] = pd.Categorical.from_codes(codes, categories=levels)
    return pd.DataFrame(cols, index=pd.RangeIndex(len(df)))


def fit_ready(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with each numeric column that is missing in every row set to 0.0, for ``fit``.

    scikit-learn's HistGradientBoosting (1.9) fails on a numeric feature without one known value
    (its binning needs a value); a constant is never split on either, so the fitted model is the
    one that ignores the column, as an all-missing column should be ignored.
    """
    empty = [c for c in X.columns if X[c].dtype.kind == "f" and X[c].isna().all()]
    if not empty:
        return X
    X = X.copy()
    X[empty] = 0.0
    return X


def make_classifier(random_state: int = 0) -> HistGradientBoostingClassifier:
    """The classifier every model-based figure uses (native categorical support)."""
    return HistGradientBoostingClassifier(
        random_state=random_state, categorical_features="from_dtype"
    )


def make_regressor(random_state: int = 0) -> HistGradientBoostingRegressor:
    """The regressor used for numeric targets (native categorical support)."""
    return HistGradientBoostingRegressor(
        random_state=random_state, categorical_features="from_dtype"
    )


def one_thread() -> threadpool_limits:
    """Context limiting OpenMP (HistGradientBoosting's threads) to one thread.

    On a shared or busy machine HistGradientBoosting's OpenMP threads spin and wait for each
    other: a 40k-row fit measured 0.5 s on one thread and 2 s to 43 s on two. The evaluations
    fit many small models, so one thread each is both faster and predictable.
    """
    return threadpool_limits(limits=1, user_api="openmp")


# ------------------------------------------------------------------------ class labels, scores
def class_labels(s: pd.Series, numeric: bool) -> pd.Series:
    """Class labels as ``object`` text; missing stays missing.

    Numbers become whole-number text when they are whole ("1", not "1.0"), so a target that
    comes back from a synthesizer as float still matches the real integer labels.

    Examples
    --------
    >>> class_labels(pd.Series([1.0, 0.0, np.nan]), numeric=True).tolist()
    ['1', '0', None]
    """
    if not numeric:
        return as_text(s)
    v = as_numeric(s)
    whole = np.isfinite(v) & (v == np.round(v))
    out = np.array(pd.Series(v).astype(str), dtype=object)  # writable copy (pandas 3 CoW)
    out[whole] = pd.Series(v[whole].astype(np.int64)).astype(str).to_numpy()
    out[np.isnan(v)] = None
    return pd.Series(out, dtype=object)


def proba_for(clf: Any, X: pd.DataFrame, classes: Sequence[str]) -> np.ndarray:
    """Predicted probabilities in the order of ``classes`` (0 for classes the model never saw)."""
    p = clf.predict_proba(X)
    out = np.zeros((len(X), len(classes)))
    idx = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(clf.classes_):
        out[:, idx[c]] = p[:, j]
    return out


def class_scores(
    y: np.ndarray, P: np.ndarray, classes: Sequence[str], positive: str
) -> dict[str, float]:
    """ROC AUC, average precision and F1 on true labels ``y`` and probabilities ``P``.

    Two classes: of class ``positive``, F1 at probability 0.5. More: macro one-vs-rest AUC and
    AP (over the classes present in ``y``) and macro F1 of the arg-max prediction. NaN where a
    figure cannot be computed (``y`` holds one class only).

    Examples
    --------
    >>> y = np.array(["a", "b", "b", "a"])
    >>> P = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    >>> class_scores(y, P, ["a", "b"], "b")
    {'auc': 1.0, 'average_precision': 1.0, 'f1': 1.0}
    """
    classes = list(classes)
    nan = {"auc": math.nan, "average_precision": math.nan, "f1": math.nan}
    if len(classes) == 2:
        yp = y == positive
        if yp.all() or not yp.any():
            return nan
        p = P[:, classes.index(positive)]
        return {
            "auc": float(roc_auc_score(yp, p)),
            "average_precision": float(average_precision_score(yp, p)),
            "f1": float(f1_score(yp, p >= 0.5, zero_division=0)),
        }
    aucs, aps = [], []
    for j, c in enumerate(classes):
        yc = y == c
        if yc.any() and not yc.all():
            aucs.append(roc_auc_score(yc, P[:, j]))
            aps.append(average_precision_score(yc, P[:, j]))
    if not aucs:
        return nan
    pred = np.asarray(classes, dtype=object)[P.argmax(axis=1)]
    return {
        "auc": float(np.mean(aucs)),
        "average_precision": float(np.mean(aps)),
        "f1": float(f1_score(y, pred, labels=classes, average="macro", zero_division=0)),
    }


# ---------------------------------------------------------------------------------- tasks
def is_classification(s: pd.Series) -> bool:
    """Whether a target is a class label: categorical/boolean, or <= 20 distinct whole numbers.

    Examples
    --------
    >>> is_classification(pd.Series(["yes", "no"])), is_classification(pd.Series([0, 1, 1]))
    (True, True)
    >>> is_classification(pd.Series(np.linspace(0, 1, 50)))
    False
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return False
    if not is_numeric(s):
        return True
    v = as_numeric(s)
    v = v[~np.isnan(v)]
    return bool(np.all(v == np.round(v))) and len(np.unique(v)) <= MAX_CLASSES


@dataclass
class Task:
    """What a model-based figure predicts (``kind``, its classes) and how it scores a model."""

    kind: str  # "binary" | "multiclass" | "regression"
    classes: list[str] = field(default_factory=list)
    positive: str | None = None
    minority: str | None = None

    @property
    def score(self) -> str:
        return "r2" if self.kind == "regression" else "auc"

    def fit_score(
        self, Xt: pd.DataFrame, yt: np.ndarray, Xh: pd.DataFrame, yh: np.ndarray, seed: int
    ) -> dict[str, float]:
        if self.kind == "regression":
            pred = make_regressor(seed).fit(Xt, yt).predict(Xh)
            return {"r2": float(r2_score(yh, pred)), "mae": float(mean_absolute_error(yh, pred))}
        clf = make_classifier(seed).fit(Xt, yt)
        return class_scores(yh, proba_for(clf, Xh, self.classes), self.classes, self.positive)

    def unusable(self, y: np.ndarray, target: str) -> str | None:
        """Why a model cannot be trained on targets ``y`` (None when it can)."""
        if self.kind == "regression":
            return None if len(y) >= 2 else "fewer than two synthetic rows with a target"
        got = pd.unique(y)
        if len(got) == 0:
            return "the synthetic data has no rows with a known class"
        if len(got) == 1:
            return f"the synthetic target {target!r} has a single class ({got[0]!r})"
        return None


def class_task(y: pd.Series, positive: Any, numeric_t: bool, target: str) -> Task:
    """The classification task of train labels ``y``: classes, positive (default minority)."""
    counts = y.value_counts()
    classes = sorted(str(c) for c in counts.index)
    if len(classes) < 2:
        raise DataError(
            f"target {target!r} has a single class ({classes[0]!r}) in the train data; a "
            "classifier needs at least two"
        )
    minority = min(classes, key=lambda c: (counts[c], c))  # ties broken by name
    pos = minority
    if positive is not None:
        pos = str(class_labels(pd.Series([positive]), numeric_t).iloc[0])
        if pos not in classes:
            raise DataError(f"positive class {positive!r} is not among the train classes {classes}")
    return Task("binary" if len(classes) == 2 else "multiclass", classes, pos, minority)
