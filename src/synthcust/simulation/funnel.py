"""Funnel / usability simulation: where each persona is lost, and what a change to a step does.

A funnel is an ordered path of steps (``landing -> product -> cart -> checkout``); the step
graph must be a DAG and, for this model, a single path (each step has one successor). Each
persona ``g`` passes from step ``k-1`` to step ``k`` with a *step-through probability*
``p_gk``; reaching step ``k`` has probability ``prod_{i<=k} p_gi`` and a session is *lost at*
step ``k`` with probability ``reach_k (1 - p_{g,k+1})``.

:func:`fit_funnel` estimates ``p_gk`` from session data (one row per session x step reached,
or one row per event with an optional timestamp; a session's furthest step counts as having
passed every earlier step). The estimate is Bayesian: ``x_gk`` of ``n_gk`` sessions of persona
``g`` at step ``k-1`` go on to step ``k``; the posterior is ``Beta(a_k + x_gk, b_k + n_gk -
x_gk)``. The prior ``Beta(a_k, b_k)`` is empirical Bayes by default (fitted per step by
maximising the Beta-Binomial marginal likelihood across personas, so a small persona is shrunk
towards the others), or uniform / Jeffreys. :func:`funnel_from_probabilities` takes given
probabilities instead (no uncertainty; the result says it rests on them).

:meth:`FunnelModel.what_if` changes a step (``odds*1.2``: odds multiplied by 1.2, the usual
way to express "less friction"; ``+0.05`` absolute; ``+10%`` relative; ``=0.8`` new value) and
returns reach, drop-off and completion per persona before and after, with percentile intervals
from posterior draws. The size of a change is an assumption (not estimated from data), and the
report says so.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthcust.exceptions import DataError

__all__ = [
    "FunnelModel",
    "FunnelResult",
    "check_steps",
    "fit_funnel",
    "funnel_from_probabilities",
    "parse_step_change",
]


# --------------------------------------------------------------------------- steps
def _find_cycle(succ: dict[str, list[str]]) -> list[str] | None:
    """A cycle of the directed graph (as a closed list of nodes), or None (iterative DFS)."""
    color: dict[str, int] = dict.fromkeys(succ, 0)
    for root in succ:
        if color[root]:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                color[node] = 1
                path.append(node)
            nxt = succ.get(node, [])
            if i < len(nxt):
                stack.append((node, i + 1))
                child = nxt[i]
                if color.get(child, 0) == 1:
                    return [*path[path.index(child) :], child]
                if color.get(child, 0) == 0:
                    stack.append((child, 0))
            else:
                color[node] = 2
                path.pop()
    return None


def check_steps(steps: str | Sequence[str] | Sequence[tuple[str, str]]) -> list[str]:
    """The ordered steps of a funnel, checked.

    ``steps`` is ``"landing,product,cart"`` (an ordered list), ``"landing>product,product>cart"``
    (edges, in any order), a list of names or a list of ``(from, to)`` pairs. The step graph
    must be acyclic (a cycle is named in the error) and a single path.

    >>> check_steps("cart>checkout,landing>product,product>cart")
    ['landing', 'product', 'cart', 'checkout']
    """
    if isinstance(steps, str):
        parts = [p.strip() for p in steps.split(",") if p.strip()]
        if any(">" in p for p in parts):
            edges = []
            for p in parts:
                chain = [s.strip() for s in p.split(">")]
                if any(not s for s in chain) or len(chain) < 2:
                    raise DataError(f"cannot read the step edge {p!r}; write FROM>TO")
                edges += list(pairwise(chain))
        else:
            edges = list(pairwise(parts))
            if len(parts) == 1:
                raise DataError("a funnel needs at least two steps")
    else:
        items = list(steps)
        if items and all(isinstance(s, tuple | list) for s in items):
            edges = [(str(a), str(b)) for a, b in items]
        else:
            names = [str(s) for s in items]
            if len(names) < 2:
                raise DataError("a funnel needs at least two steps")
            edges = list(pairwise(names))
    if not edges:
        raise DataError("a funnel needs at least two steps")
    succ: dict[str, list[str]] = {}
    pred: dict[str, list[str]] = {}
    for a, b in edges:
        if a == b:
            raise DataError(f"the step order has a cycle: {a} -> {a}")
        succ.setdefault(a, [])
        succ.setdefault(b, [])
        if b not in succ[a]:
            succ[a].append(b)
        pred.setdefault(b, [])
        if a not in pred[b]:
            pred[b].append(a)
    cyc = _find_cycle(succ)
    if cyc:
        raise DataError(
            f"the step order has a cycle: {' -> '.join(cyc)}; a funnel's steps must form a "
            "directed acyclic graph"
        )
    branch = [f"{a} -> {'/'.join(b)}" for a, b in succ.items() if len(b) > 1]
    merge = [f"{'/'.join(p)} -> {b}" for b, p in pred.items() if len(p) > 1]
    if branch or merge:
        raise DataError(
            f"the funnel branches ({'; '.join(branch + merge)}); this model needs a single path "
            "of steps: simulate each path as its own funnel"
        )
    roots = [s for s in succ if s not in pred]
    if len(roots) != 1:
        raise DataError(f"the steps form {len(roots)} separate funnels (starting at {roots})")
    order = [roots[0]]
    while succ[order[-1]]:
        order.append(succ[order[-1]][0])
    return order


_ODDS = re.compile(r"^\s*odds\s*\*\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*$", re.I)


def parse_step_change(text: str) -> tuple[str, float]:
    """``"odds*1.2"`` -> ("odds", 1.2); else the scenario change language (``+0.05``,
    ``-10%``, ``=0.8``, ``*1.1``) applied to the step-through probability."""
    from synthcust.simulation.scenarios import parse_change

    m = _ODDS.match(str(text))
    if m:
        v = float(m.group(1))
        if v <= 0:
            raise DataError(f"an odds multiplier must be > 0, not {v} ({text!r})")
        return ("odds", v)
    return parse_change(text)


def _apply_change(p: np.ndarray, kind: str, v: float) -> np.ndarray:
    if kind == "odds":
        return v * p / (1 - p + v * p)
    if kind == "pct":
        return p * (1 + v / 100)
    if kind == "add":
        return p + v
    if kind == "mul":
        return p * v
    return np.full_like(p, v)


# --------------------------------------------------------------------------- model
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
            d = self.draws(4000, np.random.default_rng(0))
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
        rng = np.random.default_rng(random_state)
        R = max(int(n_draws), 1)
        base_draws = np.concatenate([self.mean[None], self.draws(R, rng)])  # (R+1, G, K-1)
        after = base_draws.copy()
        for s, (kind, v) in parsed.items():
            k = self.steps.index(s) - 1
            after[:, :, k] = _apply_change(base_draws[:, :, k], kind, v)
            bad = (after[0, :, k] < 0) | (after[0, :, k] > 1)
            if bad.any():
                g = int(np.nonzero(bad)[0][0])
                raise DataError(
                    f"the change {changes[s]!r} makes the step-through probability into {s!r} "
                    f"{after[0, g, k]:.3f} for group {self.groups[g]!r}, outside [0, 1]; use "
                    "an odds multiplier (odds*1.2) to stay inside"
                )
            after[:, :, k] = np.clip(after[:, :, k], 0, 1)

        def flows(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """reach (R, G+1, K) and lost-at (R, G+1, K) incl. completion in the last step."""
            reach = np.concatenate([np.ones((*p.shape[:2], 1)), np.cumprod(p, axis=2)], axis=2)
            nxt = np.concatenate([p, np.zeros((*p.shape[:2], 1))], axis=2)
            lost = reach * (1 - nxt)  # last step: "completed"
            w = self.weights[None, :, None]
            reach = np.concatenate([(reach * w).sum(1, keepdims=True), reach], axis=1)
            lost = np.concatenate([(lost * w).sum(1, keepdims=True), lost], axis=1)
            return reach, lost

        r0, l0 = flows(base_draws)
        _, l1 = flows(after)
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
        table = pd.DataFrame(rows)
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


@dataclass
class FunnelResult:
    """Reach / drop-off / completion per group before and after a what-if."""

    model: FunnelModel
    changes: dict[str, str]
    table: pd.DataFrame
    completion: pd.DataFrame
    rests_on: dict[str, Any]
    n_draws: int
    level: float
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
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
        from synthcust.reporting import plots

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

    def to_html(self) -> str:
        from synthcust.simulation.abtest import _rests_on_html, _table

        e = html.escape
        lvl = round(self.level * 100)
        unc = (f"{lvl}% intervals from {self.n_draws} posterior draws" if self.n_draws
               else "given probabilities: no uncertainty")  # fmt: skip
        chg = ", ".join(f"{s}: {c}" for s, c in self.changes.items()) or "none"
        parts = [
            "<h2>Funnel: where each persona is lost</h2>",
            f"<p class='meta'>Steps: {e(' -> '.join(self.model.steps))} · what-if: {e(chg)} · "
            f"{e(unc)} · prior: {e(self.model.prior)}</p>",
            _rests_on_html(self.rests_on),
            f"<div class='grid'>{self.plot_svg()}</div>",
            "<h3>Completion per group</h3>" + _table(self.completion),
            "<h3>Step-through probabilities</h3>" + _table(self.model.step_table(self.level)),
            "<details><summary>Drop-off table (share of entering sessions lost at each step"
            ")</summary>" + _table(self.table, 400) + "</details>",
        ]
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in self.notes) + "</ul>")
        return "\n".join(parts)


# --------------------------------------------------------------------------- fitting
def _hier_prior(x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hierarchical Beta-Binomial prior of one step across groups, on a grid.

    ``p_g ~ Beta(mu kappa, (1 - mu) kappa)``; hyperprior uniform on ``mu`` and on
    ``kappa^(-1/2)`` (Gelman et al., BDA3 ch. 5); the grid (60 x 60 in logit mu x log kappa)
    carries the posterior weights ``p(mu, kappa | x) ~ prior * prod_g B(a + x_g, b + n_g - x_g)
    / B(a, b)``. Returns the grid's (a, b) and weights.
    """
    from scipy.special import betaln, expit

    lm = np.linspace(-7, 7, 60)
    lk = np.linspace(np.log(0.5), np.log(1e5), 60)
    LM, LK = (v.ravel() for v in np.meshgrid(lm, lk))
    mu, kap = expit(LM), np.exp(LK)
    A, B = mu * kap, (1 - mu) * kap
    ll = (betaln(A[:, None] + x[None], B[:, None] + (n - x)[None])
          - betaln(A, B)[:, None]).sum(1)  # fmt: skip
    # grid is uniform in logit(mu), log(kappa): Jacobians mu (1 - mu) and kappa^(-1/2)
    lp = ll + np.log(mu * (1 - mu)) - 0.5 * LK
    w = np.exp(lp - lp.max())
    return A, B, w / w.sum()


