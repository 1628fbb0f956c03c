"""A Gymnasium environment in which a pricing / promotion policy acts on synthetic customers.

:class:`PricingEnv` (registered as ``"synthcust/Pricing-v0"`` when this module is imported):
at every step one customer occasion is drawn from the (synthetic) population. The policy sees
the customer's **persona** (one-hot) and the **context** (the competitors' prices at that
occasion and the position in the season, ``t / horizon``) and sets the **prices** of the
alternatives it controls (a ``Box`` inside the declared price range) and, optionally,
**promotion flags** (display / feature attributes of the model, ``MultiBinary``). The fitted
choice model (multinomial or latent-class logit) gives the customer's choice probabilities
under those prices; a purchase is simulated and the **reward** is the revenue (price of a
controlled alternative bought) or the margin (price - unit cost), minus a promotion cost per
flag switched on. ``reward_mode="expected"`` returns the expected reward instead of a
simulated one (less noise for evaluation).

An action outside the declared price range raises :class:`synthcust.exceptions.DataError`
naming the alternative, the value and the range (no silent clipping).

Policies: :class:`ConstantPolicy` (the baseline: today's prices, no promotion) and
:class:`EpsilonGreedyPricing` (an epsilon-greedy bandit per persona over a grid of price
vectors, with running-mean estimates); :func:`run_policy` plays one on the environment and
:func:`expected_reward` scores a pricing rule exactly (vectorised over the population).

Everything the environment produces rests on the choice model: its price response is the
model's, valid inside the prices it saw (the default price range is the population's observed
range for that reason).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium import spaces

from synthcust.exceptions import DataError
from synthcust.simulation.choice import (
    ChoiceModel,
    choice_data,
    load_model,
)
from synthcust.simulation.choice.numerics import coef_arrays, softmax, utilities

__all__ = [
    "ENV_ID",
    "ConstantPolicy",
    "EpsilonGreedyPricing",
    "PricingEnv",
    "expected_reward",
    "run_policy",
]

ENV_ID = "synthcust/Pricing-v0"
_OUTSIDE = ("none", "no_purchase", "nopurchase", "no-purchase", "outside", "no_buy", "nobuy")


class PricingEnv(gym.Env):
    """Pricing / promotion on a synthetic population driven by a fitted choice model.

    Parameters
    ----------
    model : a fitted :class:`ChoiceModel`, or the path / dict of a saved one.
    population : wide table of customer occasions (the model's price / attribute columns;
        missing attributes are set to the training means) and the persona column.
    controlled : alternatives whose prices the policy sets (default: every alternative but a
        no-purchase option named like ``none``).
    price_range : ``{alternative: (low, high)}``; default: the population's observed range.
    cost : unit cost per controlled alternative (for ``reward="margin"``).
    promotions : attributes of the model (``disp``, ``feat``) the policy may switch on for its
        alternatives; ``promo_cost`` is charged per flag switched on per step.
    persona : population column observed by the policy (default: the model's persona column).
    horizon : steps per episode (``truncated`` after it).
    reward_mode : ``"sampled"`` (a simulated purchase) or ``"expected"``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        model: ChoiceModel | str | Path | dict,
        population: pd.DataFrame,
        *,
        controlled: Sequence[str] | None = None,
        price_range: Mapping[str, tuple[float, float]] | None = None,
        cost: Mapping[str, float] | None = None,
        reward: str = "revenue",
        promotions: Sequence[str] = (),
        promo_cost: float = 0.0,
        persona: str | None = None,
        horizon: int = 100,
        reward_mode: str = "sampled",
    ) -> None:
        m = model if isinstance(model, ChoiceModel) else load_model(model)
        m.check_fitted()
        self.model = m
        spec = m.spec_
        if spec.price is None:
            raise DataError("the choice model has no price attribute; it cannot price")
        alts = list(spec.alternatives)
        attrs = spec.attribute_names
        if controlled is None:
            controlled = [a for a in alts if a.lower() not in _OUTSIDE]
        controlled = list(controlled)
        unknown = [a for a in controlled if a not in alts]
        if unknown or not controlled:
            raise DataError(f"controlled alternatives {unknown or controlled} are not in the "
                            f"model's {alts}")  # fmt: skip
        _check_settings(spec, reward, reward_mode, promotions, horizon)
        persona = persona if persona is not None else spec.persona
        if persona is not None and persona not in population.columns:
            raise DataError(f"persona column {persona!r} is not in the population")
        fill = {a: m.reference_levels_[:, p] for p, a in enumerate(attrs)}
        pop = population
        missing_cov = [c for c in spec.covariates if c not in population.columns]
        if missing_cov:
            pop = population.assign(**{c: m.covariate_means_[spec.covariates.index(c)]
                                       for c in missing_cov})  # fmt: skip
        self._data = choice_data(pop, replace(spec, order=None), require_choice=False,
                                 fill=fill)  # fmt: skip
        d = self._data
        self._pi = attrs.index(spec.price)
        self._cj = np.array([alts.index(a) for a in controlled])
        self._oj = np.array([j for j, a in enumerate(alts)
                             if a not in controlled and a.lower() not in _OUTSIDE])  # fmt: skip
        self._promo_p = np.array([attrs.index(p) for p in promotions], dtype=np.int64)
        self.controlled, self.promotions, self.alternatives = controlled, list(promotions), alts
        obs_prices = d.X[:, :, self._pi]
        lo, hi = _price_bounds(controlled, self._cj, obs_prices, d.avail, price_range)
        self.price_low, self.price_high = lo, hi
        self.cost = np.array([float((cost or {}).get(a, 0.0)) for a in controlled])
        if reward == "margin" and cost is None:
            raise DataError("reward='margin' needs cost={alternative: unit cost}")
        self.reward_kind, self.reward_mode = reward, reward_mode
        self.promo_cost = float(promo_cost)
        self.horizon = int(horizon)
        # personas
        if persona is not None:
            cats = pd.Categorical(population[persona].astype(str))
            self.personas = [str(c) for c in cats.categories]
            self._pcode = cats.codes.astype(np.int64)
        else:
            self.personas = ["all"]
            self._pcode = np.zeros(d.n, dtype=np.int64)
        self.persona_column = persona
        # coefficients and each customer's class weights (the membership prior)
        self._asc, self._beta, self._G = coef_arrays(spec, m.class_rows(m.theta_))
        self._w = m.class_weights(d, m.theta_, posterior=False)  # (N, C)
        self._make_spaces(10 * float(np.nanmax(obs_prices)) if len(self._oj) else 1.0)
        self._t = 0
        self._i = 0

    def _make_spaces(self, comp_hi: float) -> None:
        """Observation (persona one-hot, competitors' prices, time) and action spaces."""
        k = len(self.personas)
        n_obs = k + len(self._oj) + 1
        self.observation_space = spaces.Box(
            low=np.zeros(n_obs, np.float32),
            high=np.concatenate([np.ones(k), np.full(len(self._oj), comp_hi), [1.0]]).astype(
                np.float32
            ),
            dtype=np.float32,
        )
        lo, hi = self.price_low, self.price_high
        price_box = spaces.Box(lo.astype(np.float32), hi.astype(np.float32), dtype=np.float32)
        if self.promotions:
            self.action_space = spaces.Dict({
                "price": price_box,
                "promo": spaces.MultiBinary(len(self.controlled) * len(self.promotions)),
            })  # fmt: skip
        else:
            self.action_space = price_box

    # ---- helpers
    def _obs(self) -> np.ndarray:
        k = len(self.personas)
        o = np.zeros(self.observation_space.shape, np.float32)
        o[self._pcode[self._i]] = 1.0
        if len(self._oj):
            o[k : k + len(self._oj)] = self._data.X[self._i, self._oj, self._pi]
        o[-1] = min(self._t / self.horizon, 1.0)
        return o

    def split_action(self, action: Any) -> tuple[np.ndarray, np.ndarray]:
        """(prices, promo flags) of an action, checked against the declared ranges."""
        if self.promotions:
            if not isinstance(action, Mapping) or "price" not in action:
                raise DataError("this environment's action is {'price': [...], 'promo': [...]}")
            prices = np.asarray(action["price"], dtype=float).ravel()
            promo = np.asarray(action.get("promo", np.zeros(0)), dtype=float).ravel()
            need = len(self.controlled) * len(self.promotions)
            if promo.size != need or not np.isin(promo, (0, 1)).all():
                raise DataError(f"promo must be {need} flags of 0/1 (controlled x promotions), "
                                f"got {promo.tolist()}")  # fmt: skip
        else:
            prices = np.asarray(action, dtype=float).ravel()
            promo = np.zeros(0)
        if prices.size != len(self.controlled):
            raise DataError(f"the action needs {len(self.controlled)} prices "
                            f"({self.controlled}), got {prices.size}")  # fmt: skip
        tol = 1e-6 * np.maximum(1.0, np.abs(self.price_high))
        bad = ~np.isfinite(prices) | (prices < self.price_low - tol) | (
            prices > self.price_high + tol
        )
        if bad.any():
            i = int(np.nonzero(bad)[0][0])
            raise DataError(
                f"action price {prices[i]:g} for {self.controlled[i]!r} is outside the declared "
                f"price range [{self.price_low[i]:g}, {self.price_high[i]:g}]; the environment "
                "does not clip: keep actions inside action_space (or widen price_range, at "
                "the cost of extrapolating the choice model)"
            )
        return prices, promo

    def choice_probabilities(self, prices: np.ndarray, promo: np.ndarray | None = None,
                             rows: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        """(n, J) choice probabilities of population rows under ``prices`` / ``promo``."""
        d = self._data
        rows = np.arange(d.n) if rows is None else np.asarray(rows)
        X = d.X[rows].copy()
        X[:, self._cj, self._pi] = prices[None, :]
        if promo is not None and promo.size:
            f = promo.reshape(len(self.controlled), len(self.promotions))
            for q, p in enumerate(self._promo_p):
                X[:, self._cj, p] = f[:, q][None, :]
        Pc = softmax(utilities(self._asc, self._beta, self._G, X, d.Z[rows], d.avail[rows]))
        return np.einsum("nc,cnj->nj", self._w[rows], Pc)

    def _margins(self, prices: np.ndarray) -> np.ndarray:
        return prices - (self.cost if self.reward_kind == "margin" else 0.0)

    # ---- gymnasium API
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:  # fmt: skip
        super().reset(seed=seed)
        self._t = 0
        self._i = int(self.np_random.integers(self._data.n))
        info = {"customer_row": self._i, "persona": self.personas[self._pcode[self._i]]}
        return self._obs(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        prices, promo = self.split_action(action)
        P = self.choice_probabilities(prices, promo, np.array([self._i]))[0]
        marg = self._margins(prices)
        exp_r = float(P[self._cj] @ marg) - self.promo_cost * float(promo.sum())
        j = int(self.np_random.choice(len(P), p=P / P.sum()))
        hit = np.nonzero(self._cj == j)[0]
        sampled = (float(marg[hit[0]]) if hit.size else 0.0) - self.promo_cost * float(promo.sum())
        reward = exp_r if self.reward_mode == "expected" else sampled
        info = {"customer_row": self._i, "persona": self.personas[self._pcode[self._i]],
                "choice": self.alternatives[j], "expected_reward": exp_r}  # fmt: skip
        self._t += 1
        self._i = int(self.np_random.integers(self._data.n))
        return self._obs(), float(reward), False, self._t >= self.horizon, info

    def persona_of(self, obs: np.ndarray) -> int:
        """The persona index encoded in an observation."""
        return int(np.argmax(obs[: len(self.personas)]))


def _check_settings(spec: Any, reward: str, reward_mode: str, promotions: Sequence[str],
                    horizon: int) -> None:  # fmt: skip
    """Refuse unknown reward kinds, promotion attributes and horizons."""
    attrs = spec.attribute_names
    if reward not in ("revenue", "margin"):
        raise DataError(f"reward must be 'revenue' or 'margin', not {reward!r}")
    if reward_mode not in ("sampled", "expected"):
        raise DataError(f"reward_mode must be 'sampled' or 'expected', not {reward_mode!r}")
    bad_promo = [p for p in promotions if p not in attrs or p == spec.price]
    if bad_promo:
        raise DataError(f"promotion attribute(s) {bad_promo} are not non-price attributes of "
                        f"the model ({[a for a in attrs if a != spec.price]})")  # fmt: skip
    if int(horizon) < 1:
        raise DataError(f"horizon must be >= 1, not {horizon}")


def _price_bounds(controlled: list[str], cj: np.ndarray, obs_prices: np.ndarray,
                  avail: np.ndarray, price_range: Mapping[str, tuple[float, float]] | None
                  ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Each controlled alternative's price range: given, or observed in the population."""
    lo = np.empty(len(controlled))
    hi = np.empty(len(controlled))
    for i, (a, j) in enumerate(zip(controlled, cj, strict=True)):
        if price_range is not None and a in price_range:
            lo[i], hi[i] = (float(x) for x in price_range[a])
        elif price_range is not None:
            raise DataError(f"price_range lacks controlled alternative {a!r}")
        else:
            v = obs_prices[avail[:, j], j]
            lo[i], hi[i] = float(v.min()), float(v.max())
        if not (0 < lo[i] < hi[i]):
            raise DataError(f"price range of {a!r} is [{lo[i]}, {hi[i]}]; it needs "
                            "0 < low < high")  # fmt: skip
    return lo, hi


def expected_reward(env: PricingEnv, rule: Any, *, by_persona: bool = True) -> pd.Series:
    """Exact expected reward per customer of a pricing rule over the whole population.

    ``rule`` is a fixed action, or a mapping persona -> action (personalised prices). Returns
    the mean expected reward per occasion, overall and per persona.
    """
    d = env._data
    out = np.empty(d.n)
    for k, pname in enumerate(env.personas):
        rows = np.nonzero(env._pcode == k)[0]
        if not rows.size:
            continue
        act = rule[pname] if isinstance(rule, Mapping) and pname in rule else rule
        prices, promo = env.split_action(act)
        P = env.choice_probabilities(prices, promo, rows)
        out[rows] = P[:, env._cj] @ env._margins(prices) - env.promo_cost * promo.sum()
    s = {"all": float(out.mean())}
    if by_persona:
        s.update({p: float(out[env._pcode == k].mean()) for k, p in enumerate(env.personas)})
    return pd.Series(s, name="expected_reward")


class ConstantPolicy:
    """The baseline: the same prices (default: today's mean observed prices, clipped into the
    range) and no promotion for every customer."""

    def __init__(self, env: PricingEnv, prices: Sequence[float] | None = None) -> None:
        if prices is None:
            obs = env._data.X[:, env._cj, env._pi]
            prices = np.clip(obs.mean(0), env.price_low, env.price_high)
        self.prices = np.asarray(prices, dtype=np.float32)
        self.env = env
        env.split_action(self.action())  # check the range at once

    def action(self, obs: np.ndarray | None = None) -> Any:
        if self.env.promotions:
            n = len(self.env.controlled) * len(self.env.promotions)
            return {"price": self.prices, "promo": np.zeros(n, dtype=np.int8)}
        return self.prices

    def act(self, obs: np.ndarray) -> Any:
        return self.action(obs)

    def update(self, obs: np.ndarray, action: Any, reward: float) -> None:
        return None

    def rule(self) -> Any:
        return self.action()


class EpsilonGreedyPricing:
    """Epsilon-greedy bandit over a grid of price vectors (x promotion settings), one bandit
    per persona (``per_persona``) or one for everyone.

    Arms: the cartesian product of ``grid_points`` evenly spaced prices per controlled
    alternative (and every promotion setting). With probability ``epsilon`` a random arm is
    played, else the arm with the best running-mean reward (unplayed arms first).
    """

    def __init__(self, env: PricingEnv, *, grid_points: int = 5, epsilon: float = 0.1,
                 per_persona: bool = True, max_arms: int = 400,
                 random_state: int | None = 0) -> None:  # fmt: skip
        if not 0 <= epsilon <= 1:
            raise DataError(f"epsilon must be in [0, 1], not {epsilon}")
        grids = [np.linspace(lo, hi, grid_points)
                 for lo, hi in zip(env.price_low, env.price_high, strict=True)]  # fmt: skip
        prices = list(itertools.product(*grids))
        n_flags = len(env.controlled) * len(env.promotions)
        promos = list(itertools.product((0, 1), repeat=n_flags)) if n_flags else [()]
        arms = list(itertools.product(prices, promos))
        if len(arms) > max_arms:
            raise DataError(f"{len(arms)} arms (grid_points ** prices x promotion settings) > "
                            f"max_arms={max_arms}; use fewer grid points")  # fmt: skip
        self.env = env
        self.arms = arms
        self.epsilon = epsilon
        self.per_persona = per_persona
        G = len(env.personas) if per_persona else 1
        self.counts = np.zeros((G, len(arms)))
        self.means = np.zeros((G, len(arms)))
        self.rng = np.random.default_rng(random_state)
        self._last = 0

    def _g(self, obs: np.ndarray) -> int:
        return self.env.persona_of(obs) if self.per_persona else 0

    def arm_action(self, a: int) -> Any:
        prices, promo = self.arms[a]
        p = np.asarray(prices, dtype=np.float32)
        if self.env.promotions:
            return {"price": p, "promo": np.asarray(promo, dtype=np.int8)}
        return p

    def act(self, obs: np.ndarray) -> Any:
        g = self._g(obs)
        if self.rng.random() < self.epsilon:
            a = int(self.rng.integers(len(self.arms)))
        else:
            c = self.counts[g]
            a = int(np.argmin(c)) if (c == 0).any() else int(np.argmax(self.means[g]))
        self._last = a
        return self.arm_action(a)

    def update(self, obs: np.ndarray, action: Any, reward: float) -> None:
        g, a = self._g(obs), self._last
        self.counts[g, a] += 1
        self.means[g, a] += (reward - self.means[g, a]) / self.counts[g, a]

    def rule(self) -> Any:
        """The greedy (learned) rule: persona -> action, or one action."""
        best = self.means.argmax(1)
        if self.per_persona:
            return {p: self.arm_action(int(best[k])) for k, p in enumerate(self.env.personas)}
        return self.arm_action(int(best[0]))


def run_policy(env: PricingEnv, policy: Any, n_steps: int, *, seed: int | None = 0,
               learn: bool = True) -> dict[str, float]:  # fmt: skip
    """Play ``policy`` (``act(obs)``, ``update(obs, action, reward)``) for ``n_steps``; episodes
    restart after ``horizon`` steps. Returns the mean reward per step (and its standard error)."""
    obs, _ = env.reset(seed=seed)
    rewards = np.empty(int(n_steps))
    for t in range(int(n_steps)):
        a = policy.act(obs)
        nxt, r, term, trunc, _ = env.step(a)
        if learn:
            policy.update(obs, a, r)
        rewards[t] = r
        obs = nxt
        if term or trunc:
            obs, _ = env.reset()
    return {"mean_reward": float(rewards.mean()),
            "se": float(rewards.std(ddof=1) / np.sqrt(len(rewards))) if len(rewards) > 1 else 0.0,
            "steps": int(n_steps)}  # fmt: skip


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="synthcust.simulation.env:PricingEnv")
