"""The small-data protocol: does adding synthetic rows help a classifier with only 960 real rows?

Defined in ``docs/methods/metrics.md#small-data-protocol`` (the seed's case study).

It fits a synthesizer per seed, so it lives in :mod:`synthcust.studies` (evaluation only
measures frames). Every score is on real rows the synthesizer never saw.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthcust.evaluation.common import align, is_numeric
from synthcust.evaluation.modeling import (
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
from synthcust.evaluation.results import Metric, SectionResult
from synthcust.evaluation.splits import train_holdout_split
from synthcust.exceptions import DataError
from synthcust.synthesizers.copula import GaussianCopulaSynthesizer

__all__ = ["small_data_study", "study_result", "t_interval"]


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
    """The small-data protocol: does augmentation help with 960 real rows?

    Defined in ``docs/methods/metrics.md#small-data-protocol``.

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
        train_sets = {"real": (X_all.iloc[fit_pos], y_all[fit_pos]), "aug": (X_aug, y_aug)}
        rec.update(_aucs(train_sets, {"holdout": hold_pos, "rest": rest}, X_all, y_all, task, seed))
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
    return study_result(per_seed, task, n_small, n_fit, n_synthetic)


def _aucs(
    train_sets: dict[str, tuple[pd.DataFrame, np.ndarray]],
    evals: dict[str, np.ndarray],
    X_all: pd.DataFrame,
    y_all: np.ndarray,
    task: Task,
    seed: int,
) -> dict[str, float]:
    """``auc_<train set>_<eval set>``: the classifier fit on each training set, scored on real
    rows (positions into ``X_all``) only."""
    out: dict[str, float] = {}
    with one_thread():
        for label, (Xt, yt) in train_sets.items():
            clf = make_classifier(seed).fit(fit_ready(Xt), yt)
            for where, idx in evals.items():
                if len(idx) == 0:
                    out[f"auc_{label}_{where}"] = math.nan
                    continue
                P = proba_for(clf, X_all.iloc[idx], task.classes)
                sc = class_scores(y_all[idx], P, task.classes, task.positive)
                out[f"auc_{label}_{where}"] = sc["auc"]
    return out


def t_interval(d: np.ndarray) -> dict[str, float]:
    """Mean of the paired differences ``d`` (NaN dropped) with a 95% t-interval."""
    d = d[~np.isnan(d)]
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 else math.nan
    return {"mean": mean, "sd": sd, "n_seeds": n, "lower": mean - half, "upper": mean + half}


def study_result(
    per_seed: pd.DataFrame, task: Task, n_small: int, n_fit: int, n_synthetic: int
) -> SectionResult:
    """The per-seed records as a :class:`SectionResult`: uplift metrics, CIs and a verdict."""
    ci = {w: t_interval(per_seed[f"diff_{w}"].to_numpy(dtype=float)) for w in ("holdout", "rest")}
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
