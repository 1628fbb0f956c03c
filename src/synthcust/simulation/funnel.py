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

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import betaln, expit

from synthcust.exceptions import DataError
from synthcust.simulation.funnel_model import FunnelModel, FunnelResult
from synthcust.simulation.funnel_steps import apply_step_change, check_steps, parse_step_change

__all__ = [
    "FunnelModel",
    "FunnelResult",
    "apply_step_change",
    "check_steps",
    "fit_funnel",
    "funnel_from_probabilities",
    "parse_step_change",
]


# --------------------------------------------------------------------------- fitting
def _hier_prior(x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hierarchical Beta-Binomial prior of one step across groups, on a grid.

    ``p_g ~ Beta(mu kappa, (1 - mu) kappa)``; hyperprior uniform on ``mu`` and on
    ``kappa^(-1/2)`` (Gelman et al., BDA3 ch. 5); the grid (60 x 60 in logit mu x log kappa)
    carries the posterior weights ``p(mu, kappa | x) ~ prior * prod_g B(a + x_g, b + n_g - x_g)
    / B(a, b)``. Returns the grid's (a, b) and weights.
    """
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
    ev, code = _funnel_events(events, order, session, step, unknown, notes)
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
        _note_out_of_order(ev[timestamp], sess, code, timestamp, notes)
    groups, gcode = _session_groups(ev, persona, sess, S, notes)
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
    a0, b0, hyper, desc = _step_prior(prior, x, n)
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


def _funnel_events(events: pd.DataFrame, order: list[str], session: str, step: str,
                   unknown: str, notes: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The funnel's events (other events dropped or refused) and their step codes."""  # fmt: skip
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
    return ev, st.to_numpy(dtype=np.int64)


def _note_out_of_order(ts: pd.Series, sess: np.ndarray, code: np.ndarray, timestamp: str,
                       notes: list[str]) -> None:  # fmt: skip
    """Count sessions that reached a step before an earlier one (by time); they are kept."""
    t = pd.to_datetime(ts, errors="coerce")
    if t.isna().any():
        raise DataError(f"{int(t.isna().sum())} rows have an unreadable {timestamp!r}")
    d = pd.DataFrame({"s": sess, "c": code, "t": t.to_numpy()})
    first = d.groupby(["s", "c"])["t"].min().reset_index().sort_values(["s", "c"])
    back = (first.groupby("s")["t"].diff() < pd.Timedelta(0)).groupby(first["s"]).any()
    if back.any():
        notes.append(f"{int(back.sum())} sessions reached a step before an earlier one "
                     "(by timestamp); kept")  # fmt: skip


def _session_groups(ev: pd.DataFrame, persona: str | None, sess: np.ndarray, S: int,
                    notes: list[str]) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """The groups (personas, or ``all``) and each session's group code."""
    if persona is None:
        return ["all"], np.zeros(S, dtype=np.int64)
    pv = ev[persona].astype(str).to_numpy()
    first_p = pd.Series(pv).groupby(sess).first()
    nuniq = pd.Series(pv).groupby(sess).nunique()
    if (nuniq > 1).any():
        notes.append(f"{int((nuniq > 1).sum())} sessions have more than one {persona!r}; "
                     "their first value is used")  # fmt: skip
    gcat = pd.Categorical(first_p.sort_index().to_numpy())
    return [str(c) for c in gcat.categories], gcat.codes.astype(np.int64)


def _step_prior(prior: str, x: np.ndarray, n: np.ndarray) -> tuple:
    """The Beta prior per step ``(a0, b0)``, the hierarchical grids (or None), its description.

    For ``"eb"``, ``(a0, b0)`` is the moment-matched Beta of each group's posterior mixture
    minus the data (mean and variance), so that ``a0 + x`` / ``b0 + n - x`` summarise it."""
    K1 = x.shape[1]
    if prior != "eb":
        v = 1.0 if prior == "uniform" else 0.5
        a0 = b0 = np.full((1, K1), v)
        desc = "uniform Beta(1, 1)" if prior == "uniform" else "Jeffreys Beta(1/2, 1/2)"
        return a0, b0, None, desc
    G = x.shape[0]
    hyper = [_hier_prior(x[:, k], n[:, k]) for k in range(K1)]
    a0 = np.empty((G, K1))
    b0 = np.empty((G, K1))
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
    return a0, b0, hyper, desc


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
