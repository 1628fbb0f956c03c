"""The journey simulator's scenarios: channels, upstream effects, synergies, harvesting,
personas, and the named scenarios (see :mod:`synthcust.simulation.journeys` for the model)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError

__all__ = [
    "MAX_TRUTH_CHANNELS",
    "SCENARIOS",
    "Channel",
    "Harvest",
    "Persona",
    "Scenario",
    "Synergy",
    "Upstream",
    "get_scenario",
    "scenario_table",
]

#: the most channels whose ground truth (all 2^C subsets re-simulated) is computed
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
        """The channels, in order."""
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


def scenario_table(scenario: str | Scenario) -> pd.DataFrame:
    """The channel parameters of a scenario as a table (one row per channel)."""
    sc = get_scenario(scenario)
    rows = [asdict(c) for c in sc.channels]
    return pd.DataFrame(rows).set_index("name")
