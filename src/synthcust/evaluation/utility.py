"""Utility: is a model trained on synthetic data any good on real data?

Exactly as ``docs/methods/metrics.md#tstr`` defines it; every score is measured on **real** rows:

* **TRTR** (train real, test real): ``HistGradientBoostingClassifier(random_state=0)`` trained on
  real train, scored on the real holdout; the ceiling.
* **TSTR** (train synthetic, test real): the same model trained on as many synthetic rows as
  real train has (subsampled; all of them, with a note, when there are fewer).
* **Augmentation**: real train plus ``k x len(train)`` synthetic rows vs real train alone.

Classification targets (categorical, boolean, or whole numbers with at most
:data:`MAX_CLASSES` distinct values) are scored by ROC AUC, average precision and F1 of the
positive class (default: the least frequent class in train; F1 at probability 0.5); with more
than two classes by macro one-vs-rest AUC and AP and macro F1 (arg-max prediction). Numeric
targets are scored by R^2 and MAE with ``HistGradientBoostingRegressor``.

Status of ``tstr_ratio`` (TSTR / TRTR): pass >= :data:`PASS_RATIO`, warn >=
:data:`WARN_RATIO`, fail below. Other figures are informative (``status="info"``).

:func:`synthcust.studies.small_data.small_data_study` runs the small-data protocol (the seed's
case study; it fits synthesizers, so it is a study, not a metric).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from synthcust.evaluation.common import align, as_numeric
from synthcust.evaluation.modeling import (
    MAX_CLASSES,
    Task,
    category_levels,
    class_labels,
    class_task,
    fit_ready,
    is_classification,
    model_frame,
    one_thread,
)
from synthcust.evaluation.results import Metric, SectionResult, Status
from synthcust.exceptions import DataError

__all__ = [
    "MAX_CLASSES",
    "PASS_RATIO",
    "WARN_RATIO",
    "evaluate_utility",
    "is_classification",
    "ratio_status",
]

#: ``tstr_ratio`` at or above this passes.
PASS_RATIO = 0.95
#: ``tstr_ratio`` at or above this (and below :data:`PASS_RATIO`) warns; below it fails.
WARN_RATIO = 0.85


def ratio_status(ratio: float | None) -> Status:
    """Pass / warn / fail band of TSTR / TRTR (``info`` when it is missing).

    Examples
    --------
    >>> ratio_status(0.97), ratio_status(0.9), ratio_status(0.6)
    ('pass', 'warn', 'fail')
    """
    if ratio is None or math.isnan(ratio):
        return "info"
    if ratio >= PASS_RATIO:
        return "pass"
    return "warn" if ratio >= WARN_RATIO else "fail"


def evaluate_utility(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str,
    *,
    positive: Any | None = None,
    augment_k: tuple[int, ...] = (1,),
    random_state: int = 0,
) -> SectionResult:
    """TRTR vs TSTR scores on the real holdout, and the uplift of augmenting with synthetic rows.

    Parameters
    ----------
    train, synthetic, holdout : pandas.DataFrame
        Real train (what the synthesizer saw), synthetic rows, real holdout.
    target : str
        Column to predict; it must be in all three frames.
    positive : optional
        The class AUC/AP/F1 are about (binary targets); default the least frequent in train.
    augment_k : tuple of int
        Multiples of ``len(train)`` synthetic rows to add to real train.
    random_state : int
        Seed of the subsampling and of the models (0 is the benchmark setting).

    Returns
    -------
    SectionResult
        ``name="utility"``; metrics ``tstr_auc`` (reference = TRTR), ``tstr_ratio``,
        ``augmentation_uplift_auc`` (``tstr_r2`` / ``augmentation_uplift_r2`` for numeric
        targets; further ``k`` as ``..._k<k>``); table ``scores`` (one row per setting);
        ``skipped`` says what could not be computed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     x = rng.normal(size=n)
    ...     return pd.DataFrame({"x": x, "y": np.where(x + rng.normal(size=n) > 1, "a", "b")})
    >>> res = evaluate_utility(draw(600), draw(600), draw(300), "y")
    >>> res.metric("tstr_auc").value > 0.7
    True
    """
    augment_k = _check_args(train, synthetic, holdout, target, augment_k)
    al = align(train, synthetic, holdout, target=target)
    if target not in al.columns:
        why = [s for s in al.skipped if f"{target!r}" in s]
        raise DataError(f"target {target!r} cannot be used: {'; '.join(why) or 'skipped'}")
    features = [c for c in al.columns if c != target]
    if not features:
        raise DataError(f"no feature columns besides the target {target!r}; nothing to learn")
    frames = {"train": al.real, "synthetic": al.synthetic, "holdout": al.holdout}
    assert frames["holdout"] is not None
    notes: list[str] = []
    task, ys = _targets(frames, target, target in al.numeric, positive, notes)
    cat = [c for c in al.categorical if c in features]
    levels = category_levels(frames.values(), cat)
    X = {k: model_frame(f[features], cat, levels) for k, f in frames.items()}
    rng = np.random.default_rng(random_state)
    n_train, n_syn, n_hold = len(ys["train"]), len(ys["synthetic"]), len(ys["holdout"])
    skipped = list(al.skipped)

    def run(Xt: pd.DataFrame, yt: np.ndarray) -> dict[str, float]:
        return task.fit_score(fit_ready(Xt), yt, X["holdout"], ys["holdout"], random_state)

    rows: dict[str, dict[str, Any]] = {}
    with one_thread():
        rows["TRTR"] = {"real_rows": n_train, "synthetic_rows": 0, **run(X["train"], ys["train"])}
        why = task.unusable(ys["synthetic"], target)
        if why:
            skipped.append(f"TSTR: not computable, {why}")
        else:
            take = _pick(n_syn, n_train, rng)
            if n_syn < n_train:
                notes.append(f"TSTR trained on all {n_syn:,} synthetic rows (fewer than train's)")
            rows["TSTR"] = {
                "real_rows": 0,
                "synthetic_rows": len(take),
                **run(X["synthetic"].iloc[take], ys["synthetic"][take]),
            }
        for k in augment_k:
            if n_syn == 0:
                skipped.append(f"augmentation k={k}: no usable synthetic rows")
                continue
            take = _pick(n_syn, int(k) * n_train, rng)
            if len(take) < int(k) * n_train:
                notes.append(f"augmentation k={k} used all {len(take):,} synthetic rows")
            Xa = pd.concat([X["train"], X["synthetic"].iloc[take]], ignore_index=True)
            ya = np.concatenate([ys["train"], ys["synthetic"][take]])
            rows[f"augmented k={k}"] = {
                "real_rows": n_train,
                "synthetic_rows": len(take),
                **run(Xa, ya),
            }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "setting"
    col = task.score
    table[f"{col}_vs_trtr"] = table[col] - table.loc["TRTR", col]
    method = _method(task, random_state, n_train, n_hold)
    name = "R^2" if col == "r2" else "AUC"
    return SectionResult(
        name="utility",
        metrics=_headline(table, col, name, augment_k, method, notes),
        tables={"scores": table},
        skipped=skipped,
        extra={
            "task": task.kind,
            "target": target,
            "classes": task.classes,
            "positive": task.positive,
            "minority": task.minority,
            "n_train": n_train,
            "n_synthetic": n_syn,
            "n_holdout": n_hold,
            "notes": notes,
        },
        method=method,
    )


def _check_args(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str,
    augment_k: Any,
) -> Any:
    """``augment_k`` as a sequence of whole numbers >= 1; a clear error for a bad argument."""
    for name, df in (("train", train), ("synthetic", synthetic), ("holdout", holdout)):
        if isinstance(df, pd.DataFrame) and target not in df.columns:
            raise DataError(
                f"target {target!r} is not in the {name} data; pass the name of a column that "
                "all three frames have"
            )
    if isinstance(augment_k, int | np.integer) and not isinstance(augment_k, bool):
        augment_k = (int(augment_k),)  # one k given as a bare number
    if (
        not isinstance(augment_k, tuple | list)
        or not augment_k
        or any(
            isinstance(k, bool)
            or not isinstance(k, int | float | np.number)
            or int(k) != k
            or k < 1
            for k in augment_k
        )
    ):
        raise DataError(f"augment_k must hold whole numbers >= 1, got {augment_k!r}")
    return augment_k


# ------------------------------------------------------------------------------- internals
def _targets(
    frames: dict[str, pd.DataFrame],
    target: str,
    numeric_t: bool,
    positive: Any,
    notes: list[str],
) -> tuple[Task, dict[str, np.ndarray]]:
    """The task, and target arrays; drops (in ``frames``, noted) rows that cannot be used."""
    if not is_classification(frames["train"][target]):
        ys = {k: as_numeric(f[target]) for k, f in frames.items()}
        for k in frames:
            bad = np.isnan(ys[k])
            if bad.any():
                notes.append(f"{int(bad.sum()):,} {k} rows dropped (target missing)")
                frames[k] = frames[k][~bad].reset_index(drop=True)
                ys[k] = ys[k][~bad]
        if len(ys["train"]) < 2 or len(ys["holdout"]) < 2:
            raise DataError(
                f"target {target!r} needs at least two known values in train and holdout"
            )
        return Task("regression"), ys
    labels = {k: class_labels(f[target], numeric_t) for k, f in frames.items()}
    known = set(labels["train"].dropna())
    if not known:
        raise DataError(f"target {target!r} is missing in every train row")
    for k in frames:
        bad = labels[k].isna() | ~labels[k].isin(known)
        if bad.any():
            notes.append(
                f"{int(bad.sum()):,} {k} rows dropped (target missing or a class train lacks)"
            )
            frames[k] = frames[k][~bad.to_numpy()].reset_index(drop=True)
            labels[k] = labels[k][~bad].reset_index(drop=True)
    task = class_task(labels["train"], positive, numeric_t, target)
    if labels["holdout"].nunique() < 2:
        raise DataError(
            f"target {target!r} has fewer than two classes in the holdout; AUC cannot be "
            "measured on it (use a larger or stratified holdout)"
        )
    return task, {k: v.to_numpy(dtype=object) for k, v in labels.items()}


def _method(task: Task, seed: int, n_train: int, n_hold: int) -> str:
    model = "Regressor" if task.kind == "regression" else "Classifier"
    head = (
        f"HistGradientBoosting{model}(random_state={seed}) trained on real train (TRTR), on "
        f"{n_train:,} synthetic rows (TSTR) and on real train + k x {n_train:,} synthetic rows "
        f"(augmented); scored on {n_hold:,} real holdout rows: "
    )
    if task.kind == "regression":
        return head + "R^2 and MAE"
    if task.kind == "binary":
        return head + (
            f"ROC AUC, average precision and F1 (at probability 0.5) of class {task.positive!r}"
        )
    return head + "macro one-vs-rest ROC AUC and average precision, macro F1 (arg-max)"


def _pick(n_have: int, n_want: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``min(n_have, n_want)`` rows drawn without replacement (sorted)."""
    if n_want >= n_have:
        return np.arange(n_have)
    return np.sort(rng.choice(n_have, size=n_want, replace=False))


