"""Multi-touch attribution models on user-level touch logs or aggregated path tables.

Two inputs are understood (:func:`load_journeys` detects which):

* a **touch log**: one row per touch with ``user_id, timestamp, channel, converted`` (a user
  converted if any of their rows says so; rows must be in time order within each user);
* a **path table**: ``path`` (``"a > b > c"``), conversions (``total_conversions`` or
  ``conversions``) and non-converting journeys (``total_null``, ``nulls`` or ``null``), as in
  the ChannelAttribution package.

Models (each returns conversions credited per channel; :func:`attribute` runs several):

``first_touch`` / ``last_touch`` / ``linear``
    All credit to the first / last touch, or equal credit to every touch.
``time_decay``
    Touch weight ``2 ** (-age / half_life)``: ``age`` in days before the journey's last touch
    for logs, in touches before the last one for path tables.
``position``
    U-shape: 40% first, 40% last, 20% shared by the middle touches (50/50 for two touches).
``markov_k``
    Markov-chain removal effect (Anderl et al. 2016) of order ``k``: states are the last ``k``
    channels; a channel's removal effect is the relative drop in the probability of reaching
    *conversion* from *start* when every state containing it leads to *null* (solved exactly as
    an absorbing chain, not simulated). Credits are removal effects normalised to the
    conversions.
``shapley``
    Counterfactual Shapley value. Journeys are grouped by their channel set ``S``; ``r(S)`` is
    the conversion rate of that set, shrunk towards a logistic-regression prediction (which
    also fills sets never observed). A coalition ``T`` is worth ``v(T) = sum_S n_S r(S & T)``
    (what the same journeys would convert if only channels in ``T`` existed); ``r(empty)`` is
    ``baseline_rate`` (default 0: every conversion is owed to some channel, as path data
    cannot tell). Exact for up to 12 channels, permutation sampling beyond (stated in a
    warning); more than 20 channels always switch to sampling, even when exact was asked.
``logistic``
    Data-driven: logistic regression of conversion on channel presence; a channel is credited
    ``sum_S n_S (p(S) - p(S without c))`` (model-based removal effect, ``p(empty)`` =
    ``baseline_rate``).

Examples
--------
>>> import pandas as pd
>>> paths = pd.DataFrame({"path": ["a > b", "b", "a > c > b"],
...                       "total_conversions": [10, 5, 3], "total_null": [20, 40, 10]})
>>> res = attribute(paths, models=["last_touch", "markov_1"])
>>> res.credits["last_touch"].to_dict()
{'a': 0.0, 'b': 18.0, 'c': 0.0}
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, identity
from scipy.sparse.linalg import spsolve

from synthcust.exceptions import DataError
from synthcust.simulation.attribution_data import JourneyData, from_log, from_paths, load_journeys

__all__ = [
    "DEFAULT_MODELS",
    "AttributionResult",
    "JourneyData",
    "attribute",
    "from_log",
    "from_paths",
    "load_journeys",
    "markov",
    "markov_removal_effects",
    "shapley",
    "shapley_from_values",
]

DEFAULT_MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position",
    "markov_1",
    "markov_2",
    "shapley",
    "logistic",
)
EXACT_SHAPLEY_MAX = 12  # auto: exact up to here, sampled beyond
EXACT_SHAPLEY_HARD_MAX = 20  # exact never runs beyond this (2^C coalitions)


# --------------------------------------------------------------------------- heuristics


def _credit_by_weight(d: JourneyData, w: np.ndarray) -> np.ndarray:
    """Spread each journey's conversions over its touches by weights ``w`` (any scale)."""
    j = d.journey_of_touch
    tot = np.bincount(j, weights=w, minlength=d.n_journeys)
    share = w / tot[j]
    return np.bincount(d.codes, weights=share * d.conversions[j], minlength=len(d.channels))


