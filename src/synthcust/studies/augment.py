"""The augment-study: does oversampling or synthetic augmentation help *this* classifier?

Two protocols from ``docs/methods/metrics.md#utility``, run across methods and repeated over seeds:

**Full-data comparison.** The real data is split once, 80/20 stratified on the target,
``random_state=0`` (:func:`~synthcust.evaluation.splits.train_holdout_split`). For every seed
and method the classifier is trained on the (resampled or augmented) real train and scored on
the real holdout: ROC AUC and F1 (at probability 0.5) of the minority class. The figure per
method is the difference to ``none`` (the classifier on real train as is), averaged over seeds,
with a **paired percentile bootstrap** 95% CI: the holdout rows are resampled (``n_boot`` times,
the same resample for every method and seed) and the seed-averaged difference recomputed. The
interval so covers which real rows happened to be held out as well as the randomness of the
method and the classifier; it does not cover a different train sample.

**Small-data protocol** (the seed's case study). Per seed: draw ``n_small`` (1,200) real rows,
split them ``n_fit`` (960) / rest stratified; every method sees the 960 only (synthesizers are
fit on them; ``augment:<name>`` adds ``n_synthetic`` (4,000) synthetic rows); the classifier is
scored on the 240 held-out rows and on every real row never drawn. The figure is the mean over
seeds of the paired difference to ``none``, with a **t-interval** 95% CI (each seed is an
independent draw, so the seeds' spread is the right yardstick).

Methods: ``none``; ``class_weight`` (``class_weight="balanced"``); the SMOTE family
(``smote`` -> SMOTE-NC on mixed data, ``smotenc``, ``smoten``, ``borderline``, ``adasyn``);
``generative`` (conditional copula oversampling) and ``hybrid`` (half SMOTE, half generative),
all to ``ratio`` minority / majority; and ``augment:<synthesizer>`` (real train + ``k`` x its size
of unconditional synthetic rows; ``augment:copula`` always works, ``augment:ctgan`` etc. when
asked for).

**Evaluation is always on real held-out rows**: resampling and synthesizers only ever see the
training rows of their split, and every score is computed on rows taken by position from the
real input (see ``tests/test_augment_study.py``, which proves no synthetic row is scored).

The verdict names the method with the largest reliable gain and by how much; a CI that includes
zero reads "no reliable gain". Minority F1 at a 0.5 threshold rises whenever a method pushes
probabilities up, so a F1 gain without an AUC gain is mostly a threshold shift (the verdict says
so); AUC is threshold-free.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthcust.evaluation.modeling import class_labels
from synthcust.evaluation.splits import train_holdout_split
from synthcust.exceptions import DataError
from synthcust.studies.augment_result import AugmentStudyResult, study_verdict
from synthcust.studies.augment_runner import (
    Runner,
    available_classifiers,
    bootstrap_auc_f1,
    f1_at,
    prepare,
    score_rows,
    t_ci,
)
from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.oversampling.oversample import SMOTE_KINDS

__all__ = [
    "DEFAULT_METHODS",
    "AugmentStudyResult",
    "augment_study",
    "available_classifiers",
    "bootstrap_auc_f1",
    "score_rows",
]

#: Methods run when none are named.
DEFAULT_METHODS = (
    "none",
    "class_weight",
    "smote",
    "borderline",
    "adasyn",
    "generative",
    "hybrid",
    "augment:copula",
)


def augment_study(
    df: pd.DataFrame,
    target: str,
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    repeats: int = 20,
    full: bool = True,
    small: bool = True,
    ratio: float = 1.0,
    k_neighbors: int = 5,
    augment_k: float = 1.0,
    n_small: int = 1200,
    n_fit: int = 960,
    n_synthetic: int = 4000,
    n_boot: int = 300,
    positive: Any | None = None,
    classifier: str = "hgb",
    synthesizer_params: dict[str, dict[str, Any]] | None = None,
    drop: Sequence[str] = (),
    random_state: int = 0,
    n_jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> AugmentStudyResult:
    """Run the full-data comparison and the small-data protocol across ``methods``.

    Parameters
    ----------
    df : pandas.DataFrame
        The real table, target included.
    target : str
        Class column (two or more classes; the figures are about ``positive``).
    methods : sequence of str
        From :data:`DEFAULT_METHODS`, ``smotenc``/``smoten`` and ``augment:<synthesizer>``.
    repeats : int
        Seeds ``random_state, random_state + 1, ...`` (>= 20 for the small-data protocol).
    full, small : bool
        Which protocols to run.
    ratio : float
        Minority / majority after oversampling (oversampling methods).
    augment_k : float
        Full data: ``augment:*`` adds ``augment_k x len(train)`` synthetic rows.
    n_small, n_fit, n_synthetic : int
        Small-data protocol sizes (1,200 / 960 / 4,000 as in
        docs/methods/metrics.md#small-data-protocol).
    n_boot : int
        Bootstrap resamples of the holdout for the full-data CIs.
    positive : optional
        The class F1/AUC are about; default the least frequent class.
    classifier : {"hgb", "lightgbm", "xgboost"}
        ``hgb`` = ``HistGradientBoostingClassifier`` (native categoricals); others if installed.
    synthesizer_params : dict, optional
        Parameters per synthesizer name, e.g. ``{"ctgan": {"epochs": 50}}``.
    drop : sequence of str
        Columns to leave out (free text must be dropped: the study refuses it).
    random_state : int
        First seed.
    n_jobs : int
        Processes to run seeds in (joblib); every model still uses one thread. Results do not
        depend on it.
    progress : callable, optional
        Called with a short description of each step.

    Returns
    -------
    AugmentStudyResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=1500)
    >>> df = pd.DataFrame({"x": x, "z": rng.normal(size=1500),
    ...                    "y": np.where(x + rng.normal(size=1500) > 2.0, "yes", "no")})
    >>> r = augment_study(df, "y", methods=["none", "smote"], repeats=2, small=False, n_boot=50)
    >>> list(r.full.index), "smote" in r.verdict
    (['none', 'smote'], True)
    """
    t_start = time.perf_counter()
    say = progress or (lambda s: None)
    methods = _check_args(methods, n_jobs, repeats, n_boot, full, small, classifier)
    data, notes = prepare(df, target, drop)
    pos, classes = _positive_class(data.labels, positive)
    seeds = [random_state + i for i in range(repeats)]
    runner = Runner(
        data,
        ratio,
        k_neighbors,
        augment_k,
        classifier,
        dict(synthesizer_params or {}),
        pos,
        classes,
        notes,
    )
    how: dict[str, str] = {}
    full_tab = per_full = small_tab = per_small = None
    if full:
        full_tab, per_full, h = _full(runner, methods, seeds, n_boot, random_state, n_jobs, say)
        how["full-data comparison"] = h
    if small:
        if len(data.X) <= n_small:
            notes.append(
                f"small-data protocol skipped: needs more than n_small={n_small:,} rows "
                f"(the data has {len(data.X):,})"
            )
        else:
            small_tab, per_small, h = _small(
                runner, methods, seeds, n_small, n_fit, n_synthetic, n_jobs, say
            )
            how["small-data protocol"] = h
    verdict = study_verdict(full_tab, small_tab, len(seeds), n_fit)
    return AugmentStudyResult(
        target=target,
        positive=pos,
        classifier=classifier,
        seeds=seeds,
        full=full_tab,
        small=small_tab,
        per_seed_full=per_full,
        per_seed_small=per_small,
        verdict=verdict,
        how=how,
        notes=notes,
        seconds=time.perf_counter() - t_start,
    )


def _check_args(
    methods: Sequence[str],
    n_jobs: Any,
    repeats: int,
    n_boot: int,
    full: bool,
    small: bool,
    classifier: str,
) -> list[str]:
    """The methods to run (``none`` first, once each); a clear error for any bad argument."""
    methods = list(dict.fromkeys(methods))
    if "none" not in methods:
        methods.insert(0, "none")
    for m in methods:
        head, _, synth = m.partition(":")
        if synth and head in ("augment", "generative", "hybrid") and synth not in REGISTRY:
            raise DataError(
                f"unknown synthesizer {synth!r} in method {m!r}; available: "
                f"{', '.join(sorted(REGISTRY))}"
            )
        if m not in (*DEFAULT_METHODS, *SMOTE_KINDS) and not (
            synth and head in ("augment", "generative", "hybrid")
        ):
            raise DataError(
                f"unknown method {m!r}; use {', '.join(DEFAULT_METHODS)}, smotenc, smoten, "
                "augment:<synthesizer>, generative:<synthesizer> or hybrid:<synthesizer>"
            )
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise DataError(f"n_jobs must be a whole number >= 1, got {n_jobs!r}")
    if repeats < 1 or n_boot < 1:
        raise DataError(f"repeats and n_boot must be >= 1, got {repeats}, {n_boot}")
    if not (full or small):
        raise DataError("nothing to run: enable the full-data comparison or the small-data one")
    if classifier not in available_classifiers():
        raise DataError(
            f"classifier {classifier!r} is not available; installed: "
            f"{', '.join(available_classifiers())}"
        )
    return methods


def _positive_class(labels: np.ndarray, positive: Any | None) -> tuple[str, list[str]]:
    """The class the figures are about (default: the least frequent) and all classes."""
    counts = pd.Series(labels).value_counts()
    classes = sorted(counts.index)
    minority = min(classes, key=lambda c: (counts[c], c))
    pos = minority
    if positive is not None:
        pos = str(class_labels(pd.Series([positive]), isinstance(positive, int | float)).iloc[0])
        if pos not in classes:
            raise DataError(f"positive class {positive!r} is not among the classes {classes}")
    return pos, classes


def _full(
    runner: Runner,
    methods: list[str],
    seeds: list[int],
    n_boot: int,
    random_state: int,
    n_jobs: int,
    say: Callable[[str], None],
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    d = runner.d
    pos_frame = pd.DataFrame({"pos": np.arange(len(d.X)), "y": d.labels})
    tr, ho = (p["pos"].to_numpy() for p in train_holdout_split(pos_frame, "y", 0.2, 0))
    y_hold = d.labels[ho] == runner.positive
    for m in methods:  # fit the synthesizers once, here, so parallel seeds share them
        if m.split(":")[0] in ("generative", "hybrid") or m.startswith("augment:"):
            say(f"full data: fitting the synthesizer for {m}")
            runner.prefit(m, tr, seeds[0])
    inner = say if n_jobs == 1 else _quiet  # a progress bar does not travel to other processes
    out = _map(lambda s: _full_seed(runner, methods, tr, ho, s, inner), seeds, n_jobs, runner, say)
    probs = np.stack([o[0] for o in out], axis=1)  # (methods, seeds, holdout)
    secs = np.stack([o[1] for o in out], axis=1)
    n_rows = np.stack([o[2] for o in out], axis=1)
    say("full data: bootstrap")
    S = len(methods) * len(seeds)
    P = probs.reshape(S, len(ho))
    W = np.vstack(
        [
            np.ones(len(ho)),
            np.random.default_rng(random_state).multinomial(
                len(ho), np.full(len(ho), 1 / len(ho)), size=n_boot
            ),
        ]
    )
    auc, f1 = bootstrap_auc_f1(y_hold, P, W)  # (S, 1 + B)
    auc = auc.reshape(len(methods), len(seeds), -1).mean(axis=1)  # seed means (M, 1 + B)
    f1 = f1.reshape(len(methods), len(seeds), -1).mean(axis=1)
    rows, per = {}, []
    for i, m in enumerate(methods):
        r: dict[str, float] = {}
        for name, v in (("f1", f1), ("auc", auc)):
            diff = v[i] - v[0]
            r[name] = float(v[i, 0])
            r[f"{name}_diff"] = float(diff[0])
            lo, hi = np.nanpercentile(diff[1:], [2.5, 97.5]) if i else (0.0, 0.0)
            r[f"{name}_diff_lower"], r[f"{name}_diff_upper"] = float(lo), float(hi)
        r["train_rows"] = float(n_rows[i].mean())
        r["seconds"] = float(secs[i].mean())
        rows[m] = r
        for j, s in enumerate(seeds):
            per.append(
                {
                    "method": m,
                    "seed": s,
                    "f1": f1_at(y_hold, probs[i, j]),
                    "auc": float(bootstrap_auc_f1(y_hold, probs[i, j][None], W[:1])[0][0, 0]),
                    "train_rows": int(n_rows[i, j]),
                    "seconds": float(secs[i, j]),
                }
            )
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "method"
    how = (
        f"real data split once 80/20 stratified (random_state=0): {len(tr):,} train rows, "
        f"{len(ho):,} real holdout rows. Per seed ({len(seeds)}) each method builds its training "
        "set from the train rows only (oversamplers to the ratio asked; augment:* adds synthetic "
        f"rows), {runner.classifier} is trained on it and scored on the real holdout: ROC AUC and "
        f"F1 at probability 0.5 of class {runner.positive!r}. Figures are means over seeds; "
        "*_diff = method minus none; 95% CI = paired percentile bootstrap over holdout rows "
        f"({n_boot} resamples, the same for every method and seed) of the seed-averaged "
        "difference. Synthesizers (generative, hybrid, augment:*) are fit once on the train rows "
        "(seed = the first seed); each seed samples anew."
    )
    return table, pd.DataFrame(per), how


def _small(
    runner: Runner,
    methods: list[str],
    seeds: list[int],
    n_small: int,
    n_fit: int,
    n_synthetic: int,
    n_jobs: int,
    say: Callable[[str], None],
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    d = runner.d
    if not 0 < n_fit < n_small:
        raise DataError(f"need 0 < n_fit < n_small, got n_fit={n_fit}, n_small={n_small}")
    frac = (n_small - n_fit) / n_small
    recs = []
    n_rest = 0
    inner = say if n_jobs == 1 else _quiet
    out = _map(
        lambda s: _small_seed(runner, methods, s, n_small, frac, n_synthetic, inner),
        seeds,
        n_jobs,
        runner,
        say,
    )
    recs = [r for o in out for r in o]
    n_rest = len(d.X) - n_small
    per = pd.DataFrame(recs)
    base = per[per["method"] == "none"].set_index("seed")
    rows = {}
    for m in methods:
        pm = per[per["method"] == m].set_index("seed")
        r: dict[str, float] = {}
        for col in ("auc_rest", "auc_holdout", "f1_rest"):
            r[col] = float(pm[col].mean())
            mean, lo, hi = t_ci((pm[col] - base[col]).to_numpy(dtype=float))
            key = col.replace("auc_", "auc_diff_").replace("f1_", "f1_diff_")
            r[key], r[f"{key}_lower"], r[f"{key}_upper"] = mean, lo, hi
        r["train_rows"] = float(pm["train_rows"].mean())
        r["seconds"] = float(pm["seconds"].mean())
        rows[m] = r
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "method"
    how = (
        f"per seed ({len(seeds)}): draw {n_small:,} real rows, split {n_fit:,} / "
        f"{n_small - n_fit:,} stratified; every method sees the {n_fit:,} only (synthesizers fit "
        f"on them; augment:* adds {n_synthetic:,} synthetic rows); {runner.classifier} scored on "
        f"the {n_small - n_fit:,} held-out rows (holdout) and on the {n_rest:,} real rows never "
        f"drawn (rest): ROC AUC and F1 at 0.5 of class {runner.positive!r}. *_diff = mean over "
        "seeds of method minus none (paired by seed), 95% t-interval over seeds."
    )
    return table, per, how


def _full_seed(
    runner: Runner,
    methods: list[str],
    tr: np.ndarray,
    ho: np.ndarray,
    s: int,
    say: Callable[[str], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One seed of the full-data comparison: P(minority) on the holdout per method."""
    probs = np.empty((len(methods), len(ho)))
    secs = np.zeros(len(methods))
    n_rows = np.zeros(len(methods), dtype=np.int64)
    for i, m in enumerate(methods):
        say(f"full data: {m}, seed {s}")
        t0 = time.perf_counter()
        Xt, yt, bal = runner.train_rows(m, tr, s, "full", None)
        probs[i] = runner.fit_predict(Xt, yt, bal, s, [ho])[0]
        secs[i] = time.perf_counter() - t0
        n_rows[i] = len(yt)
    return probs, secs, n_rows


