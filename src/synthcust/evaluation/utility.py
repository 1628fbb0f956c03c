"""Utility: is a model trained on synthetic data any good on real data?

Exactly as ``BENCHMARKS.md`` defines it; every score is measured on **real** rows:

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

:func:`small_data_study` runs the small-data protocol (the seed's case study): does adding
synthetic rows help when only 960 real rows are available?
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthcust.evaluation.common import align, as_numeric, is_numeric
from synthcust.evaluation.modeling import (
    MAX_CLASSES,
    Task,
    category_levels,
    class_labels,
    class_scores,
    class_task,
    fit_ready,
    is_classification,
    make_classifier,
    model_frame,
    one_thread,
    proba_for,
)
from synthcust.evaluation.results import Metric, SectionResult, Status
from synthcust.evaluation.splits import train_holdout_split
from synthcust.exceptions import DataError

__all__ = [
    "MAX_CLASSES",
    "PASS_RATIO",
    "WARN_RATIO",
    "evaluate_utility",
    "is_classification",
    "ratio_status",
    "small_data_study",
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
def small_data_study(
    real: pd.DataFrame,
    target: str,
    synthesizer_factory: Callable[[int], Any] | None = None,
    *,
    n_small: int = 1200,
    n_fit: int = 960,
    n_synthetic: int = 4000,
    seeds: int = 20,
    random_state: int = 0,
) -> SectionResult:
    """The small-data protocol of ``BENCHMARKS.md``: does augmentation help with 960 real rows?

    For each seed ``s`` (``random_state``, ``random_state + 1``, ...): draw ``n_small`` real
    rows, split them ``n_fit`` / rest stratified by ``target``
    (:func:`~synthcust.evaluation.splits.train_holdout_split`), fit
    ``synthesizer_factory(s)`` (default ``GaussianCopulaSynthesizer(random_state=s)``) on the
    ``n_fit`` rows only, sample ``n_synthetic`` rows, and train the classifier on the real rows
    alone and on real + synthetic. Both are scored (ROC AUC; macro one-vs-rest for several
    classes) on the small holdout and on every real row never drawn. The mean difference over
    seeds gets a 95% t-interval.

    Returns
    -------
    SectionResult
        ``name="small_data"``; metrics ``small_data_uplift_auc_rest`` and
        ``small_data_uplift_auc_holdout``; tables ``per_seed`` and ``summary``;
        ``extra["verdict"]`` (a sentence), ``extra["verdict_code"]`` (``helped`` /
        ``not_significant`` / ``hurt``) and ``extra["ci"]``.
    """
    if target not in real.columns:
        raise DataError(f"target {target!r} is not in the real data")
    if not 0 < n_fit < n_small:
        raise DataError(f"need 0 < n_fit < n_small, got n_fit={n_fit}, n_small={n_small}")
    if seeds < 1 or n_synthetic < 1:
        raise DataError(f"seeds and n_synthetic must be >= 1, got {seeds}, {n_synthetic}")
    if not is_classification(real[target]):
        raise DataError(f"the small-data study needs a class target; {target!r} is numeric")
    numeric_t = is_numeric(real[target])
    labels = class_labels(real[target], numeric_t)
    real = real[labels.notna().to_numpy()].reset_index(drop=True)
    labels = labels.dropna().reset_index(drop=True)
    if len(real) < n_small:
        raise DataError(f"need at least n_small={n_small} real rows with a target, got {len(real)}")
    task = class_task(labels, None, numeric_t, target)
    y_all = labels.to_numpy(dtype=object)
    kinds = align(real, real)
    features = [c for c in kinds.columns if c != target]
    cat = [c for c in kinds.categorical if c != target]
    # levels from the real data; a category only a synthesizer invents is treated as missing
    levels = category_levels([real], cat)
    X_all = model_frame(real[features], cat, levels)
    if synthesizer_factory is None:
        from synthcust.synthesizers.copula import GaussianCopulaSynthesizer

        synthesizer_factory = GaussianCopulaSynthesizer  # called with random_state as first arg
    frac = (n_small - n_fit) / n_small
    records = []
    for i in range(seeds):
        seed = random_state + i
        t0 = time.perf_counter()
        rng = np.random.default_rng(seed)
        drawn = np.sort(rng.choice(len(real), size=n_small, replace=False))
        pos = pd.DataFrame({"pos": drawn, "y": y_all[drawn]})
        fit_pos, hold_pos = (
            p["pos"].to_numpy() for p in train_holdout_split(pos, "y", frac, random_state=seed)
        )
        rest = np.setdiff1d(np.arange(len(real)), drawn, assume_unique=True)
        synth = synthesizer_factory(seed).fit(real.iloc[fit_pos].reset_index(drop=True))
        syn = synth.sample(n_synthetic, random_state=seed)
        # column kinds from all real rows (as for `features`): a sparse column that happens to
        # be all missing in this draw is not a fault of the synthetic data
        al = align(real, syn, target=target)
        bad = [s for s in al.skipped if any(f"{c!r}" in s for c in [*features, target])]
        if bad:
            raise DataError(f"seed {seed}: the synthetic data cannot be used: {'; '.join(bad)}")
        y_syn = class_labels(syn[target], numeric_t)
        ok = y_syn.isin(task.classes).to_numpy()
        X_syn = model_frame(syn.loc[ok, features].reset_index(drop=True), cat, levels)
        X_aug = pd.concat([X_all.iloc[fit_pos], X_syn], ignore_index=True)
        y_aug = np.concatenate([y_all[fit_pos], y_syn[ok].to_numpy(dtype=object)])
        rec: dict[str, Any] = {"seed": seed}
        with one_thread():
            for label, (Xt, yt) in {
                "real": (X_all.iloc[fit_pos], y_all[fit_pos]),
                "aug": (X_aug, y_aug),
            }.items():
                clf = make_classifier(seed).fit(fit_ready(Xt), yt)
                for where, idx in (("holdout", hold_pos), ("rest", rest)):
                    if len(idx) == 0:
                        rec[f"auc_{label}_{where}"] = math.nan
                        continue
                    P = proba_for(clf, X_all.iloc[idx], task.classes)
                    sc = class_scores(y_all[idx], P, task.classes, task.positive)
                    rec[f"auc_{label}_{where}"] = sc["auc"]
        for where in ("holdout", "rest"):
            rec[f"diff_{where}"] = rec[f"auc_aug_{where}"] - rec[f"auc_real_{where}"]
        rec.update(
            n_fit=len(fit_pos),
            n_holdout=len(hold_pos),
            n_rest=len(rest),
            n_synthetic=int(ok.sum()),
            seconds=time.perf_counter() - t0,
        )
        records.append(rec)
    per_seed = pd.DataFrame(records).set_index("seed")
    return _study_result(per_seed, task, n_small, n_fit, n_synthetic)


def _t_interval(d: np.ndarray) -> dict[str, float]:
    d = d[~np.isnan(d)]
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 else math.nan
    return {"mean": mean, "sd": sd, "n_seeds": n, "lower": mean - half, "upper": mean + half}


def _study_result(
    per_seed: pd.DataFrame, task: Task, n_small: int, n_fit: int, n_synthetic: int
) -> SectionResult:
    ci = {w: _t_interval(per_seed[f"diff_{w}"].to_numpy(dtype=float)) for w in ("holdout", "rest")}
    n_hold = int(per_seed["n_holdout"].median())
    n_rest = int(per_seed["n_rest"].median())
    where_txt = {
        "holdout": f"the {n_hold:,} held-out rows of each draw",
        "rest": f"the {n_rest:,} real rows never drawn",
    }

    def code(c: dict[str, float]) -> str:
        if c["lower"] > 0:
            return "helped"
        return "hurt" if c["upper"] < 0 else "not_significant"

    phrase = {"helped": "helped", "hurt": "hurt", "not_significant": "did not help significantly"}
    primary = "rest" if n_rest > 0 and not math.isnan(ci["rest"]["mean"]) else "holdout"
    verdict_code = code(ci[primary])
    parts = [
        f"on {where_txt[w]} the AUC changed by {c['mean']:+.4f} on average "
        f"(95% CI {c['lower']:+.4f} to {c['upper']:+.4f}; {phrase[code(c)]})"
        for w, c in ci.items()
        if not math.isnan(c["mean"])
    ]
    verdict = (
        f"Augmentation {phrase[verdict_code]} over {ci[primary]['n_seeds']} seeds: "
        + "; ".join(parts)
        + "."
    )
    summary = pd.DataFrame(
        {
            w: {
                "auc_real_only": per_seed[f"auc_real_{w}"].mean(),
                "auc_augmented": per_seed[f"auc_aug_{w}"].mean(),
                **{f"diff_{k}": v for k, v in c.items() if k != "n_seeds"},
                "n_seeds": c["n_seeds"],
                "n_rows": n_hold if w == "holdout" else n_rest,
            }
            for w, c in ci.items()
        }
    ).T
    summary.index.name = "evaluated_on"
    method = (
        f"Small-data protocol: per seed, draw {n_small:,} real rows, split {n_fit:,} / "
        f"{n_small - n_fit:,} stratified by the target, fit the synthesizer on the {n_fit:,} "
        f"only, sample {n_synthetic:,}; HistGradientBoostingClassifier on the {n_fit:,} real "
        f"rows vs on them + the synthetic rows; ROC AUC"
        + (f" of class {task.positive!r}" if task.kind == "binary" else " (macro one-vs-rest)")
        + " on the held-out rows and on all real rows never drawn; mean difference over seeds "
        "with a 95% t-interval."
    )
    metrics = [
        Metric(
            key=f"small_data_uplift_auc_{w}",
            label="Small-data augmentation uplift, AUC "
            + ("(never-drawn rows)" if w == "rest" else "(held-out rows)"),
            value=None if math.isnan(c["mean"]) else c["mean"],
            reference=0.0,
            better="higher",
            method=method,
            note=f"95% CI {c['lower']:+.4f} to {c['upper']:+.4f} over {c['n_seeds']} seeds, "
            f"{where_txt[w]}; {phrase[code(c)]}",
        )
        for w, c in (("rest", ci["rest"]), ("holdout", ci["holdout"]))
    ]
    return SectionResult(
        name="small_data",
        metrics=metrics,
        tables={"per_seed": per_seed, "summary": summary},
        skipped=[] if n_rest > 0 else ["evaluation on never-drawn rows: none left (n_small = all)"],
        extra={"verdict": verdict, "verdict_code": verdict_code, "ci": ci},
        method=method,
    )