def fit_funnel(
    events: pd.DataFrame,
    steps: str | Sequence[str] | Sequence[tuple[str, str]],
    *,
    session: str = "session",
    step: str = "step",
    persona: str | None = None,
    timestamp: str | None = None,
    prior: str = "eb",
    unknown: str = "error",
    source: str | None = None,
) -> FunnelModel:
    """Fit step-through probabilities per persona from session or event data.

    ``events`` has one row per session x step reached (or per event); ``session`` and ``step``
    name its columns, ``persona`` the group column (one value per session), ``timestamp`` an
    optional event time used to count sessions whose steps happened out of order (reported,
    not dropped). ``prior``: ``"eb"`` (hierarchical Beta-Binomial across personas; needs >= 3
    personas, else uniform), ``"uniform"`` (Beta(1, 1)) or ``"jeffreys"`` (Beta(1/2, 1/2)).
    ``unknown="error"`` refuses step values that are not funnel steps; ``"ignore"`` drops those
    rows (other event types) and says how many.
    """
    order = check_steps(steps)
    for c in (session, step, persona, timestamp):
        if c is not None and c not in events.columns:
            raise DataError(f"column {c!r} is not in the event data (columns: "
                            f"{list(events.columns)[:12]})")  # fmt: skip
    if prior not in ("eb", "uniform", "jeffreys"):
        raise DataError(f"prior must be 'eb', 'uniform' or 'jeffreys', not {prior!r}")
    if unknown not in ("error", "ignore"):
        raise DataError(f"unknown must be 'error' or 'ignore', not {unknown!r}")
    notes: list[str] = []
    ev = events
    if ev[session].isna().any():
        raise DataError(f"{int(ev[session].isna().sum())} rows have no {session!r}")
    st = ev[step].astype(str).map({s: i for i, s in enumerate(order)})
    unk = st.isna().to_numpy()
    if unk.any():
        vals = ev.loc[unk, step].astype(str).value_counts()
        if unknown == "error":
            shown = ", ".join(f"{k!r} ({v})" for k, v in vals.head(5).items())
            raise DataError(
                f"{int(unk.sum())} rows have step values that are not funnel steps: {shown}; "
                f"the steps are {order} (pass unknown='ignore' / --ignore-unknown to drop them)"
            )
        notes.append(f"{int(unk.sum())} rows with other events ignored ({list(vals.index[:5])})")
        ev = ev.loc[~unk]
        st = st[~unk]
    if len(ev) == 0:
        raise DataError("no funnel events to fit on")
    code = st.to_numpy(dtype=np.int64)
    sess = pd.factorize(ev[session])[0]
    S = int(sess.max()) + 1
    furthest = np.full(S, -1, dtype=np.int64)
    np.maximum.at(furthest, sess, code)
    distinct = pd.DataFrame({"s": sess, "c": code}).drop_duplicates()
    n_distinct = np.bincount(distinct["s"].to_numpy(), minlength=S)
    skipped = int((n_distinct < furthest + 1).sum())
    if skipped:
        notes.append(
            f"{skipped} of {S} sessions skip a step before their furthest one; they count as "
            "having passed it (the furthest step reached defines the funnel position)"
        )
    if timestamp is not None:
        t = pd.to_datetime(ev[timestamp], errors="coerce")
        if t.isna().any():
            raise DataError(f"{int(t.isna().sum())} rows have an unreadable {timestamp!r}")
        d = pd.DataFrame({"s": sess, "c": code, "t": t.to_numpy()})
        first = d.groupby(["s", "c"])["t"].min().reset_index().sort_values(["s", "c"])
        back = (first.groupby("s")["t"].diff() < pd.Timedelta(0)).groupby(first["s"]).any()
        if back.any():
            notes.append(f"{int(back.sum())} sessions reached a step before an earlier one "
                         "(by timestamp); kept")  # fmt: skip
    if persona is not None:
        pv = ev[persona].astype(str).to_numpy()
        first_p = pd.Series(pv).groupby(sess).first()
        nuniq = pd.Series(pv).groupby(sess).nunique()
        if (nuniq > 1).any():
            notes.append(f"{int((nuniq > 1).sum())} sessions have more than one {persona!r}; "
                         "their first value is used")  # fmt: skip
        gcat = pd.Categorical(first_p.sort_index().to_numpy())
        groups = [str(c) for c in gcat.categories]
        gcode = gcat.codes.astype(np.int64)
    else:
        groups, gcode = ["all"], np.zeros(S, dtype=np.int64)
    G, K = len(groups), len(order)
    cnt = np.bincount(gcode * K + furthest, minlength=G * K).reshape(G, K)
    at_least = cnt[:, ::-1].cumsum(1)[:, ::-1]  # sessions reaching >= k
    n = at_least[:, :-1].astype(float)
    x = at_least[:, 1:].astype(float)
    if prior == "eb" and G < 3:
        if persona is not None:
            notes.append(f"the hierarchical prior needs >= 3 personas ({G} here): uniform "
                         "prior used")  # fmt: skip
        prior = "uniform"
    hyper = None
    if prior == "eb":
        hyper = [_hier_prior(x[:, k], n[:, k]) for k in range(K - 1)]
        # moment-matched Beta of each group's posterior mixture (mean and variance)
        a0 = np.empty((G, K - 1))
        b0 = np.empty((G, K - 1))
        for k, (A, B, w) in enumerate(hyper):
            pa, pb = A[:, None] + x[None, :, k], B[:, None] + (n - x)[None, :, k]
            m1 = (w[:, None] * pa / (pa + pb)).sum(0)
            m2 = (w[:, None] * pa * (pa + 1) / ((pa + pb) * (pa + pb + 1))).sum(0)
            v = np.maximum(m2 - m1**2, 1e-12)
            c = np.maximum(m1 * (1 - m1) / v - 1, 1e-6)
            a0[:, k], b0[:, k] = m1 * c - x[:, k], (1 - m1) * c - (n - x)[:, k]
        desc = (
            "hierarchical Beta-Binomial across personas per step (uniform on mu and "
            "kappa^-1/2, grid posterior): small personas borrow strength from the others"
        )
    else:
        v = 1.0 if prior == "uniform" else 0.5
        a0 = b0 = np.full((1, K - 1), v)
        desc = "uniform Beta(1, 1)" if prior == "uniform" else "Jeffreys Beta(1/2, 1/2)"
    counts = pd.DataFrame({
        "group": np.repeat(groups, K - 1), "to_step": np.tile(order[1:], G),
        "sessions_at_previous": n.ravel().astype(int), "passed": x.ravel().astype(int),
    })  # fmt: skip
    sizes = cnt.sum(1)
    rests = {
        "data": source or "(in memory)",
        "sessions": int(S),
        "events": len(ev),
        "sessions_per_group": dict(zip(groups, sizes.astype(int).tolist(), strict=True)),
        "method": "Beta-Binomial posterior per persona and step; prior " + desc,
        "validation": "none: step probabilities are in-sample posteriors",
        "assumptions": [
            "sessions are independent and each persona's step-through probability is the same "
            "across sessions (no time trend, no repeat-visit effects)",
        ],
    }
    return FunnelModel(order, groups, a0 + x, b0 + n - x, sizes / sizes.sum(), False, counts,
                       desc, rests, notes, hyper, x, n)  # fmt: skip