def _rule(d: JourneyData, name: str, half_life: float | None = None) -> np.ndarray:
    pos, n = d.position, d.lengths[d.journey_of_touch]
    if name == "first_touch":
        w = (pos == 0).astype(float)
    elif name == "last_touch":
        w = (pos == n - 1).astype(float)
    elif name == "linear":
        w = np.ones(d.codes.size)
    elif name == "position":
        mid = np.where(n > 2, 0.2 / np.maximum(n - 2, 1), 0.0)
        ends = np.where(n > 2, 0.4, np.where(n == 2, 0.5, 1.0))
        w = np.where((pos == 0) | (pos == n - 1), ends, mid)
    elif name == "time_decay":
        if d.age is not None:
            age, hl = d.age, 7.0 if half_life is None else half_life
        else:
            age, hl = (n - 1 - pos).astype(float), 1.0 if half_life is None else half_life
        w = np.exp2(-age / hl)
    else:  # pragma: no cover - guarded by attribute()
        raise DataError(f"unknown rule {name!r}")
    return _credit_by_weight(d, w)


# --------------------------------------------------------------------------- Markov


def markov(d: JourneyData, order: int = 1) -> pd.Series:
    """Markov-chain removal-effect attribution of order ``order`` (see the module docstring).

    Returns conversions credited per channel (removal effects scaled to the total conversions).
    """
    re = markov_removal_effects(d, order).to_numpy()
    total = d.conversions.sum()
    credit = re / re.sum() * total if re.sum() > 0 else np.zeros(len(re))
    return pd.Series(credit, index=list(d.channels), name=f"markov_{order}")


