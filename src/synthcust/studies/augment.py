"""The augment-study: does oversampling or synthetic augmentation help *this* classifier?

Two protocols from ``BENCHMARKS.md`` (Utility), run across methods and repeated over seeds:

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

import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
from synthcust.evaluation.splits import train_holdout_split
from synthcust.exceptions import DataError
from synthcust.synthesizers.oversampling.oversample import (
    SMOTE_KINDS,
    _layout,
    check_target,
    fit_per_class,
    generative_rows,
    smote_rows,
    target_counts,
)

__all__ = ["DEFAULT_METHODS", "AugmentStudyResult", "augment_study", "bootstrap_auc_f1"]

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


# ------------------------------------------------------------------------------ results
@dataclass
class AugmentStudyResult:
    """What :func:`augment_study` measured.

    ``full`` and ``small``: one row per method (index), columns ``f1``/``auc`` (means over
    seeds), ``f1_diff``/``auc_diff`` (vs ``none``) with ``*_lower``/``*_upper`` (95% CI) and
    ``seconds``; ``small`` has ``auc_diff_rest`` / ``auc_diff_holdout`` and their CIs.
    ``per_seed_full`` / ``per_seed_small``: one row per (method, seed).
    """

    target: str
    positive: str
    classifier: str
    seeds: list[int]
    full: pd.DataFrame | None
    small: pd.DataFrame | None
    per_seed_full: pd.DataFrame | None
    per_seed_small: pd.DataFrame | None
    verdict: str
    how: dict[str, str]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        def tab(df: pd.DataFrame | None) -> Any:
            if df is None:
                return None
            return json.loads(df.reset_index().to_json(orient="records"))

        return {
            "target": self.target,
            "positive": self.positive,
            "classifier": self.classifier,
            "seeds": self.seeds,
            "verdict": self.verdict,
            "how": self.how,
            "notes": self.notes,
            "seconds": self.seconds,
            "full": tab(self.full),
            "small": tab(self.small),
            "per_seed_full": tab(self.per_seed_full),
            "per_seed_small": tab(self.per_seed_small),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def plot_svg(self) -> str:
        """Forest plot: each method's change vs ``none`` with its 95% CI (inline SVG)."""
        from synthcust.reporting import plots
        from synthcust.reporting.plots import HOLD, REAL, SYNTH

        plt = plots.pyplot()
        panels = []
        if self.full is not None:
            panels += [
                (self.full, "f1_diff", "Full data: minority F1 vs none"),
                (self.full, "auc_diff", "Full data: AUC vs none"),
            ]
        if self.small is not None:
            col = "auc_diff_rest" if "auc_diff_rest" in self.small else "auc_diff_holdout"
            panels.append((self.small, col, "Small data: AUC vs none (real rows)"))
        fig, axes = plt.subplots(
            1, len(panels), figsize=(3.4 * len(panels), 0.32 * _n_rows(panels) + 1.2)
        )
        axes = np.atleast_1d(axes)
        for ax, (df, col, title) in zip(axes, panels, strict=True):
            d = df.drop(index="none", errors="ignore")
            y = np.arange(len(d))[::-1]
            lo, hi, mid = d[f"{col}_lower"], d[f"{col}_upper"], d[col]
            colors = [
                REAL if a > 0 else (SYNTH if b < 0 else HOLD) for a, b in zip(lo, hi, strict=True)
            ]
            ax.hlines(y, lo, hi, color=colors, lw=2)
            ax.scatter(mid, y, color=colors, zorder=3, s=14)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_yticks(y, list(d.index), fontsize=8)
            ax.set_title(title, fontsize=9, loc="left")
            ax.set_xlabel("difference (95% CI)")
        fig.tight_layout()
        return plots.svg(fig)

    def to_html(self) -> str:
        """A self-contained HTML page: verdict, tables, plot and how each figure was measured."""
        import html

        def table(df: pd.DataFrame | None, title: str) -> str:
            if df is None:
                return ""
            return f"<h2>{html.escape(title)}</h2>" + df.to_html(
                float_format=lambda v: f"{v:.4f}", border=0, classes="t"
            )

        how = "".join(
            f"<p><b>{html.escape(k)}</b>: {html.escape(v)}</p>" for k, v in self.how.items()
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>augment-study</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
            "table.t{border-collapse:collapse;font-size:13px}table.t td,table.t th"
            "{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}</style></head><body>"
            f"<h1>augment-study: target {html.escape(self.target)!s} "
            f"(minority class {html.escape(self.positive)})</h1>"
            f"<p><b>Verdict.</b> {html.escape(self.verdict)}</p>{self.plot_svg()}"
            "<p>Each line: a method's mean change vs no oversampling ('none') with its 95% CI. "
            "Blue: a reliable gain (CI above 0); orange: reliably worse (CI below 0); grey: the "
            "CI includes 0 (no reliable difference).</p>"
            + table(self.full, "Full-data comparison (real holdout)")
            + table(self.small, "Small-data protocol (real held-out and never-drawn rows)")
            + f"<h2>How these figures were measured</h2>{how}"
            + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
            + "</body></html>"
        )