def funnel_from_probabilities(
    probabilities: Mapping[str, float] | Mapping[str, Mapping[str, float]],
    steps: str | Sequence[str] | Sequence[tuple[str, str]],
    *,
    weights: Mapping[str, float] | None = None,
) -> FunnelModel:
    """A funnel with given step-through probabilities (no data, no uncertainty).

    ``probabilities`` maps each non-entry step to ``P(reach it | reached the previous step)``,
    or persona -> such a mapping. ``weights`` are the personas' shares of sessions (default
    equal).

    >>> f = funnel_from_probabilities({"product": 0.5, "cart": 0.4}, "landing,product,cart")
    >>> round(float(f.what_if().completion["completion"][0]), 3)
    0.2
    """
    order = check_steps(steps)
    vals = list(probabilities.values())
    by = (dict(probabilities) if vals and isinstance(vals[0], Mapping)
          else {"all": dict(probabilities)})  # fmt: skip
    groups = list(by)
    P = np.empty((len(groups), len(order) - 1))
    for gi, g in enumerate(groups):
        d = by[g]
        unknown = [s for s in d if s not in order]
        if unknown:
            raise DataError(f"unknown step(s) {unknown} for {g!r}; the steps are {order}")
        if order[0] in d:
            raise DataError(f"{order[0]!r} is the entry step; give probabilities for {order[1:]}")
        missing = [s for s in order[1:] if s not in d]
        if missing:
            raise DataError(f"no step-through probability for {missing} ({g!r})")
        for k, s in enumerate(order[1:]):
            p = float(d[s])
            if not 0 <= p <= 1 or not np.isfinite(p):
                raise DataError(
                    f"the step-through probability of {s!r} for {g!r} is {p}, outside [0, 1]"
                )
            P[gi, k] = p
    if weights is None:
        w = np.full(len(groups), 1 / len(groups))
    else:
        missing = [g for g in groups if g not in weights]
        if missing:
            raise DataError(f"weights lack persona(s) {missing}")
        w = np.array([float(weights[g]) for g in groups])
        if (w < 0).any() or w.sum() <= 0:
            raise DataError("persona weights must be >= 0 and not all 0")
        w = w / w.sum()
    rests = {
        "data": "none: step-through probabilities given by hand",
        "validation": "none",
        "assumptions": ["the given step-through probabilities (not estimated from data)"],
    }
    return FunnelModel(order, groups, P, 1 - P, w, True, None, "none (given probabilities)",
                       rests, [])  # fmt: skip