def markov_removal_effects(d: JourneyData, order: int = 1) -> pd.Series:
    """Raw removal effects ``1 - P(conv | channel removed) / P(conv)`` of an order-``order``
    Markov chain, solved exactly as an absorbing chain (sparse linear solves)."""
    if order < 1:
        raise DataError(f"Markov order must be >= 1 (got {order})")
    C = len(d.channels)
    base = C + 1
    if order * math.log2(base) > 62:
        raise DataError(f"Markov order {order} with {C} channels is too large; lower the order")
    j, pos = d.journey_of_touch, d.position
    # state of each touch: its last `order` channels (code+1, 0 = before the journey start)
    key = np.zeros(d.codes.size, np.int64)
    for lag in range(order):
        prev = np.zeros(d.codes.size, np.int64)
        ok = pos >= lag
        prev[ok] = d.codes[np.flatnonzero(ok) - lag] + 1
        key += prev * base**lag
    states, sid = np.unique(key, return_inverse=True)
    S = states.size
    START, CONV, NULL = S, S + 1, S + 2
    tot = (d.conversions + d.nulls)[j]
    first = pos == 0
    last = pos == d.lengths[j] - 1
    src = np.concatenate([np.full(int(first.sum()), START), sid[:-1][~last[:-1]]])
    dst = np.concatenate([sid[first], sid[1:][~last[:-1]]])
    wt = np.concatenate([tot[first], tot[:-1][~last[:-1]]])
    src = np.concatenate([src, sid[last], sid[last]])
    dst = np.concatenate([dst, np.full(int(last.sum()), CONV), np.full(int(last.sum()), NULL)])
    wt = np.concatenate([wt, d.conversions, d.nulls])
    P = coo_matrix((wt, (src, dst)), shape=(S + 3, S + 3)).tocsr()
    rows = np.asarray(P.sum(axis=1)).ravel()
    rows[rows == 0] = 1.0
    P = coo_matrix(P.multiply(1.0 / rows[:, None])).tocsr()
    trans = np.r_[np.arange(S), START]
    Q = P[trans][:, trans]
    b = np.asarray(P[trans][:, [CONV]].todense()).ravel()
    # which states contain each channel
    digits = (states[:, None] // base ** np.arange(order)[None, :]) % base - 1  # (S, order)

    def p_conv(keep: np.ndarray) -> float:
        idx = np.flatnonzero(keep)
        A = identity(idx.size, format="csr") - Q[idx][:, idx]
        x = spsolve(A.tocsc(), b[idx])
        return float(np.atleast_1d(x)[-1])  # START is the last kept index

    allk = np.ones(S + 1, bool)
    p_all = p_conv(allk)
    re = np.zeros(C)
    for c in range(C):
        keep = np.r_[~(digits == c).any(axis=1), True]
        re[c] = 1.0 - p_conv(keep) / p_all if p_all > 0 else 0.0
    return pd.Series(re, index=list(d.channels), name="removal_effect")


# --------------------------------------------------------------------------- set models


def _set_table(d: JourneyData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct channel sets: masks, journeys and conversions per set."""
    masks = d.channel_sets()
    u, inv = np.unique(masks, return_inverse=True)
    n = np.bincount(inv, weights=d.conversions + d.nulls)
    y = np.bincount(inv, weights=d.conversions)
    return u, n, y


def _bits(masks: np.ndarray, C: int) -> np.ndarray:
    return ((masks[:, None] >> np.arange(C)[None, :]) & 1).astype(float)


def _fit_logistic(masks: np.ndarray, n: np.ndarray, y: np.ndarray, C: int, l2: float = 1.0):
    """Weighted logistic regression of conversion on channel presence -> predict(masks)."""
    from sklearn.linear_model import LogisticRegression  # heavy to import; only this model

    X = _bits(masks, C)
    Xr = np.vstack([X, X])
    yr = np.r_[np.ones(len(X)), np.zeros(len(X))]
    wr = np.r_[y, n - y]
    keep = wr > 0
    if len(np.unique(yr[keep])) < 2:
        rate = float(y.sum() / max(n.sum(), 1e-12))
        return lambda m: np.full(len(m), rate)
    # raw journey counts as weights: the L2 penalty stays negligible next to the data
    lr = LogisticRegression(C=1.0 / l2, max_iter=1000)
    lr.fit(Xr[keep], yr[keep], sample_weight=wr[keep])
    coef, icpt = lr.coef_.ravel(), float(lr.intercept_[0])

    def predict(m: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(_bits(np.asarray(m, np.int64), C) @ coef + icpt)))

    return predict


def logistic(d: JourneyData, l2: float = 1.0, baseline_rate: float = 0.0) -> pd.Series:
    """Data-driven attribution: logistic regression of conversion on channel presence.

    A channel is credited its model-based removal effect ``sum_S n_S (p(S) - p(S - c))``,
    clipped at 0, where ``p(empty) = baseline_rate`` (path data has no journey without a
    channel, so the fitted intercept is an extrapolation and is not used for the empty set).
    """
    C = len(d.channels)
    masks, n, y = _set_table(d)
    fitted = _fit_logistic(masks, n, y, C, l2)

    def predict(m: np.ndarray) -> np.ndarray:
        return np.where(m == 0, baseline_rate, fitted(m))

    p = predict(masks)
    credit = np.zeros(C)
    for c in range(C):
        has = (masks >> c & 1).astype(bool)
        drop = predict(masks[has] & ~np.int64(1 << c))
        credit[c] = float(np.clip(n[has] * (p[has] - drop), 0, None).sum())
    return pd.Series(credit, index=list(d.channels), name="logistic")


def shapley_from_values(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values of a game given as ``values[mask]`` over all ``2^C`` coalitions.

    ``phi_c = sum_{S not containing c} |S|! (C-|S|-1)! / C! * (v(S + c) - v(S))``; the values
    sum to ``v(all) - v(empty)``.

    >>> shapley_from_values(np.array([0.0, 1.0, 2.0, 5.0])).tolist()
    [2.0, 3.0]
    """
    v = np.asarray(values, dtype=float)
    C = round(math.log2(v.size))
    if v.size != 1 << C:
        raise DataError(f"values must have 2^C entries (got {v.size})")
    masks = np.arange(v.size)
    size = _popcount(masks)
    fact = np.array([math.factorial(k) for k in range(C + 1)], dtype=float)
    phi = np.zeros(C)
    for c in range(C):
        without = masks[(masks >> c & 1) == 0]
        s = size[without]
        w = fact[s] * fact[C - s - 1] / fact[C]
        phi[c] = float((w * (v[without | (1 << c)] - v[without])).sum())
    return phi


def _popcount(m: np.ndarray) -> np.ndarray:
    m = m.astype(np.int64)
    out = np.zeros(m.shape, np.int64)
    while np.any(m):
        out += m & 1
        m = m >> 1
    return out


def shapley(
    d: JourneyData,
    *,
    method: str = "auto",
    n_permutations: int = 2000,
    baseline_rate: float = 0.0,
    prior_strength: float = 5.0,
    random_state: int | None = 0,
) -> pd.Series:
    """Counterfactual Shapley attribution (see the module docstring).

    Parameters
    ----------
    method : {"auto", "exact", "sampled"}
        ``auto``: exact up to 12 channels, sampled beyond. ``exact`` with more than 20 channels
        switches to sampling (a warning says so).
    n_permutations : int
        Permutations for sampling (antithetic pairs: each permutation and its reverse).
    baseline_rate : float
        Conversion rate of a journey with no channel (0 when unknown).
    prior_strength : float
        Pseudo-journeys of logistic prediction mixed into each observed set's rate.
    """
    C = len(d.channels)
    if method not in ("auto", "exact", "sampled"):
        raise DataError(f"Shapley method must be auto, exact or sampled (got {method!r})")
    use_exact = (method == "auto" and C <= EXACT_SHAPLEY_MAX) or (
        method == "exact" and C <= EXACT_SHAPLEY_HARD_MAX
    )
    if not use_exact and method != "sampled":
        why = (
            f"exact Shapley needs 2^{C} coalitions; more than {EXACT_SHAPLEY_HARD_MAX} channels"
            if method == "exact"
            else f"{C} channels > {EXACT_SHAPLEY_MAX}"
        )
        warnings.warn(
            f"Shapley: {why}, so it is estimated from {n_permutations} sampled permutations "
            "instead of computed exactly",
            UserWarning,
            stacklevel=2,
        )
    masks, n, y = _set_table(d)
    predict = _fit_logistic(masks, n, y, C)
    obs_rate = (y + prior_strength * predict(masks)) / (n + prior_strength)

    def rate(m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, np.int64)
        u, inv = np.unique(m, return_inverse=True)
        pos = np.clip(np.searchsorted(masks, u), 0, len(masks) - 1)
        hit = masks[pos] == u
        r = np.empty(u.size)
        r[hit] = obs_rate[pos[hit]]
        r[~hit] = predict(u[~hit]) if (~hit).any() else r[~hit]
        r[u == 0] = baseline_rate
        return r[inv].reshape(m.shape)

    if use_exact:
        vals = np.empty(1 << C)
        step = max(1, 2_000_000 // max(len(masks), 1))
        for s0 in range(0, 1 << C, step):
            T = np.arange(s0, min(s0 + step, 1 << C), dtype=np.int64)
            vals[T] = rate(T[:, None] & masks[None, :]) @ n
        phi = shapley_from_values(vals)
    else:
        rng = np.random.default_rng(random_state)
        half = max(1, n_permutations // 2)
        perms = np.argsort(rng.random((half, C)), axis=1)
        perms = np.vstack([perms, perms[:, ::-1]])
        phi = np.zeros(C)
        bits = np.int64(1) << perms.astype(np.int64)
        prefix = np.concatenate([np.zeros((len(perms), 1), np.int64), np.cumsum(bits, 1)], 1)
        blk = max(1, 1_000_000 // max(len(masks) * (C + 1), 1))
        for s0 in range(0, len(perms), blk):
            pre = prefix[s0 : s0 + blk]  # (P, C+1)
            v = rate(pre[:, :, None] & masks[None, None, :]) @ n  # (P, C+1)
            marg = np.diff(v, axis=1)
            np.add.at(phi, perms[s0 : s0 + blk], marg)
        phi /= len(perms)
    return pd.Series(phi, index=list(d.channels), name="shapley")


# --------------------------------------------------------------------------- front door


@dataclass
class AttributionResult:
    """Conversions credited per channel (rows) by each model (columns), plus notes."""

    credits: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def shares(self) -> pd.DataFrame:
        """Credits as shares of each model's total (negatives clipped to 0)."""
        c = self.credits.clip(lower=0)
        return c / c.sum().replace(0, np.nan)


def _normalise_model(name: str) -> str:
    n = name.strip().lower().replace("-", "_")
    alias = {
        "first": "first_touch",
        "last": "last_touch",
        "last_click": "last_touch",
        "first_click": "first_touch",
        "u_shape": "position",
        "position_based": "position",
        "markov": "markov_1",
        "data_driven": "logistic",
    }
    n = alias.get(n, n)
    if n.startswith("markov") and n != "markov_1":
        k = n.removeprefix("markov").lstrip("_")
        if not k.isdigit() or int(k) < 1:
            raise DataError(f"cannot read model {name!r}; write markov_K with K >= 1")
        n = f"markov_{int(k)}"
    known = {"first_touch", "last_touch", "linear", "time_decay", "position", "shapley"}
    if n not in known | {"logistic"} and not n.startswith("markov_"):
        raise DataError(
            f"unknown attribution model {name!r}; choose from {list(DEFAULT_MODELS)} "
            "(markov_K for any order K)"
        )
    return n


def attribute(
    data: pd.DataFrame | JourneyData,
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    channels: Sequence[str] | None = None,
    half_life: float | None = None,
    shapley_method: str = "auto",
    shapley_permutations: int = 2000,
    baseline_rate: float = 0.0,
    random_state: int | None = 0,
) -> AttributionResult:
    """Run several attribution models on a touch log or a path table.

    Parameters
    ----------
    data : DataFrame or JourneyData
        A touch log or a path table (detected from the columns).
    models : sequence of str
        Model names (see the module docstring; ``markov_K`` for order K).
    channels : sequence of str, optional
        The declared channels: any other channel in the data is an error.
    half_life : float, optional
        Time-decay half-life (days for logs, default 7; touches for path tables, default 1).
    baseline_rate : float
        Conversion rate of journeys without any channel, for ``shapley`` and ``logistic``
        (default 0: unknown, every conversion is owed to some channel).
    shapley_method, shapley_permutations, random_state
        Passed to :func:`shapley` (``method``, ``n_permutations``, ``random_state``).
    """
    d = load_journeys(data, channels=channels)
    names = [_normalise_model(m) for m in models]
    out: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for name in dict.fromkeys(names):
        if name in ("first_touch", "last_touch", "linear", "time_decay", "position"):
            out[name] = _rule(d, name, half_life)
        elif name.startswith("markov_"):
            out[name] = markov(d, int(name.split("_")[1])).to_numpy()
        elif name == "shapley":
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out[name] = shapley(
                    d,
                    method=shapley_method,
                    n_permutations=shapley_permutations,
                    baseline_rate=baseline_rate,
                    random_state=random_state,
                ).to_numpy()
            for w in caught:
                notes.append(str(w.message))
                warnings.warn(str(w.message), UserWarning, stacklevel=2)
        elif name == "logistic":
            out[name] = logistic(d, baseline_rate=baseline_rate).to_numpy()
    credits = pd.DataFrame(out, index=pd.Index(list(d.channels), name="channel"))
    return AttributionResult(credits, notes)