def _small_seed(
    runner: Runner,
    methods: list[str],
    s: int,
    n_small: int,
    frac: float,
    n_synthetic: int,
    say: Callable[[str], None],
) -> list[dict[str, Any]]:
    """One seed of the small-data protocol: a fresh draw, every method fit on its 960 rows."""
    d = runner.d
    rng = np.random.default_rng(s)
    drawn = np.sort(rng.choice(len(d.X), size=n_small, replace=False))
    pf = pd.DataFrame({"pos": drawn, "y": d.labels[drawn]})
    fit_pos, hold_pos = (p["pos"].to_numpy() for p in train_holdout_split(pf, "y", frac, s))
    rest = np.setdiff1d(np.arange(len(d.X)), drawn, assume_unique=True)
    runner.fitted = {k: v for k, v in runner.fitted.items() if k[1] == "full"}
    recs = []
    for m in methods:
        say(f"small data: {m}, seed {s}")
        t0 = time.perf_counter()
        Xt, yt, bal = runner.train_rows(m, fit_pos, s, f"small{s}", n_synthetic)
        ph, pr = runner.fit_predict(Xt, yt, bal, s, [hold_pos, rest])
        rec: dict[str, Any] = {"method": m, "seed": s}
        for where, idx, p in (("holdout", hold_pos, ph), ("rest", rest, pr)):
            yb = d.labels[idx] == runner.positive
            auc, _ = bootstrap_auc_f1(yb, p[None], np.ones((1, len(idx))))
            rec[f"auc_{where}"] = float(auc[0, 0])
            rec[f"f1_{where}"] = f1_at(yb, p)
        rec["train_rows"] = len(yt)
        rec["seconds"] = time.perf_counter() - t0
        recs.append(rec)
    return recs


def _quiet(_: str) -> None:
    return None


def _with_notes(fn: Callable[[int], Any], runner: Runner, s: int) -> tuple[Any, list[str]]:
    return fn(s), list(runner.notes)


def _map(
    fn: Callable[[int], Any],
    seeds: list[int],
    n_jobs: int,
    runner: Runner,
    say: Callable[[str], None],
) -> list[Any]:
    """``fn`` over seeds, in order; in ``n_jobs`` processes when > 1 (notes merged back)."""
    if n_jobs == 1 or len(seeds) == 1:
        return [fn(s) for s in seeds]
    from joblib import Parallel, delayed

    out = []
    par = Parallel(n_jobs=n_jobs, return_as="generator")
    for s, (res, notes) in zip(
        seeds, par(delayed(_with_notes)(fn, runner, s) for s in seeds), strict=True
    ):
        out.append(res)
        runner.notes.extend(n for n in notes if n not in runner.notes)
        say(f"seed {s} done")
    return out
