"""Behaviour validation: do the choice models predict what real households did next?

Protocol (``docs/methods/metrics.md#choice-validation``): for every household, its last 20% of
purchase
occasions (in occasion order: the ``order`` column, else data order; at least one for every
household with >= 2 occasions, never all of them) are held out; the models are fitted on the
rest and predict the held-out occasions under their actual prices, displays and features.
Households with a single occasion cannot be held out; they stay in the training data and the
report counts them. Without a household column the last 20% of all occasions are held out.

Models compared:

* **baseline** - MNL with brand constants and price only (the yardstick of the protocol),
* **pooled MNL** - constants, every attribute and covariate, one set of tastes for everyone,
* **latent class (K)** - the same utility with K household classes (persona-aware: classes
  are segments of households, tied to a persona column when one is given); a held-out
  occasion is predicted with its household's posterior class probabilities from its training
  occasions, and also with the prior only (a new customer of the same population).

Figures: predicted vs actual holdout shares (max absolute difference in points; goal <= 3),
hit rate (the most probable alternative was the one bought), log-likelihood per occasion, and
paired household-bootstrap 95% intervals of the differences to the pooled model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError
from synthcust.reporting import Report, plots
from synthcust.simulation.choice import (
    ChoiceData,
    ChoiceModel,
    LatentClassLogit,
    MultinomialLogit,
    select_n_classes,
)
from synthcust.simulation.choice_report import ChoiceModelReport, model_report

__all__ = [
    "BehaviourValidation",
    "ChoiceModelReport",
    "holdout_split",
    "model_report",
    "validate_behaviour",
    "write_behaviour_report",
]

SHARE_GOAL_PTS = 3.0


def holdout_split(
    data: ChoiceData, holdout: float = 0.2
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Boolean masks (train, test) holding out each household's last ``holdout`` share.

    A household with ``n >= 2`` occasions gives ``max(1, round(holdout * n))`` (at most
    ``n - 1``) of its last occasions; one with a single occasion is kept in training.
    """
    if not 0 < holdout < 1:
        raise DataError(f"holdout must be between 0 and 1, not {holdout}")
    n = data.n
    if data.household is None:
        k = max(1, int(np.floor(holdout * n + 0.5)))
        if n < 2:
            raise DataError("need at least two occasions to hold any out")
        test = np.arange(n) >= n - k
        return ~test, test, {"households": None, "single_occasion_households": 0}
    hh = pd.Series(data.household)
    size = hh.map(hh.value_counts()).to_numpy()
    rank = data.occasion_rank()
    k = np.minimum(np.maximum(1, np.floor(holdout * size + 0.5)), size - 1)
    test = rank >= size - k
    singles = int((hh.value_counts() == 1).sum())
    info = {"households": int(hh.nunique()), "single_occasion_households": singles,
            "held_out_households": int(hh[test].nunique())}  # fmt: skip
    return ~test, test, info


@dataclass
class ModelScore:
    """Holdout figures of one model."""

    name: str
    description: str
    predicted_shares: dict[str, float]
    max_abs_share_diff_pts: float
    hit_rate: float
    loglik_per_occasion: float
    n_params: int
    train_loglik: float
    bic: float
    share_noise_pts: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """The figures as a dict."""
        return dict(self.__dict__)