def _n_rows(panels: list[tuple[pd.DataFrame, str, str]]) -> int:
    return max(len(p[0]) for p in panels) if panels else 1


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


def _t_ci(d: np.ndarray) -> tuple[float, float, float]:
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return math.nan, math.nan, math.nan
    m = float(d.mean())
    if len(d) < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return m, m - half, m + half


# ------------------------------------------------------------------------------ models
def _make_model(classifier: str, seed: int, balanced: bool) -> Any:
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
class _Data:
    X: pd.DataFrame  # raw features (ids dropped)
    labels: np.ndarray  # class labels as text
    Xm: pd.DataFrame  # model frame of X (levels from the real data)
    cat: list[str]
    levels: dict[str, list[str]]
    layout: Any  # synthcust.synthesizers.oversampling.oversample._Layout of X (kinds inferred once)


def _prepare(df: pd.DataFrame, target: str, drop: Sequence[str]) -> tuple[_Data, list[str]]:
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
    lay = _layout(X, None)
    if lay.ids:
        notes.append(f"id column(s) {lay.ids} are not features: left out of the study")
        X = X.drop(columns=lay.ids)
    labels = class_labels(y, pd.api.types.is_numeric_dtype(y.dtype)).to_numpy(dtype=object)
    cat = [c for c in X.columns if c not in set(lay.numeric)]
    levels = category_levels([X], cat)
    lay.ids = []
    return _Data(X, labels, model_frame(X, cat, levels), cat, levels, lay), notes


