"""Gymnasium pricing environment: API conformance, range errors, a bandit beats the baseline."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

gym = pytest.importorskip("gymnasium", reason="the pricing environment needs gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from synthcust.exceptions import DataError  # noqa: E402
from synthcust.simulation.choice import (  # noqa: E402
    LatentClassLogit,
    MultinomialLogit,
    choice_data,
    detect_spec,
)
from synthcust.simulation.env import (  # noqa: E402
    ENV_ID,
    ConstantPolicy,
    EpsilonGreedyPricing,
    PricingEnv,
    expected_reward,
    run_policy,
)


def _panel(n: int = 2000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pa, pb = rng.uniform(1, 3, n), rng.uniform(1, 3, n)
    da, db = (rng.random(n) < 0.3).astype(int), (rng.random(n) < 0.3).astype(int)
    V = np.column_stack([np.zeros(n), 1.5 - 1.5 * pa + 0.6 * da, 1.0 - 1.5 * pb + 0.6 * db])
    y = (V + rng.gumbel(size=V.shape)).argmax(1)
    df = pd.DataFrame({"price.none": 1.0, "price.a": pa, "price.b": pb, "disp.none": 0,
                       "disp.a": da, "disp.b": db})  # fmt: skip
    df["choice"] = np.array(["none", "a", "b"])[y]
    df["persona"] = rng.choice(["thrifty", "loyal"], n)
    return df


@pytest.fixture(scope="module")
def fitted():
    df = _panel()
    return MultinomialLogit().fit(choice_data(df, detect_spec(df))), df


def test_env_checker_passes(fitted):
    m, df = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checker's advice to normalise Box ranges
        check_env(PricingEnv(m, df, controlled=["a"], persona="persona", horizon=20),
                  skip_render_check=True)  # fmt: skip
        check_env(PricingEnv(m, df, controlled=["a", "b"], cost={"a": 1, "b": 1},
                             reward="margin", promotions=["disp"], promo_cost=0.05),
                  skip_render_check=True)  # fmt: skip


def test_registered_and_observation(fitted):
    m, df = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = gym.make(ENV_ID, model=m, population=df, controlled=["a"], persona="persona")
    obs, info = env.reset(seed=3)
    u = env.unwrapped
    assert isinstance(u, PricingEnv)
    k = u.persona_of(obs)
    assert obs[:2].sum() == 1 and u.personas[k] == info["persona"]
    # context: the competitor's price of this occasion, then the season position
    assert obs[2] == pytest.approx(df["price.b"].iloc[info["customer_row"]], rel=1e-6)
    obs2, *_ = env.reset(seed=3)
    assert np.array_equal(obs, obs2)
    _, r, term, _trunc, info = env.step(np.array([2.0], np.float32))
    assert r in (0.0, pytest.approx(2.0)) and not term and info["choice"] in ("none", "a", "b")


def test_action_outside_range_is_an_error(fitted):
    m, df = fitted
    env = PricingEnv(m, df, controlled=["a"], price_range={"a": (1.0, 3.0)})
    env.reset(seed=0)
    with pytest.raises(DataError, match=r"3.5 for 'a' is outside the declared price range"):
        env.step(np.array([3.5]))
    with pytest.raises(DataError, match="needs 1 prices"):
        env.step(np.array([2.0, 2.0]))
    with pytest.raises(DataError, match="cost"):
        PricingEnv(m, df, reward="margin")
    with pytest.raises(DataError, match="'price'"):
        PricingEnv(m, df, promotions=["price"])


def test_expected_reward_matches_the_choice_model(fitted):
    m, df = fitted
    env = PricingEnv(m, df, controlled=["a"], price_range={"a": (1.0, 3.0)})
    d = choice_data(df.assign(**{"price.a": 2.0}), m.spec_, require_choice=False)
    P = m.predict_proba(d)
    assert expected_reward(env, np.array([2.0]))["all"] == pytest.approx(2.0 * P[:, 1].mean())


def test_bandit_beats_constant_baseline(fitted):
    m, df = fitted
    # revenue of 'a': with a price coefficient of -1.5 the best price is at the bottom of the
    # range, while today's mean price is 2 -> the bandit should find the cheaper prices
    env = PricingEnv(m, df, controlled=["a"], price_range={"a": (1.0, 3.0)}, horizon=50,
                     persona="persona")  # fmt: skip
    base = ConstantPolicy(env)
    bandit = EpsilonGreedyPricing(env, grid_points=5, epsilon=0.1, random_state=0)
    on_b = run_policy(env, bandit, 3000, seed=1)
    on_0 = run_policy(env, base, 3000, seed=1)
    assert on_b["mean_reward"] > on_0["mean_reward"] + 2 * np.hypot(on_b["se"], on_0["se"])
    learned, baseline = expected_reward(env, bandit.rule()), expected_reward(env, base.rule())
    assert learned["all"] > 1.15 * baseline["all"]
    best = max(expected_reward(env, np.array([p]))["all"] for p in np.linspace(1, 3, 5))
    assert learned["all"] > 0.97 * best  # close to the best grid price


def test_latent_class_personas_get_their_own_prices():
    rng = np.random.default_rng(4)
    hh = 300
    persona = rng.choice(["thrifty", "loyal"], hh)
    df = pd.DataFrame({"id": np.repeat(np.arange(hh), 8)})
    n = len(df)
    df["persona"] = persona[df["id"]]
    df["price.none"] = 1.0
    df["price.a"] = rng.uniform(1, 3, n)
    b = np.where(df["persona"] == "thrifty", -3.0, -0.5)
    V = np.column_stack([np.zeros(n), 1.0 + b * df["price.a"]])
    df["choice"] = np.array(["none", "a"])[(V + rng.gumbel(size=V.shape)).argmax(1)]
    spec = detect_spec(df, persona="persona")
    m = LatentClassLogit(2, n_init=1, random_state=0).fit(choice_data(df, spec))
    env = PricingEnv(m, df, controlled=["a"], price_range={"a": (1.0, 3.0)})
    lo, hi = np.array([1.0]), np.array([3.0])
    r_lo, r_hi = expected_reward(env, lo), expected_reward(env, hi)
    assert r_lo["thrifty"] > r_hi["thrifty"] and r_hi["loyal"] > r_lo["loyal"]
