"""The attribution lab: which attribution model tells the truth on journeys like ours?

For every scenario and seed the lab simulates a population with
:func:`synthcust.simulation.journeys.simulate`, runs every attribution model on the observed
touch log only, and scores each model's credit shares ``m`` against the true Shapley shares
``t`` of the incremental conversions (known by construction):

``mae``
    Mean absolute error of the shares over channels, ``mean_c |m_c - t_c|`` (0 = perfect).
``kendall_tau``
    Kendall's tau-b between ``m`` and ``t`` (1 = the channel ranking is right).
``regret``
    **Budget regret**: the share of incremental conversions lost when a budget that is
    currently optimal is reallocated in proportion to the model's shares. Each channel's
    incremental conversions follow square-root diminishing returns in its spend,
    ``y_c(b_c) = Delta_c * sqrt(b_c / b*_c)``, where ``Delta_c`` is its true (Shapley)
    incremental contribution at today's spend ``b*_c``, and today's spend is optimal for the
    fixed total, which for these curves means ``b*_c`` proportional to ``Delta_c``. Moving to
    ``b_c`` proportional to ``m_c`` (negative shares clipped to 0) yields
    ``sum_c Delta_c sqrt(m_c / t_c)``, so ``regret = 1 - sum_c sqrt(t_c * m_c)`` (one minus the
    Bhattacharyya coefficient: 0 iff ``m = t``, at most 1).
``lost_per_10k``
    The regret in conversions per 10,000 users: ``regret * incremental conversions / users``.

Shapley and logistic are told the conversion rate of the users no channel touched (observable
in a user-level log of all site users, not ground truth); ``shapley_nobase`` is Shapley without
it (path-table practice: every conversion is owed to a channel).

Examples
--------
>>> lab = evaluate(["independent"], seeds=1, n_users=3_000, models=["last_touch", "markov_1"])
>>> sorted(lab.runs["model"].unique())
['last_touch', 'markov_1']
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from synthcust.exceptions import DataError
from synthcust.reporting import Report, plots
from synthcust.simulation.attribution import DEFAULT_MODELS, attribute, load_journeys, shapley
from synthcust.simulation.journeys import SCENARIOS, Scenario, get_scenario, simulate
from synthcust.simulation.reports import table_view

__all__ = ["LAB_MODELS", "LabResult", "budget_regret", "evaluate", "score_shares"]

LAB_MODELS = (*DEFAULT_MODELS, "shapley_nobase")


def budget_regret(model: np.ndarray, truth: np.ndarray) -> float:
    """``1 - sum_c sqrt(t_c m_c)`` with both share vectors clipped at 0 and renormalised.

    >>> round(budget_regret(np.array([0.5, 0.5]), np.array([0.5, 0.5])), 12)
    0.0
    """
    m = np.clip(np.asarray(model, float), 0, None)
    t = np.clip(np.asarray(truth, float), 0, None)
    if m.sum() <= 0 or t.sum() <= 0:
        return 1.0
    return float(1.0 - np.sqrt((m / m.sum()) * (t / t.sum())).sum())


def score_shares(model: pd.Series, truth: pd.Series) -> dict[str, float]:
    """MAE, Kendall tau-b and budget regret of credit shares ``model`` against ``truth``."""
    m = model.reindex(truth.index).fillna(0.0).to_numpy(float)
    t = truth.to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tau = float(kendalltau(m, t).statistic) if len(t) > 1 else float("nan")
    return {
        "mae": float(np.abs(m - t).mean()),
        "kendall_tau": tau,
        "regret": budget_regret(m, t),
    }


@dataclass
class LabResult(Report):
    """Per run scores (``runs``) and credit shares (``shares``, with model ``truth``).

    A :class:`synthcust.reporting.Report`: ``write(path)`` writes the HTML page (template
    ``simulation_attribution_lab.html.j2``) and its JSON twin.
    """

    template: ClassVar[str] = "simulation_attribution_lab.html.j2"
    title: ClassVar[str] = "synthcust attribution lab"

    runs: pd.DataFrame
    shares: pd.DataFrame
    n_users: int
    seeds: list[int]
    scenarios: dict[str, Scenario] = field(default_factory=dict)

    def _scenario(self, name: str) -> Scenario:
        return self.scenarios.get(name) or get_scenario(name)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation over seeds per scenario and model."""
        g = self.runs.groupby(["scenario", "model"], sort=False)
        out = g[["mae", "kendall_tau", "regret", "lost_per_10k"]].agg(["mean", "std"])
        out.columns = [f"{a}_{b}" for a, b in out.columns]
        return out.reset_index()

    def table(self) -> pd.DataFrame:
        """Readable table: ``mean ± sd`` strings, one row per scenario and model."""
        s = self.summary()
        out = s[["scenario", "model"]].copy()
        for k, fmt in (("mae", "{:.3f}"), ("kendall_tau", "{:.2f}"), ("regret", "{:.3f}")):
            out[k] = [
                (fmt.format(a) + " ± " + fmt.format(0 if np.isnan(b) else b))
                for a, b in zip(s[f"{k}_mean"], s[f"{k}_std"], strict=True)
            ]
        out["lost_per_10k"] = s["lost_per_10k_mean"].round(1)
        return out

    def mean_shares(self) -> pd.DataFrame:
        """Average credit share per scenario, channel and model (columns) over seeds."""
        return self.shares.pivot_table(
            index=["scenario", "channel"], columns="model", values="share", aggfunc="mean"
        )

    def to_dict(self) -> dict:
        """Every figure, JSON-ready."""
        return {
            "n_users": self.n_users,
            "seeds": self.seeds,
            "summary": json.loads(self.summary().to_json(orient="records")),
            "runs": json.loads(self.runs.to_json(orient="records")),
            "shares": json.loads(self.shares.to_json(orient="records")),
            "scenarios": {s: self._scenario(s).to_dict() for s in self.runs["scenario"].unique()},
        }

    def figures(self) -> dict[str, str]:
        """Inline SVG plots: score per model and scenario, and true vs credited shares."""
        plt = plots.pyplot()
        s = self.summary()
        scen = list(dict.fromkeys(s["scenario"]))
        models = list(dict.fromkeys(s["model"]))
        figs: dict[str, str] = {}
        for metric, label in (("mae", "share MAE vs truth"), ("regret", "budget regret")):
            fig, axes = plt.subplots(
                1, len(scen), figsize=(2.6 * len(scen), 0.28 * len(models) + 1.0), sharey=True
            )
            axes = np.atleast_1d(axes)
            for ax, sc in zip(axes, scen, strict=True):
                sub = s[s["scenario"] == sc].set_index("model").reindex(models)
                y = np.arange(len(models))
                ax.barh(
                    y,
                    sub[f"{metric}_mean"],
                    xerr=sub[f"{metric}_std"].fillna(0),
                    color="#1f5fa8",
                    ecolor="#555",
                    capsize=2,
                )
                if metric == "mae":  # the goal for Markov/Shapley (independent)
                    ax.axvline(0.02, color="#999", lw=0.8, ls="--")
                ax.set_yticks(y, models)
                ax.invert_yaxis()
                ax.set_title(sc, fontsize=8)
                ax.set_xlabel(label, fontsize=7)
            figs[metric] = plots.svg(fig)
        ms = self.mean_shares()
        show = [m for m in ("truth", "last_touch", "first_touch", "markov_1", "shapley",
                            "logistic") if m in ms.columns]  # fmt: skip
        colors = ["#222222", "#e07b39", "#c9a227", "#1f5fa8", "#2a9d4b", "#8a5fbf"]
        for sc in scen:
            sub = ms.loc[sc, show]
            fig, ax = plt.subplots(figsize=(0.9 * len(sub) + 1.8, 2.4))
            x = np.arange(len(sub))
            w = 0.8 / len(show)
            for i, m in enumerate(show):
                ax.bar(x + i * w - 0.4 + w / 2, sub[m], w, label=m, color=colors[i % 6])
            ax.set_xticks(x, sub.index, fontsize=7)
            ax.set_ylabel("credit share")
            ax.legend(fontsize=6, frameon=False, ncol=3, loc="lower left", bbox_to_anchor=(0, 1))
            figs[f"shares_{sc}"] = plots.svg(fig)
        return figs

    # ---- report (synthcust.reporting.Report)
    def context(self) -> dict[str, Any]:
        """Template variables of ``simulation_attribution_lab.html.j2``."""
        tab = self.table()
        scen = list(dict.fromkeys(self.runs["scenario"]))
        return {
            "r": self,
            "scenarios": [(s, self._scenario(s).description) for s in scen],
            "scores": table_view(tab, len(tab), raw=True),
            "figs": self.figures(),
            "method": (__doc__ or "").split("Examples")[0],
        }


