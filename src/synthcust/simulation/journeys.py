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
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError

__all__ = [
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
    "simulate",
]

_EPOCH = np.datetime64("2026-01-01T00:00:00", "ns")
_NS_PER_DAY = 86_400 * 10**9
MAX_TRUTH_CHANNELS = 12


@dataclass(frozen=True)
class Channel:
    """One marketing channel.

    Attributes
    ----------
    name : str
    reach : float
        Share of users the channel reaches at all (before targeting), in (0, 1).
    frequency : float
        Mean number of exposures of a reached user over the window (>= 1).
    effect : float
        Conversion hazard per day added by one unit of (saturated) adstock; 0 = no effect.
    half_life_days : float
        Time decay of the adstock (days until an exposure's effect halves).
    saturation : float
        Adstock level at which the effect is half its linear value (diminishing returns).
    targeting : float
        Slope of the reach logit on the user's standardised log baseline propensity
        (0 = random reach; 2 = heavy targeting of likely converters).
    timing : tuple of float
        Beta(a, b) shape of exposure times over the window ((1, 1) uniform, (1, 3) early).
    """

    name: str
    reach: float
    frequency: float = 2.0
    effect: float = 0.01
    half_life_days: float = 5.0
    saturation: float = 3.0
    targeting: float = 0.0
    timing: tuple[float, float] = (1.0, 1.0)


@dataclass(frozen=True)
class Upstream:
    """Each exposure to ``source`` induces a ``target`` touch with probability ``rate``,
    ``Exp(lag_days)`` days later (it vanishes when ``source`` is switched off)."""

    source: str
    target: str
    rate: float
    lag_days: float = 2.0


@dataclass(frozen=True)
class Synergy:
    """Extra hazard ``strength * sqrt(sat_a * sat_b)``: only when both channels are present."""

    a: str
    b: str
    strength: float


@dataclass(frozen=True)
class Harvest:
    """A share ``prob`` of converting users touch ``channel`` ``Exp(lag_hours)`` before
    converting; the touch is caused by the conversion intent and causes nothing."""

    channel: str
    prob: float
    lag_hours: float = 1.0


@dataclass(frozen=True)
class Persona:
    """A kind of user: ``share`` of the population, no-ads daily ``baseline`` hazard and a
    multiplier of each channel's effect (``response``; channels not named get 1)."""

    name: str
    share: float
    baseline: float
    response: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A complete simulated market: channels, personas and the causal links between them.

    ``baseline_spread`` is the log-normal sd of the individual no-ads propensity around the
    persona's baseline (it is what targeting aims at).
    """

    name: str
    description: str
    channels: tuple[Channel, ...]
    personas: tuple[Persona, ...] = (Persona("everyone", 1.0, 0.0006),)
    upstream: tuple[Upstream, ...] = ()
    synergy: tuple[Synergy, ...] = ()
    harvest: tuple[Harvest, ...] = ()
    horizon_days: int = 28
    baseline_spread: float = 0.5

    @property
    def channel_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.channels)

    def to_dict(self) -> dict:
        """JSON-ready parameters (what ``synthcust journeys scenarios --show`` prints)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Scenario:
        """A scenario from :meth:`to_dict` output (e.g. an edited ``--show`` JSON), validated."""
        parts = {
            "channels": Channel,
            "personas": Persona,
            "upstream": Upstream,
            "synergy": Synergy,
            "harvest": Harvest,
        }
        if not isinstance(d, dict):
            raise DataError("a scenario must be a JSON object (see `journeys scenarios --show`)")
        kw = dict(d)
        try:
            for key, kind in parts.items():
                if key in kw:
                    items = []
                    for item in kw[key]:
                        item = dict(item)
                        if "timing" in item:
                            item["timing"] = tuple(item["timing"])
                        items.append(kind(**item))
                    kw[key] = tuple(items)
            sc = cls(**kw)
        except TypeError as e:
            raise DataError(
                f"scenario {d.get('name', '?')!r}: {e}; compare with the fields printed by "
                "`synthcust journeys scenarios --show independent`"
            ) from e
        sc.validate()
        return sc

    def validate(self) -> None:
        """Raise :class:`DataError` naming the first inconsistent parameter."""
        names = self.channel_names
        if not names:
            raise DataError(f"scenario {self.name!r} has no channels")
        if len(set(names)) != len(names):
            raise DataError(f"scenario {self.name!r}: channel names repeat: {list(names)}")
        if len(names) > MAX_TRUTH_CHANNELS:
            raise DataError(
                f"scenario {self.name!r} has {len(names)} channels; the exact ground truth "
                f"re-simulates all 2^C subsets and supports at most {MAX_TRUTH_CHANNELS}"
            )
        for c in self.channels:
            if not 0 < c.reach < 1 or c.frequency < 1 or c.effect < 0:
                raise DataError(
                    f"channel {c.name!r}: need 0 < reach < 1, frequency >= 1, effect >= 0 "
                    f"(got reach={c.reach}, frequency={c.frequency}, effect={c.effect})"
                )
        refs = [(u.source, "upstream source") for u in self.upstream]
        refs += [(u.target, "upstream target") for u in self.upstream]
        refs += [(s.a, "synergy") for s in self.synergy] + [(s.b, "synergy") for s in self.synergy]
        refs += [(h.channel, "harvest") for h in self.harvest]
        refs += [(k, f"persona {p.name!r} response") for p in self.personas for k in p.response]
        for ch, where in refs:
            if ch not in names:
                raise DataError(
                    f"scenario {self.name!r}: {where} names channel {ch!r}, which is not one "
                    f"of its channels {list(names)}"
                )
        shares = np.array([p.share for p in self.personas])
        if (shares <= 0).any() or abs(shares.sum() - 1) > 1e-6:
            raise DataError(f"scenario {self.name!r}: persona shares must be > 0 and sum to 1")