@dataclass
class BehaviourValidation(Report):
    """Result of :func:`validate_behaviour`.

    A :class:`synthcust.reporting.Report`: ``write(path)`` writes the HTML page (template
    ``simulation_behaviour.html.j2``) and its JSON twin; ``title`` heads the page.
    """

    template: ClassVar[str] = "simulation_behaviour.html.j2"

    alternatives: list[str]
    actual_shares: dict[str, float]
    scores: list[ModelScore]
    comparisons: list[dict[str, Any]]
    verdict: list[str]
    split: dict[str, Any]
    command: str | None = None
    notes: list[str] = field(default_factory=list)
    title: str = "Behaviour validation"

    def score(self, name: str) -> ModelScore:
        """The scores of the model called ``name``."""
        return next(s for s in self.scores if s.name == name)

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-ready."""
        return {
            "protocol": __doc__.split("\n\n")[1].replace("\n", " "),
            "alternatives": self.alternatives,
            "actual_shares": self.actual_shares,
            "scores": [s.to_dict() for s in self.scores],
            "comparisons": self.comparisons,
            "verdict": self.verdict,
            "split": self.split,
            "command": self.command,
            "notes": self.notes,
        }

    def table(self) -> pd.DataFrame:
        """One row per model: the headline figures."""
        return pd.DataFrame([{
            "model": s.name, "max |share diff| (pts)": s.max_abs_share_diff_pts,
            "sampling noise, 95% (pts)": s.share_noise_pts,
            "hit rate": s.hit_rate, "loglik / occasion": s.loglik_per_occasion,
            "parameters": s.n_params, "BIC (train)": s.bic,
        } for s in self.scores])  # fmt: skip

    # ---- report (synthcust.reporting.Report)
    def plot_svg(self) -> str:
        """Predicted vs actual held-out shares per alternative (actual with a 95% band)."""
        plt = plots.pyplot()
        alts = self.alternatives
        fig, ax = plt.subplots(figsize=(6.4, 2.8))
        width = 0.8 / (len(self.scores) + 1)
        x = np.arange(len(alts))
        act = np.array([self.actual_shares[a] for a in alts])
        n_test = self.split["test_occasions"]
        ax.bar(x, 100 * act, width, label="actual (holdout, 95% band)", color=plots.REAL,
               yerr=196 * np.sqrt(act * (1 - act) / n_test), capsize=2)  # fmt: skip
        colors = [plots.HOLD, plots.SYNTH, "#2e9d58", "#8e5bb5", "#c44e52"]
        for i, s in enumerate(self.scores):
            ax.bar(x + (i + 1) * width, [100 * s.predicted_shares[a] for a in alts], width,
                   label=s.name, color=colors[i % len(colors)])  # fmt: skip
        ax.set_xticks(x + width * len(self.scores) / 2, alts, fontsize=8)
        ax.set_ylabel("share of held-out occasions (%)")
        plots.legend(ax)
        return plots.svg(fig)

    def context(self) -> dict[str, Any]:
        """Template variables of ``simulation_behaviour.html.j2``."""
        sp = self.split
        split_txt = (
            f"{sp['train_occasions']} training and {sp['test_occasions']} held-out occasions"
            + (f" from {sp['households']} households ({sp['single_occasion_households']} with "
               "a single occasion cannot be held out and only train)"
               if sp.get("households") else " (no household column: the last share of all "
               "occasions is held out)")
        )  # fmt: skip
        return {
            "r": self,
            "protocol": (__doc__ or "").split(chr(10) * 2)[1],
            "split_text": split_txt,
            "plot": self.plot_svg(),
        }


def _share_noise(P: np.ndarray, reps: int, rng: np.random.Generator) -> float:
    """95th percentile of the max abs share difference (points) between the predicted shares
    and shares of choices drawn from the predictions themselves: how far a model that were
    exactly right would still land from the actual shares on a holdout of this size."""
    u = rng.random((reps, len(P), 1))
    draws = (P.cumsum(1)[None] < u).sum(2).clip(max=P.shape[1] - 1)  # (reps, n)
    J = P.shape[1]
    counts = np.stack([np.bincount(r, minlength=J) for r in draws]) / len(P)
    return float(100 * np.quantile(np.abs(counts - P.mean(0)).max(1), 0.95))


def _score(name: str, desc: str, model: ChoiceModel, test: ChoiceData, P: np.ndarray,
           alts: list[str], rng: np.random.Generator) -> tuple[ModelScore, np.ndarray,
                                                               np.ndarray]:  # fmt: skip
    actual = np.bincount(test.y, minlength=len(alts)) / test.n
    pred = P.mean(0)
    lp = np.log(np.clip(P[np.arange(test.n), test.y], 1e-300, None))
    hit = (P.argmax(1) == test.y).astype(float)
    s = ModelScore(
        name, desc, dict(zip(alts, pred.tolist(), strict=True)),
        float(100 * np.abs(pred - actual).max()), float(hit.mean()), float(lp.mean()),
        len(model.theta_), float(model.loglik_), float(model.bic_), _share_noise(P, 400, rng),
    )  # fmt: skip
    return s, lp, hit


def _boot_diff(a: np.ndarray, b: np.ndarray, units: np.ndarray, reps: int,
               rng: np.random.Generator) -> tuple[float, float, float]:  # fmt: skip
    """Mean of a - b with a paired bootstrap interval over units (households), vectorised."""
    codes, _ = pd.factorize(units)
    U = codes.max() + 1
    d = np.bincount(codes, a - b, minlength=U)
    cnt = np.bincount(codes, minlength=U).astype(float)
    W = rng.multinomial(U, np.full(U, 1 / U), size=reps)  # household resampling weights
    boots = (W @ d) / (W @ cnt)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return float(d.sum() / cnt.sum()), float(lo), float(hi)


def validate_behaviour(
    data: ChoiceData,
    *,
    holdout: float = 0.2,
    n_classes: int | str = 3,
    n_init: int = 3,
    bootstrap: int = 1000,
    random_state: int | None = 0,
    command: str | None = None,
) -> BehaviourValidation:
    """Run the holdout protocol of the module docstring on ``data``.

    ``n_classes="auto"`` picks the number of latent classes (2-6) by BIC on the training
    occasions only; the held-out occasions play no part in the choice.

    Examples
    --------
    >>> from synthcust.simulation.choice import choice_data, detect_spec
    >>> rng = np.random.default_rng(0)
    >>> n = 600
    >>> pr = rng.uniform(1, 2, (n, 2))
    >>> y = (np.array([0, 0.2]) - 2 * pr + rng.gumbel(size=pr.shape)).argmax(1)
    >>> df = pd.DataFrame(pr, columns=["price.a", "price.b"]).assign(id=np.arange(n) // 10)
    >>> df["choice"] = np.array(["a", "b"])[y]
    >>> v = validate_behaviour(choice_data(df, detect_spec(df)), n_classes=2, bootstrap=50)
    >>> v.score("baseline").hit_rate > 0.5
    True
    """
    spec = data.spec
    alts = list(spec.alternatives)
    if spec.price is None:
        raise DataError("the validation's baseline needs a price attribute (--price-prefix)")
    train_m, test_m, info = holdout_split(data, holdout)
    notes = list(data.notes)
    if info.get("single_occasion_households"):
        notes.append(
            f"{info['single_occasion_households']} household(s) have a single occasion: it "
            "cannot be held out (nothing would be left to learn the household from), so they "
            "only contribute to training"
        )
    if data.household is None:
        notes.append(
            "no household column: the last share of all occasions (in order) is held out, and "
            "latent classes are classes of single occasions (no household posterior)"
        )
    train, test = data.take(train_m), data.take(test_m)
    if test.n == 0:
        raise DataError(
            "nothing to hold out: every household has a single occasion. The protocol needs "
            "households with >= 2 purchase occasions."
        )
    info.update(train_occasions=int(train.n), test_occasions=int(test.n), holdout=holdout)
    base_train, base_test = _price_only(train), _price_only(test)
    utility_all = "constants + " + " + ".join(
        [*spec.attribute_names, *(f"{c} x alternative" for c in spec.covariates)]
    )
    results: list[tuple[ModelScore, np.ndarray, np.ndarray]] = []
    rng = resolve_rng(random_state)
    m0 = MultinomialLogit().fit(base_train)
    results.append(_score("baseline", f"MNL: constants + {spec.price}", m0, base_test,
                          m0.predict_proba(base_test), alts, rng))  # fmt: skip
    m1 = MultinomialLogit().fit(train)
    results.append(_score("pooled MNL", f"MNL: {utility_all}", m1, test,
                          m1.predict_proba(test), alts, rng))  # fmt: skip
    lc_names = []
    if n_classes == "auto":
        lc, ktab = select_n_classes(train, n_init=n_init, random_state=random_state)
        n_classes = lc.n_classes
        info["class_selection"] = ktab.to_dict(orient="records")
        notes.append(
            f"{n_classes} latent classes chosen by BIC on the training occasions among "
            + ", ".join(f"K={r.classes}: {r.bic:.1f}" for r in ktab.itertuples())
        )
    elif not isinstance(n_classes, int):
        raise DataError(f"n_classes must be an integer or 'auto', not {n_classes!r}")
    elif n_classes >= 2:
        lc = LatentClassLogit(n_classes, n_init=n_init, random_state=random_state).fit(train)
    if isinstance(n_classes, int) and n_classes >= 2:
        tied = f", membership by {spec.persona}" if spec.persona else ""
        nm = f"latent class ({n_classes})"
        lc_names.append(nm)
        results.append(_score(nm, f"{n_classes} household classes{tied}: {utility_all}; "
                              "household posterior", lc, test,
                              lc.predict_proba(test, posterior=True), alts, rng))  # fmt: skip
        results.append(_score(f"{nm}, prior only", "same model, class probabilities from the "
                              "membership model only (a new customer)", lc, test,
                              lc.predict_proba(test, posterior=False), alts, rng))  # fmt: skip
        notes += [f"latent class: {n}" for n in lc.notes_ if n not in notes]
    units = test.household if test.household is not None else np.arange(test.n)
    comparisons = _comparisons(results, lc_names, units, bootstrap, rng)
    actual = np.bincount(test.y, minlength=len(alts)) / test.n
    scores = [s for s, _, _ in results]
    verdict = _verdict(scores, comparisons, lc_names)
    return BehaviourValidation(
        alts, dict(zip(alts, actual.tolist(), strict=True)), scores, comparisons, verdict,
        info, command, notes,
    )  # fmt: skip


def _price_only(d: ChoiceData) -> ChoiceData:
    """The same occasions with the price as the only attribute and no covariates."""
    spec = d.spec
    return ChoiceData(spec.with_attributes([spec.price], covariates=False),
                      d.X[:, :, [spec.attribute_names.index(spec.price)]], d.y, d.avail,
                      np.empty((d.n, 0)), d.household, d.persona, d.M, d.rows, [])  # fmt: skip


def _comparisons(results: list[tuple[ModelScore, np.ndarray, np.ndarray]], lc_names: list[str],
                 units: np.ndarray, bootstrap: int,
                 rng: np.random.Generator) -> list[dict[str, Any]]:  # fmt: skip
    """Paired household-bootstrap differences of loglik and hit rate between the models."""
    by = {s.name: (s, lp, hit) for s, lp, hit in results}
    comparisons = []
    for a, b in [("pooled MNL", "baseline"), *[(n, "pooled MNL") for n in lc_names],
                 *[(n, "baseline") for n in lc_names]]:  # fmt: skip
        _, lpa, ha = by[a]
        _, lpb, hb = by[b]
        ll = _boot_diff(lpa, lpb, units, bootstrap, rng)
        hr = _boot_diff(ha, hb, units, bootstrap, rng)
        comparisons.append({"model": a, "versus": b, "loglik_diff": ll[0], "loglik_low": ll[1],
                            "loglik_high": ll[2], "hit_diff": hr[0], "hit_low": hr[1],
                            "hit_high": hr[2]})  # fmt: skip
    return comparisons


def _verdict(scores: list[ModelScore], comps: list[dict[str, Any]], lc: list[str]) -> list[str]:
    by = {s.name: s for s in scores}
    base = by["baseline"]
    out = []
    for s in scores:
        ok = s.max_abs_share_diff_pts <= SHARE_GOAL_PTS
        out.append(
            f"{s.name}: predicted holdout shares within {s.max_abs_share_diff_pts:.2f} points "
            f"of actual ({'meets' if ok else 'MISSES'} the {SHARE_GOAL_PTS:g}-point goal; a "
            f"model that were exactly right would land within {s.share_noise_pts:.2f} points "
            "95% of the time on a holdout this size); "
            f"hit rate {s.hit_rate:.3f} vs baseline {base.hit_rate:.3f}"
            + ("" if s is base else (" (above)" if s.hit_rate > base.hit_rate
                                     else " (NOT above the baseline)"))
        )  # fmt: skip
    for c in comps:
        if c["versus"] != "pooled MNL":
            continue
        sig_ll = c["loglik_low"] > 0
        better = c["loglik_diff"] > 0 and c["hit_diff"] >= 0
        if better and sig_ll:
            word = "BEATS"
        elif better:
            word = "is ahead of, but not significantly,"
        else:
            word = "does NOT beat"
        out.append(
            f"{c['model']} {word} the pooled MNL on held-out occasions: loglik/occasion "
            f"{c['loglik_diff']:+.4f} [{c['loglik_low']:+.4f}, {c['loglik_high']:+.4f}], "
            f"hit rate {c['hit_diff']:+.3f} [{c['hit_low']:+.3f}, {c['hit_high']:+.3f}]"
        )
    if not lc:
        out.append("no latent-class model was fitted (classes < 2): persona-awareness untested")
    return out


def write_behaviour_report(result: BehaviourValidation, path: str | os.PathLike[str],
                           title: str = "Behaviour validation") -> tuple[Path, Path]:  # fmt: skip
    """Write the validation as a self-contained HTML page and its JSON twin (atomically).

    Returns
    -------
    tuple of Path
        The HTML and the JSON file.
    """
    p = Path(path)
    if p.suffix == ".json":
        raise DataError(f"the report {p} must not end in .json (the JSON twin goes beside it)")
    replace(result, title=title).write(p)
    return p, p.with_suffix(".json")