def _get(table: pd.DataFrame, row: str, col: str) -> float | None:
    if row not in table.index:
        return None
    v = float(table.loc[row, col])
    return None if math.isnan(v) else v


def _headline(
    table: pd.DataFrame,
    col: str,
    name: str,
    augment_k: tuple[int, ...],
    method: str,
    notes: list[str],
) -> list[Metric]:
    trtr, tstr = _get(table, "TRTR", col), _get(table, "TSTR", col)
    ratio = tstr / trtr if tstr is not None and trtr is not None and trtr > 0 else None
    why_none = "" if tstr is not None else "TSTR could not be computed (see skipped)"
    metrics = [
        Metric(
            key=f"tstr_{col}",
            label=f"TSTR {name}",
            value=tstr,
            reference=trtr,
            better="higher",
            method=method + f"; reference = TRTR {name}",
            note="; ".join(n for n in [why_none, *notes] if n),
        ),
        Metric(
            key="tstr_ratio",
            label=f"TSTR / TRTR ({name})",
            value=ratio,
            threshold=PASS_RATIO,
            better="higher",
            status=ratio_status(ratio),
            method=f"TSTR {name} divided by TRTR {name} (same model, same real holdout); "
            f"pass >= {PASS_RATIO}, warn >= {WARN_RATIO}, fail below",
            note=why_none or ("" if ratio is not None else f"TRTR {name} <= 0"),
        ),
    ]
    for i, k in enumerate(augment_k):
        aug = _get(table, f"augmented k={k}", col)
        up = aug - trtr if aug is not None and trtr is not None else None
        if up is None:
            verdict = "not computed (see skipped)"
        elif up > 0:
            verdict = f"adding {k} x train synthetic rows raised {name} by {up:.4f}"
        else:
            verdict = f"adding {k} x train synthetic rows did not help: {name} changed by {up:+.4f}"
        metrics.append(
            Metric(
                key=f"augmentation_uplift_{col}" + ("" if i == 0 else f"_k{k}"),
                label=f"Augmentation uplift, {name} (k={k})",
                value=up,
                reference=0.0,
                better="higher",
                method=f"{name} of real train + {k} x len(train) synthetic rows minus {name} of "
                "real train alone, both on the real holdout (one split, no interval: small "
                "differences may be noise)",
                note=verdict,
            )
        )
    return metrics


# -------------------------------------------------------------------------- small-data study