class _Runner:
    """Builds the training rows of each method and scores the classifier on real rows."""

    def __init__(
        self,
        data: _Data,
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
            clf = _make_model(self.classifier, seed, balanced).fit(fit_ready(Xt), yt)
            return [score_rows(clf, self.d.Xm.iloc[e], self.classes, self.positive) for e in evals]


def score_rows(clf: Any, X_real: pd.DataFrame, classes: list[str], positive: str) -> np.ndarray:
    """P(positive) of the classifier on real evaluation rows (the one place rows are scored)."""
    P = proba_for(clf, X_real, classes)
    return P[:, classes.index(positive)]


def _fit_synth(name: str, params: dict[str, Any] | None, seed: int, frame: pd.DataFrame) -> Any:
    from synthcust.synthesizers.oversampling.oversample import build_synthesizer

    model = build_synthesizer(name, params, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(frame)


def _f1_at(y: np.ndarray, p: np.ndarray) -> float:
    pred = p >= 0.5
    tp = float((pred & y).sum())
    den = 2 * tp + float((pred & ~y).sum()) + float((~pred & y).sum())
    return 2 * tp / den if den else 0.0


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
        Small-data protocol sizes (1,200 / 960 / 4,000 as in BENCHMARKS.md).
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
    methods = list(dict.fromkeys(methods))
    if "none" not in methods:
        methods.insert(0, "none")
    from synthcust.synthesizers import REGISTRY

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
    data, notes = _prepare(df, target, drop)
    counts = pd.Series(data.labels).value_counts()
    classes = sorted(counts.index)
    minority = min(classes, key=lambda c: (counts[c], c))
    pos = minority
    if positive is not None:
        pos = str(class_labels(pd.Series([positive]), isinstance(positive, int | float)).iloc[0])
        if pos not in classes:
            raise DataError(f"positive class {positive!r} is not among the classes {classes}")
    seeds = [random_state + i for i in range(repeats)]
    runner = _Runner(
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
    verdict = _verdict(full_tab, small_tab, len(seeds), n_fit)
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


def _full(
    runner: _Runner,
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
                    "f1": _f1_at(y_hold, probs[i, j]),
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
    runner: _Runner,
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
            mean, lo, hi = _t_ci((pm[col] - base[col]).to_numpy(dtype=float))
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
    runner: _Runner,
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
    runner: _Runner,
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
            rec[f"f1_{where}"] = _f1_at(yb, p)
        rec["train_rows"] = len(yt)
        rec["seconds"] = time.perf_counter() - t0
        recs.append(rec)
    return recs


def _quiet(_: str) -> None:
    return None


def _with_notes(fn: Callable[[int], Any], runner: _Runner, s: int) -> tuple[Any, list[str]]:
    return fn(s), list(runner.notes)


def _map(
    fn: Callable[[int], Any],
    seeds: list[int],
    n_jobs: int,
    runner: _Runner,
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


def _fmt_ci(m: float, lo: float, hi: float) -> str:
    return f"{m:+.4f} (95% CI {lo:+.4f} to {hi:+.4f})"


def _verdict(
    full: pd.DataFrame | None, small: pd.DataFrame | None, n_seeds: int, n_fit: int = 960
) -> str:
    parts = []
    if full is not None and len(full) > 1:
        d = full.drop(index="none")
        helped = d[d["f1_diff_lower"] > 0].sort_values("f1_diff", ascending=False)
        worse = list(d.index[d["f1_diff_upper"] < 0])
        if len(helped):
            b = helped.iloc[0]
            name = helped.index[0]
            auc_txt = _fmt_ci(b["auc_diff"], b["auc_diff_lower"], b["auc_diff_upper"])
            auc_gain = b["auc_diff_lower"] > 0
            parts.append(
                f"Full data ({n_seeds} seeds): {name} helped most: minority-class F1 "
                f"{b['f1']:.4f} vs {full.loc['none', 'f1']:.4f} without it, a change of "
                + _fmt_ci(b["f1_diff"], b["f1_diff_lower"], b["f1_diff_upper"])
                + f"; AUC {auc_txt}"
                + (
                    "."
                    if auc_gain
                    else " — no reliable AUC gain, so the F1 gain is mostly a shift of the "
                    "decision threshold (the same may be had by tuning it)."
                )
            )
            others = [m for m in helped.index[1:]]
            if others:
                parts.append(f"Also a reliable F1 gain: {', '.join(others)}.")
        else:
            parts.append(
                f"Full data ({n_seeds} seeds): no method gave a reliable gain in minority-class "
                "F1 (every 95% CI includes zero or lies below it): no reliable gain."
            )
        none_gain = [m for m in d.index if m not in helped.index and m not in worse]
        if none_gain:
            parts.append(f"No reliable gain: {', '.join(none_gain)}.")
        if worse:
            parts.append(f"Reliably worse F1: {', '.join(worse)}.")
    if small is not None and len(small) > 1:
        col = "auc_diff_rest"
        d = small.drop(index="none")
        best = d[col].idxmax()
        b = d.loc[best]
        reliable = b[f"{col}_lower"] > 0
        head = (
            f"Small data ({n_fit:,} real rows, {n_seeds} seeds, AUC on the real rows never drawn): "
        )
        ci = _fmt_ci(b[col], b[f"{col}_lower"], b[f"{col}_upper"])
        if reliable:
            parts.append(head + f"{best} helped most, AUC {ci}: a reliable gain.")
        else:
            parts.append(
                head + f"no method gave a reliable AUC gain (closest: {best}, {ci}): "
                "no reliable gain."
            )
        aug = [m for m in d.index if m.startswith("augment:")]
        for m in aug:
            if m == best:
                continue
            r = d.loc[m]
            ok, bad = r[f"{col}_lower"] > 0, r[f"{col}_upper"] < 0
            parts.append(
                f"{m} (BENCHMARKS small-data protocol): AUC "
                + _fmt_ci(r[col], r[f"{col}_lower"], r[f"{col}_upper"])
                + (
                    ", a reliable gain."
                    if ok
                    else (", reliably worse: no gain." if bad else ", no reliable gain.")
                )
            )
        worse = [m for m in d.index if d.loc[m, f"{col}_upper"] < 0]
        if worse:
            parts.append(f"Small data, reliably lower AUC: {', '.join(worse)}.")
    return " ".join(parts) if parts else "Nothing to compare (only 'none' was run)."
