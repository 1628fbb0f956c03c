"""The fitted funnel (:class:`FunnelModel`) and what a what-if returns (:class:`FunnelResult`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError
from synthcust.reporting import Report, plots
from synthcust.simulation.funnel_steps import apply_step_change, parse_step_change
from synthcust.simulation.reports import rests_on_view, table_view

__all__ = ["FunnelModel", "FunnelResult"]


@dataclass
class FunnelModel:
    """Step-through probabilities per group: Beta posteriors (``a``, ``b``) or given values.

    ``a``/``b`` have shape (groups, steps - 1): entry k is the step from ``steps[k]`` to
    ``steps[k + 1]``. ``weights`` are each group's share of sessions (for the ``all`` row).
    """

    steps: list[str]
    groups: list[str]
    a: np.ndarray
    b: np.ndarray
    weights: np.ndarray
    given: bool = False
    counts: pd.DataFrame | None = None
    prior: str = ""
    rests_on: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hyper: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
    x: np.ndarray | None = None
    n: np.ndarray | None = None

    @property
    def mean(self) -> np.ndarray:
        """Posterior mean (or given) step-through probabilities, (groups, steps - 1)."""
        return self.a / (self.a + self.b)

    def draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, groups, steps - 1) draws of the step-through probabilities (for the
        hierarchical prior: a prior grid point per draw and step, then the Beta posterior)."""
        if self.given:
            return np.broadcast_to(self.mean, (n, *self.a.shape)).copy()
        if self.hyper is None or self.x is None or self.n is None:
            return rng.beta(self.a, self.b, size=(n, *self.a.shape))
        out = np.empty((n, *self.a.shape))
        for k, (A, B, w) in enumerate(self.hyper):
            i = rng.choice(len(w), size=n, p=w)
            out[:, :, k] = rng.beta(A[i][:, None] + self.x[None, :, k],
                                    B[i][:, None] + (self.n - self.x)[None, :, k])  # fmt: skip
        return out

    def step_table(self, level: float = 0.95) -> pd.DataFrame:
        """Step-through probability per group and step: mean and equal-tailed interval."""
        lo, hi = 0.5 - level / 2, 0.5 + level / 2
        if self.given:
            low = high = self.mean
        elif self.hyper is not None:
            d = self.draws(4000, resolve_rng(0))
            low, high = np.quantile(d, lo, axis=0), np.quantile(d, hi, axis=0)
        else:
            low = stats.beta.ppf(lo, self.a, self.b)
            high = stats.beta.ppf(hi, self.a, self.b)
        G, K = self.a.shape
        df = pd.DataFrame({
            "group": np.repeat(self.groups, K),
            "from_step": np.tile(self.steps[:-1], G),
            "to_step": np.tile(self.steps[1:], G),
            "p_through": self.mean.ravel(), "low": np.asarray(low).ravel(),
            "high": np.asarray(high).ravel(),
        })  # fmt: skip
        if self.counts is not None:
            df = df.merge(self.counts, on=["group", "to_step"], how="left")
        return df

    def what_if(
        self,
        changes: Mapping[str, str] | None = None,
        *,
        n_draws: int = 2000,
        level: float = 0.95,
        random_state: int | None = 0,
    ) -> FunnelResult:
        """Reach, drop-off and completion per group, before and after ``changes``.

        ``changes`` maps a step (the step *reached*, e.g. ``cart``: the passage product ->
        cart) to a change of its step-through probability, see :func:`parse_step_change`.
        """
        changes = dict(changes or {})
        parsed = self._parse_changes(changes)
        rng = resolve_rng(random_state)
        R = max(int(n_draws), 1)
        base_draws = np.concatenate([self.mean[None], self.draws(R, rng)])  # (R+1, G, K-1)
        after = base_draws.copy()
        for s, (kind, v) in parsed.items():
            k = self.steps.index(s) - 1
            after[:, :, k] = apply_step_change(base_draws[:, :, k], kind, v)
            bad = (after[0, :, k] < 0) | (after[0, :, k] > 1)
            if bad.any():
                g = int(np.nonzero(bad)[0][0])
                raise DataError(
                    f"the change {changes[s]!r} makes the step-through probability into {s!r} "
                    f"{after[0, g, k]:.3f} for group {self.groups[g]!r}, outside [0, 1]; use "
                    "an odds multiplier (odds*1.2) to stay inside"
                )
            after[:, :, k] = np.clip(after[:, :, k], 0, 1)
        table = self._flow_table(base_draws, after, level)
        comp = table[table["outcome"] == "completed"][
            ["group", "share", "share_low", "share_high", "share_after", "change_pts",
             "change_low", "change_high"]
        ].rename(columns={"share": "completion", "share_low": "low", "share_high": "high",
                          "share_after": "completion_after"}).reset_index(drop=True)  # fmt: skip
        lost = table[table["outcome"] == "lost here"]
        worst = lost.loc[lost.groupby("group", sort=False)["share"].idxmax(), ["group", "step"]]
        comp = comp.merge(worst.rename(columns={"step": "most_lost_at"}), on="group", how="left")
        rests = dict(self.rests_on)
        assumptions = list(rests.get("assumptions", []))
        if parsed:
            assumptions.append(
                "the size of each what-if change ("
                + ", ".join(f"{s}: {c}" for s, c in changes.items())
                + ") is an assumption, not estimated from data; the intervals cover the "
                "uncertainty of the fitted step probabilities only"
            )
        rests["assumptions"] = assumptions
        return FunnelResult(self, changes, table, comp, rests, R if not self.given else 0,
                            level, list(self.notes))  # fmt: skip

    def _parse_changes(self, changes: dict[str, str]) -> dict[str, tuple[str, float]]:
        parsed = {}
        for s, ch in changes.items():
            if s not in self.steps:
                raise DataError(f"unknown step {s!r} in the change; the steps are {self.steps}")
            if s == self.steps[0]:
                raise DataError(
                    f"{s!r} is the entry step: it has no step-through probability to change "
                    f"(change {self.steps[1]!r} or a later step)"
                )
            parsed[s] = parse_step_change(ch)
        return parsed

    def _flows(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """reach (R, G+1, K) and lost-at (R, G+1, K) incl. completion in the last step."""
        reach = np.concatenate([np.ones((*p.shape[:2], 1)), np.cumprod(p, axis=2)], axis=2)
        nxt = np.concatenate([p, np.zeros((*p.shape[:2], 1))], axis=2)
        lost = reach * (1 - nxt)  # last step: "completed"
        w = self.weights[None, :, None]
        reach = np.concatenate([(reach * w).sum(1, keepdims=True), reach], axis=1)
        lost = np.concatenate([(lost * w).sum(1, keepdims=True), lost], axis=1)
        return reach, lost

    def _flow_table(self, base_draws: np.ndarray, after: np.ndarray,
                    level: float) -> pd.DataFrame:  # fmt: skip
        """Reach and share lost at every step per group, before and after, with intervals
        (row 0 of the draws is the point estimate)."""
        r0, l0 = self._flows(base_draws)
        _, l1 = self._flows(after)
        lo, hi = 0.5 - level / 2, 0.5 + level / 2
        groups = ["all", *self.groups] if len(self.groups) > 1 else list(self.groups)
        off = 1 if len(self.groups) > 1 else 0
        K = len(self.steps)

        def q(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            if self.given:
                return x[0], x[0]
            return np.quantile(x[1:], lo, axis=0), np.quantile(x[1:], hi, axis=0)

        rl, rh = q(r0)
        ll, lh = q(l0)
        dl, dh = q(l1 - l0)
        rows = []
        for gi, g in enumerate(groups):
            gj = gi + (1 - off)
            for k, s in enumerate(self.steps):
                rows.append({
                    "group": g, "step": s, "reach": r0[0, gj, k], "reach_low": rl[gj, k],
                    "reach_high": rh[gj, k],
                    "outcome": "completed" if k == K - 1 else "lost here",
                    "share": l0[0, gj, k], "share_low": ll[gj, k], "share_high": lh[gj, k],
                    "share_after": l1[0, gj, k],
                    "change_pts": 100 * (l1[0, gj, k] - l0[0, gj, k]),
                    "change_low": 100 * dl[gj, k], "change_high": 100 * dh[gj, k],
                })  # fmt: skip
        return pd.DataFrame(rows)


@dataclass
class FunnelResult(Report):
    """Reach / drop-off / completion per group before and after a what-if.

    A :class:`synthcust.reporting.Report`: ``write(path)`` writes the HTML page (template
    ``simulation_funnel.html.j2``) and its JSON twin.
    """

    template: ClassVar[str] = "simulation_funnel.html.j2"

    model: FunnelModel
    changes: dict[str, str]
    table: pd.DataFrame
    completion: pd.DataFrame
    rests_on: dict[str, Any]
    n_draws: int
    level: float
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-ready."""

        def recs(df: pd.DataFrame) -> list[dict[str, Any]]:
            return json.loads(df.to_json(orient="records"))

        return {
            "kind": "funnel",
            "steps": self.model.steps,
            "groups": self.model.groups,
            "prior": self.model.prior,
            "changes": self.changes,
            "n_draws": self.n_draws,
            "level": self.level,
            "step_probabilities": recs(self.model.step_table(self.level)),
            "dropoff": recs(self.table),
            "completion": recs(self.completion),
            "rests_on": self.rests_on,
            "notes": self.notes,
        }

    def plot_svg(self) -> str:
        """Stacked bars per group: share of entering sessions lost at each step, and completed
        (before, and after the change when there is one)."""
        plt = plots.pyplot()
        groups = list(dict.fromkeys(self.table["group"]))
        steps = self.model.steps
        cols = ["share", "share_after"] if self.changes else ["share"]
        labels, mats = [], []
        for g in groups:
            sub = self.table[self.table["group"] == g].set_index("step").loc[steps]
            for c in cols:
                labels.append(f"{g}" + (" (after)" if c == "share_after" else ""))
                mats.append(sub[c].to_numpy())
        M = 100 * np.array(mats)
        fig, ax = plt.subplots(figsize=(6.4, 0.42 * len(labels) + 1.0))
        cmap = plt.get_cmap("Oranges")
        left = np.zeros(len(labels))
        y = np.arange(len(labels))[::-1]
        for k, s in enumerate(steps):
            last = k == len(steps) - 1
            color = "#2e9d58" if last else cmap(0.35 + 0.5 * k / max(len(steps) - 2, 1))
            ax.barh(y, M[:, k], left=left, color=color, edgecolor="white",
                    label="completed" if last else f"lost at {s}")  # fmt: skip
            left += M[:, k]
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_xlabel("% of sessions entering the funnel")
        ax.set_xlim(0, 100)
        plots.legend(ax)
        return plots.svg(fig)

    # ---- report (synthcust.reporting.Report)
    @property
    def title(self) -> str:
        """The page title."""
        return "Funnel"

    def context(self) -> dict[str, Any]:
        """Template variables of ``simulation_funnel.html.j2``."""
        lvl = round(self.level * 100)
        unc = (f"{lvl}% intervals from {self.n_draws} posterior draws" if self.n_draws
               else "given probabilities: no uncertainty")  # fmt: skip
        return {
            "r": self,
            "changes": ", ".join(f"{s}: {c}" for s, c in self.changes.items()) or "none",
            "uncertainty": unc,
            "rests_on": rests_on_view(self.rests_on),
            "plot": self.plot_svg(),
            "completion": table_view(self.completion),
            "steps": table_view(self.model.step_table(self.level)),
            "dropoff": table_view(self.table, 400),
        }