def _independent() -> Scenario:
    return Scenario(
        "independent",
        "Five channels reached at random with additive effects: no targeting, no upstream "
        "links, no synergy, no harvesting, a small no-ads baseline. The easy case.",
        channels=(
            Channel("display", 0.35, 3.0, 0.004, 5.0, 6.0),
            Channel("social", 0.30, 2.5, 0.010, 4.0, 6.0),
            Channel("email", 0.25, 2.0, 0.020, 3.0, 6.0),
            Channel("search", 0.20, 1.5, 0.040, 3.0, 6.0),
            Channel("affiliate", 0.10, 1.5, 0.010, 4.0, 6.0),
        ),
        personas=(Persona("everyone", 1.0, 0.0003),),
        baseline_spread=0.3,
    )


def _search_harvests() -> Scenario:
    return Scenario(
        "search_harvests",
        "Brand search causes nothing: 70% of converters search just before buying and search "
        "targets high-intent users, so last-click hands it most of the credit.",
        channels=(
            Channel("display", 0.40, 3.0, 0.008, 5.0, 4.0, timing=(1.0, 2.0)),
            Channel("social", 0.30, 2.5, 0.012, 4.0, 4.0),
            Channel("email", 0.30, 2.0, 0.014, 3.0, 4.0),
            Channel("search", 0.20, 1.5, 0.0, 3.0, 4.0, targeting=1.5, timing=(2.0, 1.0)),
        ),
        personas=(Persona("everyone", 1.0, 0.0008),),
        harvest=(Harvest("search", 0.7, 2.0),),
    )


def _upper_funnel_display() -> Scenario:
    return Scenario(
        "upper_funnel_display",
        "Display is seen early and barely converts by itself, but each exposure makes a later "
        "search or direct visit likely (upstream effect); those visits convert.",
        channels=(
            Channel("display", 0.50, 3.0, 0.0005, 5.0, 4.0, timing=(1.0, 5.0)),
            Channel("social", 0.25, 2.0, 0.008, 4.0, 4.0),
            Channel("email", 0.25, 2.0, 0.010, 3.0, 4.0),
            Channel("search", 0.15, 1.5, 0.030, 3.0, 4.0, timing=(2.0, 1.0)),
            Channel("direct", 0.10, 1.5, 0.030, 3.0, 4.0, timing=(2.0, 1.0)),
        ),
        personas=(Persona("everyone", 1.0, 0.0004),),
        upstream=(
            Upstream("display", "search", 0.35, 4.0),
            Upstream("display", "direct", 0.20, 5.0),
        ),
    )


def _synergy() -> Scenario:
    return Scenario(
        "synergy",
        "Video and social do little alone but strongly together; email and search are "
        "additive. Two personas respond differently to video.",
        channels=(
            Channel("video", 0.40, 3.0, 0.002, 6.0, 4.0),
            Channel("social", 0.40, 3.0, 0.002, 4.0, 4.0),
            Channel("email", 0.25, 2.0, 0.012, 3.0, 4.0),
            Channel("search", 0.20, 1.5, 0.020, 3.0, 4.0),
        ),
        personas=(
            Persona("young", 0.5, 0.0004, {"video": 1.5, "email": 0.5}),
            Persona("established", 0.5, 0.0004, {"video": 0.5, "email": 1.5}),
        ),
        synergy=(Synergy("video", "social", 0.03),),
    )


def _targeted() -> Scenario:
    return Scenario(
        "targeted",
        "Retargeting and email are aimed at users who would convert anyway (strong targeting) "
        "and add little; prospecting display reaches everyone at random and works. Three "
        "personas: loyal (high baseline, unresponsive), persuadable, indifferent.",
        channels=(
            Channel("prospecting", 0.40, 3.0, 0.010, 5.0, 4.0),
            Channel("social", 0.30, 2.0, 0.008, 4.0, 4.0),
            Channel("retargeting", 0.20, 3.0, 0.002, 3.0, 4.0, targeting=2.5),
            Channel("email", 0.25, 2.0, 0.002, 3.0, 4.0, targeting=2.0),
        ),
        personas=(
            Persona("loyal", 0.2, 0.004, {"prospecting": 0.2, "social": 0.2}),
            Persona("persuadable", 0.3, 0.0004, {"prospecting": 2.0, "social": 2.0}),
            Persona("indifferent", 0.5, 0.0002, {"prospecting": 0.3, "social": 0.3}),
        ),
        baseline_spread=0.8,
    )


