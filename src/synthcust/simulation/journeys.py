"""A causal customer-journey simulator whose channel effects are known by construction.

Real journey data can never say which channel *caused* a conversion; synthetic journeys whose
effects are fixed by construction can. Every user of a :class:`Scenario` lives through a window
of ``horizon_days`` days:

* **Reach and targeting.** Channel ``c`` reaches a user with probability
  ``sigmoid(logit(reach_c) + targeting_c * z)``, where ``z`` is the user's standardised log
  baseline propensity (targeting > 0 aims the channel at users who would convert anyway). A
  reached user gets ``1 + Poisson(frequency_c - 1)`` exposures at times drawn from
  ``horizon * Beta(timing_c)`` (early upper-funnel channels, late lower-funnel ones).
* **Upstream effects.** Each exposure to ``source`` induces, with probability ``rate``, a later
  touch of ``target`` (e.g. display makes people search), ``Exp(lag_days)`` later.
* **Conversion hazard** (a discrete-day proportional-hazard model). On day ``d`` a user's hazard
  is ``baseline_u + sum_c effect_c * response[persona, c] * sat_c(adstock_c[d])
  + sum_pairs synergy * sqrt(sat_a * sat_b)``. ``adstock_c[d]`` counts the exposures before
  day ``d`` with geometric **time decay** (half-life ``half_life_days``), and
  ``sat(a) = a / (1 + a / saturation)`` gives diminishing returns. ``baseline_u`` (the no-ads
  conversion hazard) is the persona's baseline times a log-normal individual factor. The user
  converts at the first moment the cumulative hazard exceeds their own ``Exp(1)`` draw; the
  journey ends there (later touches are never observed).
* **Harvesting.** A :class:`Harvest` channel is touched just *before* a conversion that was
  already going to happen (brand search, typing the URL): it shows up as the last click but
  caused nothing.

**Ground truth** uses common random numbers: every random draw (personas, exposures, induced
touches, the ``Exp(1)`` thresholds) is made once, and the world is re-run with any subset of
channels switched off. ``value[S]`` is the number of conversions with only the channels in ``S``
on (upstream touches vanish with their source). Per channel the truth reports the removal effect
``value[all] - value[all without c]`` and the exact Shapley split of ``value[all] - value[none]``
(the incremental conversions), whose shares are what attribution models are scored against.

Everything is vectorised over users (users are processed in chunks to bound memory; the only
Python loops run over days, channels and channel subsets).

Examples
--------
>>> sim = simulate("independent", n_users=2_000, random_state=0)
>>> list(sim.touches.columns)
['user_id', 'timestamp', 'channel', 'converted']
>>> round(float(sim.truth.shares.sum()), 6)
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError
from synthcust.simulation.attribution import shapley_from_values
from synthcust.simulation.attribution_data import from_log
from synthcust.simulation.journey_scenarios import (
    MAX_TRUTH_CHANNELS,
    SCENARIOS,
    Channel,
    Harvest,
    Persona,
    Scenario,
    Synergy,
    Upstream,
    get_scenario,
    scenario_table,
)

__all__ = [
    "MAX_TRUTH_CHANNELS",
    "SCENARIOS",
    "Channel",
    "GroundTruth",
    "Harvest",
    "JourneySimulation",
    "Persona",
    "Scenario",
    "Synergy",
    "Upstream",
    "get_scenario",
    "scenario_table",
    "simulate",
]

_EPOCH = np.datetime64("2026-01-01T00:00:00", "ns")
_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class GroundTruth:
    """The causal truth of one simulated population.

    Attributes
    ----------
    channels : tuple of str
    values : numpy.ndarray
        ``values[mask]`` = conversions with only the channels whose bit is set in ``mask``
        switched on (bit ``i`` = ``channels[i]``), same random draws throughout.
    """

    channels: tuple[str, ...]
    values: np.ndarray

    @property
    def total(self) -> float:
        """Conversions with every channel on (what was observed)."""
        return float(self.values[-1])

    @property
    def baseline(self) -> float:
        """Conversions with every channel off (the no-ads baseline)."""
        return float(self.values[0])

    @property
    def removal(self) -> pd.Series:
        """Per channel: conversions lost when only that channel is switched off."""
        full = len(self.values) - 1
        v = self.values
        lost = [v[full] - v[full & ~(1 << i)] for i in range(len(self.channels))]
        return pd.Series(lost, index=list(self.channels), name="removal", dtype=float)

    @property
    def shapley(self) -> pd.Series:
        """Exact Shapley split of the incremental conversions ``values[all] - values[none]``."""
        phi = shapley_from_values(self.values)
        return pd.Series(phi, index=list(self.channels), name="shapley", dtype=float)

    @property
    def shares(self) -> pd.Series:
        """Shapley credit shares (sum to 1): the target attribution models are scored on."""
        s = self.shapley
        return (s / s.sum()).rename("truth")

    def to_dict(self) -> dict:
        """The ground truth as a JSON-ready dict."""
        return {
            "channels": list(self.channels),
            "values": [float(v) for v in self.values],
            "removal": self.removal.to_dict(),
            "shapley": self.shapley.to_dict(),
            "shares": self.shares.to_dict(),
            "total_conversions": self.total,
            "baseline_conversions": self.baseline,
        }


@dataclass(frozen=True)
class JourneySimulation:
    """Output of :func:`simulate`.

    ``touches``: one row per observed touch (user_id, timestamp, channel, converted), sorted by
    user then time; ``users``: one row per user (persona, converted, conversion_time, touches);
    ``truth``: :class:`GroundTruth` (None when not computed).
    """

    scenario: Scenario
    touches: pd.DataFrame
    users: pd.DataFrame
    truth: GroundTruth | None
    random_state: int | None

    def path_table(self) -> pd.DataFrame:
        """Aggregate the touched users into ``path, total_conversions, total_null``."""
        out = from_log(self.touches).to_path_table()
        return out.astype({"total_conversions": np.int64, "total_null": np.int64})

    @property
    def untouched_conversion_rate(self) -> float:
        """Conversion rate of users no channel touched (observable, not ground truth)."""
        u = self.users
        m = u["touches"].to_numpy() == 0
        return float(u["converted"].to_numpy()[m].mean()) if m.any() else 0.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _sat(a: np.ndarray, s: float) -> np.ndarray:
    return a / (1.0 + a / s)


@dataclass
class _Chunk:
    touch_user: np.ndarray
    touch_time: np.ndarray
    touch_channel: np.ndarray
    persona: np.ndarray
    converted: np.ndarray
    conv_time: np.ndarray
    values: np.ndarray | None


def _simulate_chunk(
    sc: Scenario, m: int, rng: np.random.Generator, truth: bool, z_mu: float, z_sd: float
) -> _Chunk:
    """``m`` users of ``sc``: their touches, conversions and (``truth``) the conversions of
    every channel subset, all from one set of random draws (common random numbers)."""
    C = len(sc.channels)
    persona, base, resp_u, thresh = _draw_users(sc, m, rng, z_mu, z_sd)
    z = (np.log(np.maximum(base, 1e-300)) - z_mu) / z_sd
    tu, tt, tk = _draw_exposures(sc, m, z, rng)
    adstock = _adstock(sc, m, tu, tt, tk)
    terms = _hazard_terms(sc, adstock, resp_u)
    del adstock
    # whether a user converts in a world S only needs the end-of-window cumulative hazard:
    # baseline * D + the window totals of the terms active in S (one small matrix product)
    D = sc.horizon_days
    full = (1 << C) - 1
    tot = np.stack([h.sum(axis=0, dtype=np.float64) for h, *_ in terms])  # (J, m)
    masks = np.arange(1 << C) if truth else np.array([full])
    coef = np.array(
        [((masks & need) == need) & ((masks & off) == 0) for _, need, _, off in terms],
        dtype=np.float64,
    )  # (J, n_masks)
    H = coef.T @ tot + base[None, :] * D  # (n_masks, m)
    reached = thresh[None, :] <= H
    values = reached.sum(axis=1).astype(np.float64) if truth else None
    converted = reached[-1]  # the observed world: every channel on (the last mask)
    conv_time = _conversion_time(terms, base, thresh, converted, D, full)
    tu, tt, tch = _with_harvest(sc, rng, tu, tt, tk, converted, conv_time)
    seen = ~(converted[tu] & (tt > conv_time[tu]))  # the journey ends at the conversion
    return _Chunk(tu[seen], tt[seen], tch[seen], persona, converted, conv_time, values)


def _draw_users(sc: Scenario, m: int, rng: np.random.Generator, z_mu: float, z_sd: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Each user's persona, baseline hazard, channel responses (m, C) and Exp(1) threshold."""
    idx = {c.name: i for i, c in enumerate(sc.channels)}
    shares = np.array([p.share for p in sc.personas])
    persona = rng.choice(len(sc.personas), size=m, p=shares / shares.sum())
    base = np.array([p.baseline for p in sc.personas])[persona]
    sig = sc.baseline_spread
    base = base * np.exp(sig * rng.standard_normal(m) - sig * sig / 2)
    resp = np.ones((len(sc.personas), len(sc.channels)))
    for pi, p in enumerate(sc.personas):
        for k, v in p.response.items():
            resp[pi, idx[k]] = v
    thresh = rng.exponential(1.0, m)  # the user's Exp(1) conversion threshold (CRN)
    return persona, base, resp[persona], thresh


