"""The shared model checks (synthcust.synthesizers.checks) over every synthesizer in the registry,
the relational model and the oversamplers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.checks import (
    ModelCase,
    assert_same,
    check_model,
    check_random_state,
    mixed_frame,
    parametrize_with_checks,
    same,
    synthesizer_case,
)
from synthcust.synthesizers.multi_table.relational import RelationalSynthesizer
from synthcust.synthesizers.oversampling.oversample import (
    GenerativeOversampler,
    HybridOversampler,
    SMOTEOversampler,
    load_oversampler,
)

#: small, quick settings: these checks are about the contract, not quality
FAST: dict[str, dict] = {
    "autoregressive": {"epochs": 3, "hidden": 16, "patience": 2, "max_bins": 16, "batch_size": 300},
    "ctgan": {"epochs": 1, "batch_size": 150},
    "tvae": {"epochs": 3, "batch_size": 150},
    "dp_marginal": {"epsilon": 50.0, "secure_noise": False},
}

FRAME = mixed_frame(300)


def _params(name: str) -> dict:
    params = dict(FAST.get(name, {}))
    if name == "dp_marginal":  # public bounds, declared as a user would
        params["bounds"] = {
            "age": (18, 79),
            "spend": (0.0, float(FRAME.spend.max())),
            "income": (0.0, float(FRAME.income.max())),
            "signup": (FRAME.signup.min(), FRAME.signup.max()),
        }
    return params


def _relational_tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    cust = pd.DataFrame({"cid": range(1, 121), "tier": rng.choice(["a", "b"], 120)})
    n = rng.integers(1, 4, 120)
    days = pd.to_timedelta(rng.integers(0, 300, n.sum()), "D")
    orders = pd.DataFrame(
        {
            "oid": range(n.sum()),
            "cid": np.repeat(cust.cid, n),
            "when": pd.Timestamp("2024-01-01") + days,
            "amount": rng.gamma(2, 20, n.sum()).round(2),
        }
    )
    return {"customers": cust, "orders": orders}


def _imbalanced() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(4)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 70, 240),
            "spend": rng.gamma(2, 30, 240).round(2),
            "plan": rng.choice(["basic", "pro"], 240),
        }
    )
    y = pd.Series(np.where(rng.random(240) < 0.2, "yes", "no"), name="churn")
    return X, y


X_IMB, Y_IMB = _imbalanced()


def _oversampler_case(name: str, make) -> ModelCase:
    return ModelCase(
        make=make,
        fit_args=(X_IMB, Y_IMB),
        kind="oversampler",
        load=load_oversampler,
        name=name,
        fit_method="fit_resample",
    )


CASES = [synthesizer_case(name, FRAME, **_params(name)) for name in sorted(REGISTRY)] + [
    ModelCase(
        make=lambda random_state: RelationalSynthesizer(random_state=random_state),
        fit_args=(_relational_tables(),),
        use=lambda m: m.sample(15),
        kind="relational",
        load=RelationalSynthesizer.load,
        name="relational",
    ),
    _oversampler_case("smote", lambda rs: SMOTEOversampler(random_state=rs)),
    _oversampler_case("smotenc", lambda rs: SMOTEOversampler("smotenc", random_state=rs)),
    _oversampler_case("generative", lambda rs: GenerativeOversampler(random_state=rs)),
    _oversampler_case(
        "hybrid", lambda rs: HybridOversampler(categorical=["plan"], random_state=rs)
    ),
]


def test_every_synthesizer_is_checked():
    names = {c.name for c in CASES}
    assert set(REGISTRY) <= names
    assert {"relational", "smote", "generative", "hybrid"} <= names


@parametrize_with_checks(CASES)
def test_model_contract(case, check):
    check(case)


# -- the checks themselves catch broken models -------------------------------------------------
class _Sloppy:
    """Breaks the contract: learns in __init__, fit returns None, a fixed seed."""

    def __init__(self, random_state=None):
        self.random_state = random_state
        self.mean_ = 0.0

    def fit(self, x):
        self.mean_ = float(np.mean(x))

    def predict(self):
        return np.random.default_rng(0).normal(self.mean_, 1, 5)


def test_checks_catch_a_sloppy_model():
    case = ModelCase(make=_Sloppy, fit_args=(np.arange(5.0),), use=lambda m: m.predict())
    with pytest.raises(AssertionError, match="__init__ sets fitted attribute"):
        check_model(case)
    with pytest.raises(AssertionError, match="give the same output"):
        check_random_state(case)


def test_same_and_assert_same():
    a = {"t": pd.DataFrame({"x": [1.0, np.nan]}), "n": [1, 2]}
    b = {"t": pd.DataFrame({"x": [1.0, np.nan]}), "n": [1, 2]}
    assert same(a, b)
    b["n"] = [1, 3]
    assert not same(a, b)
    with pytest.raises(AssertionError, match=r"\[1\]"):
        assert_same(a, b)