def evaluate(
    scenarios: Sequence[str | Scenario] | None = None,
    seeds: int | Sequence[int] = 5,
    n_users: int = 50_000,
    models: Sequence[str] = LAB_MODELS,
    progress: Callable[[int, int], None] | None = None,
) -> LabResult:
    """Score attribution models against the simulator's truth over scenarios and seeds.

    Parameters
    ----------
    scenarios : sequence of str or Scenario, optional
        Scenario names or your own :class:`Scenario` objects (default: all named scenarios).
    seeds : int or sequence of int
        Number of seeds (0..N-1) or the seeds themselves.
    n_users : int
        Users per simulated population.
    models : sequence of str
        Attribution models (see :mod:`synthcust.simulation.attribution`) and
        ``shapley_nobase``.
    progress : callable, optional
        Called as ``progress(done, total)`` after each run.
    """
    objs = [get_scenario(s) for s in (scenarios or list(SCENARIOS))]
    names = [o.name for o in objs]
    if len(set(names)) != len(names):
        raise DataError(f"scenario names repeat: {names}; give each scenario its own name")
    scen = dict(zip(names, objs, strict=True))
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise DataError("need at least one seed")
    core = [m for m in models if m != "shapley_nobase"]
    runs, shares = [], []
    total, done = len(scen) * len(seed_list), 0
    for sc, obj in scen.items():
        for seed in seed_list:
            sim = simulate(obj, n_users, random_state=seed)
            truth = sim.truth.shares
            d = load_journeys(sim.touches)
            b = sim.untouched_conversion_rate
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = attribute(d, core, baseline_rate=b, random_state=seed)
                cred = res.credits
                if "shapley_nobase" in models:
                    cred = cred.assign(shapley_nobase=shapley(d, random_state=seed))
            sh = cred.clip(lower=0)
            sh = sh / sh.sum().replace(0, np.nan)
            incr = sim.truth.total - sim.truth.baseline
            for m in sh.columns:
                sc_ = score_shares(sh[m], truth)
                runs.append(
                    {
                        "scenario": sc,
                        "seed": seed,
                        "model": m,
                        **sc_,
                        "lost_per_10k": sc_["regret"] * incr / n_users * 1e4,
                    }
                )
            for m, col in [("truth", truth), *sh.items()]:
                for ch, v in col.items():
                    shares.append(
                        {"scenario": sc, "seed": seed, "model": m, "channel": ch, "share": v}
                    )
            done += 1
            if progress is not None:
                progress(done, total)
    return LabResult(pd.DataFrame(runs), pd.DataFrame(shares), n_users, seed_list, scen)