def _draw_exposures(sc: Scenario, m: int, z: np.ndarray, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Exposures (user, time in days, component): component k < C is channel k's own touch,
    C + l a touch induced by upstream link l."""
    chans = sc.channels
    C, D = len(chans), sc.horizon_days
    idx = {c.name: i for i, c in enumerate(chans)}
    users, times, comps = [], [], []
    for ci, ch in enumerate(chans):
        logit = math.log(ch.reach / (1 - ch.reach)) + ch.targeting * z
        reached = rng.random(m) < _sigmoid(logit)
        n = np.where(reached, 1 + rng.poisson(ch.frequency - 1.0, m), 0)
        u = np.repeat(np.arange(m), n)
        users.append(u)
        times.append(D * rng.beta(*ch.timing, size=u.size))
        comps.append(np.full(u.size, ci, np.int32))
    own_u, own_t = users[:], times[:]
    for li, link in enumerate(sc.upstream):
        s = idx[link.source]
        keep = rng.random(own_u[s].size) < link.rate
        t = own_t[s][keep] + rng.exponential(link.lag_days, int(keep.sum()))
        ok = t < D
        users.append(own_u[s][keep][ok])
        times.append(t[ok])
        comps.append(np.full(int(ok.sum()), C + li, np.int32))
    return np.concatenate(users), np.concatenate(times), np.concatenate(comps)


def _adstock(sc: Scenario, m: int, tu: np.ndarray, tt: np.ndarray,
             tk: np.ndarray) -> np.ndarray:  # fmt: skip
    """(components, days, users) exposures strictly before each day, geometrically decayed."""
    chans = sc.channels
    idx = {c.name: i for i, c in enumerate(chans)}
    K, D = len(chans) + len(sc.upstream), sc.horizon_days
    day = np.minimum(tt.astype(np.int64), D - 1)
    # layout (component, day, user): every per-day and per-channel slice is contiguous
    counts = np.bincount((tk * D + day) * m + tu, minlength=K * D * m).reshape(K, D, m)
    counts = counts.astype(np.float32)
    lam = np.array(
        [0.5 ** (1 / ch.half_life_days) for ch in chans]
        + [0.5 ** (1 / chans[idx[lk.target]].half_life_days) for lk in sc.upstream],
        dtype=np.float32,
    )
    adstock = np.zeros_like(counts)
    lam_k = lam[:, None]
    for d in range(1, D):
        np.multiply(adstock[:, d - 1], lam_k, out=adstock[:, d])
        adstock[:, d] += counts[:, d - 1]
    return adstock


def _hazard_terms(sc: Scenario, adstock: np.ndarray, resp_u: np.ndarray
                  ) -> list[tuple[np.ndarray, int, int, int]]:  # fmt: skip
    """The hazard terms ``(daily hazard (D, m), channels needed, sources on, sources off)``:
    per channel its saturated effect for every on/off combination of its upstream sources,
    and the synergies of pairs."""
    chans = sc.channels
    C = len(chans)
    idx = {c.name: i for i, c in enumerate(chans)}
    src_links = {
        ci: [li for li, lk in enumerate(sc.upstream) if idx[lk.target] == ci] for ci in range(C)
    }

    def sat_of(ci: int, src_on: int) -> np.ndarray:  # src_on: bitmask over src_links[ci]
        a = adstock[ci].copy()
        for j, li in enumerate(src_links[ci]):
            if src_on >> j & 1:
                a += adstock[C + li]
        return _sat(a, chans[ci].saturation)

    def src_bits(links: list[int], v: int) -> tuple[int, int]:  # channel bits: sources on, off
        bits = [1 << idx[sc.upstream[li].source] for li in links]
        on = sum(b for j, b in enumerate(bits) if v >> j & 1)
        return on, sum(bits) - on

    terms: list[tuple[np.ndarray, int, int, int]] = []
    for ci, ch in enumerate(chans):
        links = src_links[ci]
        for v in range(1 << len(links)):
            s = sat_of(ci, v)
            on, off = src_bits(links, v)
            h = s * (ch.effect * resp_u[:, ci]).astype(np.float32)[None, :]
            terms.append((h, (1 << ci) | on, on, off))
    for syn in sc.synergy:
        a, b = idx[syn.a], idx[syn.b]
        # synergy uses each partner's saturated adstock in the current source state
        la, lb = src_links[a], src_links[b]
        for va in range(1 << len(la)):
            for vb in range(1 << len(lb)):
                on_a, off_a = src_bits(la, va)
                on_b, off_b = src_bits(lb, vb)
                if (on_a | on_b) & (off_a | off_b):
                    continue  # contradictory source states
                h = np.float32(syn.strength) * np.sqrt(sat_of(a, va) * sat_of(b, vb))
                terms.append((h, (1 << a) | (1 << b) | on_a | on_b, on_a | on_b, off_a | off_b))
    return terms


def _conversion_time(terms: list, base: np.ndarray, thresh: np.ndarray, converted: np.ndarray,
                     D: int, full: int) -> np.ndarray:  # fmt: skip
    """Conversion time (days) in the observed world: when the cumulative hazard passes the
    user's threshold (NaN: no conversion)."""
    m = base.size
    hazard = np.broadcast_to(base[None, :], (D, m)).astype(np.float64)
    for h, need, _, off in terms:
        if (need & full) == need and not (off & full):
            hazard += h
    cum = np.cumsum(hazard, axis=0)
    cols = np.arange(m)
    crossed = cum >= thresh[None, :]
    dconv = np.where(crossed.any(axis=0), np.argmax(crossed, axis=0), D - 1)  # rounding guard
    prev = np.where(dconv > 0, cum[np.maximum(dconv - 1, 0), cols], 0.0)
    frac = np.clip((thresh - prev) / np.maximum(hazard[dconv, cols], 1e-300), 0.0, 1.0)
    return np.where(converted, dconv + frac, np.nan)


def _with_harvest(sc: Scenario, rng: np.random.Generator, tu: np.ndarray, tt: np.ndarray,
                  tk: np.ndarray, converted: np.ndarray, conv_time: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The touches with harvest touches added (just before a conversion that was going to
    happen anyway); induced touches become touches of their target channel."""
    C = len(sc.channels)
    idx = {c.name: i for i, c in enumerate(sc.channels)}
    hu, ht, hk = [], [], []
    conv_users = np.flatnonzero(converted)
    for hv in sc.harvest:
        take = conv_users[rng.random(conv_users.size) < hv.prob]
        t = conv_time[take] - rng.exponential(hv.lag_hours / 24.0, take.size)
        t = np.where(t < 0, conv_time[take] * rng.random(take.size), t)
        hu.append(take)
        ht.append(t)
        hk.append(np.full(take.size, idx[hv.channel], np.int32))
    target_of = np.array([*range(C), *[idx[lk.target] for lk in sc.upstream]], np.int32)
    return (np.concatenate([tu, *hu]), np.concatenate([tt, *ht]),
            np.concatenate([target_of[tk], *hk]))  # fmt: skip


def simulate(
    scenario: str | Scenario,
    n_users: int = 100_000,
    random_state: int | None = None,
    *,
    ground_truth: bool = True,
    chunk_size: int = 100_000,
) -> JourneySimulation:
    """Simulate ``n_users`` journeys of ``scenario`` (and, by default, their ground truth).

    Parameters
    ----------
    scenario : str or Scenario
        A name from :data:`SCENARIOS` or your own :class:`Scenario`.
    n_users : int
        Users in the population (touched or not).
    random_state : int, optional
        Seed; the same seed gives the same journeys and truth.
    ground_truth : bool
        Also re-simulate every channel subset with the same draws (cheap: the subsets only need
        each user's end-of-window cumulative hazard per channel term).
    chunk_size : int
        Users simulated at a time (memory ~ chunk_size * channels * horizon_days * 4 bytes * 3).

    Returns
    -------
    JourneySimulation
    """
    sc = get_scenario(scenario)
    if n_users < 1:
        raise DataError(f"n_users must be >= 1 (got {n_users})")
    rng = np.random.default_rng(random_state)
    shares = np.array([p.share for p in sc.personas])
    logs = np.log([max(p.baseline, 1e-300) for p in sc.personas])
    z_mu = float(shares @ logs) - sc.baseline_spread**2 / 2
    z_sd = math.sqrt(float(shares @ (logs - shares @ logs) ** 2) + sc.baseline_spread**2) or 1.0
    chunks = []
    for start in range(0, n_users, chunk_size):
        m = min(chunk_size, n_users - start)
        ch = _simulate_chunk(sc, m, rng, ground_truth, z_mu, z_sd)
        ch.touch_user = ch.touch_user + start
        chunks.append(ch)
    tu = np.concatenate([c.touch_user for c in chunks])
    tt = np.concatenate([c.touch_time for c in chunks])
    tch = np.concatenate([c.touch_channel for c in chunks])
    converted = np.concatenate([c.converted for c in chunks])
    conv_time = np.concatenate([c.conv_time for c in chunks])
    persona = np.concatenate([c.persona for c in chunks])
    order = np.lexsort((tt, tu))
    tu, tt, tch = tu[order], tt[order], tch[order]
    names = list(sc.channel_names)
    touches = pd.DataFrame(
        {
            "user_id": tu.astype(np.int64),
            "timestamp": _EPOCH + (tt * _NS_PER_DAY).astype("timedelta64[ns]"),
            "channel": pd.Categorical.from_codes(tch, categories=names),
            "converted": converted[tu],
        }
    )
    ct = np.where(np.isnan(conv_time), 0, conv_time * _NS_PER_DAY).astype("timedelta64[ns]")
    users = pd.DataFrame(
        {
            "user_id": np.arange(n_users, dtype=np.int64),
            "persona": pd.Categorical.from_codes(persona, [p.name for p in sc.personas]),
            "converted": converted,
            "conversion_time": pd.Series(_EPOCH + ct).where(converted),
            "touches": np.bincount(tu, minlength=n_users),
        }
    )
    truth = None
    if ground_truth:
        values = np.sum([c.values for c in chunks], axis=0)
        truth = GroundTruth(tuple(names), values)
    return JourneySimulation(sc, touches, users, truth, random_state)