#: Named scenarios: name -> factory returning its :class:`Scenario` (see ``Scenario.to_dict``).
SCENARIOS = {
    "independent": _independent,
    "search_harvests": _search_harvests,
    "upper_funnel_display": _upper_funnel_display,
    "synergy": _synergy,
    "targeted": _targeted,
}


def get_scenario(scenario: str | Scenario) -> Scenario:
    """The named scenario (or ``scenario`` itself), validated."""
    if isinstance(scenario, Scenario):
        scenario.validate()
        return scenario
    if scenario not in SCENARIOS:
        raise DataError(
            f"unknown scenario {scenario!r}; choose one of {sorted(SCENARIOS)} or pass a Scenario"
        )
    sc = SCENARIOS[scenario]()
    sc.validate()
    return sc


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
        from synthcust.simulation.attribution import shapley_from_values

        phi = shapley_from_values(self.values)
        return pd.Series(phi, index=list(self.channels), name="shapley", dtype=float)

    @property
    def shares(self) -> pd.Series:
        """Shapley credit shares (sum to 1): the target attribution models are scored on."""
        s = self.shapley
        return (s / s.sum()).rename("truth")

    def to_dict(self) -> dict:
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
        from synthcust.simulation.attribution import from_log

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
    chans = sc.channels
    C, D, L = len(chans), sc.horizon_days, len(sc.upstream)
    idx = {c.name: i for i, c in enumerate(chans)}
    shares = np.array([p.share for p in sc.personas])
    persona = rng.choice(len(sc.personas), size=m, p=shares / shares.sum())
    base = np.array([p.baseline for p in sc.personas])[persona]
    sig = sc.baseline_spread
    base = base * np.exp(sig * rng.standard_normal(m) - sig * sig / 2)
    z = (np.log(np.maximum(base, 1e-300)) - z_mu) / z_sd
    resp = np.ones((len(sc.personas), C))
    for pi, p in enumerate(sc.personas):
        for k, v in p.response.items():
            resp[pi, idx[k]] = v
    resp_u = resp[persona]  # (m, C)
    thresh = rng.exponential(1.0, m)  # the user's Exp(1) conversion threshold (CRN)

    # exposures: component k < C are a channel's own touches, C + l those induced by link l
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
    tu, tt, tk = np.concatenate(users), np.concatenate(times), np.concatenate(comps)
    K = C + L
    day = np.minimum(tt.astype(np.int64), D - 1)
    # layout (component, day, user): every per-day and per-channel slice is contiguous
    counts = np.bincount((tk * D + day) * m + tu, minlength=K * D * m).reshape(K, D, m)
    counts = counts.astype(np.float32)
    lam = np.array(
        [0.5 ** (1 / ch.half_life_days) for ch in chans]
        + [0.5 ** (1 / chans[idx[lk.target]].half_life_days) for lk in sc.upstream],
        dtype=np.float32,
    )
    adstock = np.zeros_like(counts)  # exposures strictly before day d, decayed
    lam_k = lam[:, None]
    for d in range(1, D):
        np.multiply(adstock[:, d - 1], lam_k, out=adstock[:, d])
        adstock[:, d] += counts[:, d - 1]
    del counts

    # per channel: its saturated daily effect for every on/off combination of its sources
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

    # terms: (daily hazard array, channels it needs, function mask -> active)
    terms: list[tuple[np.ndarray, int, int, int]] = []  # (hazard, need_mask, srcreq, srcoff)
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

    # whether a user converts in a world S only needs the end-of-window cumulative hazard:
    # baseline * D + the window totals of the terms active in S (one small matrix product)
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

    # conversion time in the observed world: first day the cumulative hazard passes thresh
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
    conv_time = np.where(converted, dconv + frac, np.nan)

    # harvest touches just before a conversion that was going to happen anyway
    hu, ht, hk = [], [], []
    conv_users = np.flatnonzero(converted)
    for hv in sc.harvest:
        take = conv_users[rng.random(conv_users.size) < hv.prob]
        t = conv_time[take] - rng.exponential(hv.lag_hours / 24.0, take.size)
        t = np.where(t < 0, conv_time[take] * rng.random(take.size), t)
        hu.append(take)
        ht.append(t)
        hk.append(np.full(take.size, idx[hv.channel], np.int32))
    # induced touches are touches of their target channel
    target_of = np.array([*range(C), *[idx[lk.target] for lk in sc.upstream]], np.int32)
    tu = np.concatenate([tu, *hu])
    tt = np.concatenate([tt, *ht])
    tch = np.concatenate([target_of[tk], *hk])
    seen = ~(converted[tu] & (tt > conv_time[tu]))  # the journey ends at the conversion
    return _Chunk(tu[seen], tt[seen], tch[seen], persona, converted, conv_time, values)


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


def scenario_table(scenario: str | Scenario) -> pd.DataFrame:
    """The channel parameters of a scenario as a table (one row per channel)."""
    sc = get_scenario(scenario)
    rows = [asdict(c) for c in sc.channels]
    return pd.DataFrame(rows).set_index("name")
