"""Price scenarios for the service: a choice model learned on the real training rows, run over
synthetic customers of a fitted model; the answer is shares per alternative (aggregates only).
"""

from __future__ import annotations

from typing import Any

from synthcust.exceptions import DataError


def _choice_model(st: Any, model_id: int, choice: str, price_prefix: str) -> Any:
    """A multinomial logit on the real training rows of the model's dataset (cached)."""
    from synthcust.simulation.choice import MultinomialLogit, choice_data, detect_spec

    rec = st.model_record(model_id)
    ds, seed = rec.params["service_dataset"], int(rec.params["seed"])

    def make() -> Any:
        train, _ = st.split(ds, seed)
        spec = detect_spec(train, choice, price_prefix=price_prefix, attr_prefixes=[],
                           household=None)  # fmt: skip
        return MultinomialLogit().fit(choice_data(train, spec, bad_prices="drop"))

    return st.choice_models.get((ds, seed, choice, price_prefix), make)


def run_scenario(st: Any, model_id: int, body: Any) -> dict[str, Any]:
    """Fit (once, cached) a multinomial logit on the model's real training rows and simulate
    ``body.price`` (percent change per alternative) over ``body.n`` synthetic customers."""
    from synthcust.simulation.scenarios import Scenario, simulate

    choice = _choice_model(st, model_id, body.choice, body.price_prefix)
    alts = [str(a) for a in choice.spec_.alternatives]
    unknown = sorted(set(body.price) - set(alts))
    if unknown:
        raise DataError(f"unknown alternatives {unknown}; this choice model knows {alts}")
    bad = {a: v for a, v in body.price.items() if not -90.0 <= v <= 300.0}
    if bad:
        raise DataError(f"price changes must be between -90% and +300%, got {bad}")
    pop = st.model(model_id).sample(body.n, random_state=body.seed)
    changes = {a: f"{v:+g}%" for a, v in body.price.items() if v != 0}
    res = simulate(choice, pop, Scenario(name="web", price=changes), n_draws=100,
                   random_state=body.seed)  # fmt: skip
    shares = res.shares[res.shares["group"] == res.shares["group"].iloc[0]]
    return {
        "model_id": model_id,
        "alternatives": alts,
        "description": res.scenario.describe(),
        "n_customers": res.n_customers,
        "level": res.level,
        "shares": [
            {"alternative": str(r.alternative), "base": float(r.base),
             "scenario": float(r.scenario), "low": float(r.low), "high": float(r.high)}
            for r in shares.itertuples()
        ],  # one row per alternative (a handful), not per customer
        "notes": list(res.notes),
        "method": "multinomial logit fitted on the real training rows; shares are averaged "
        "choice probabilities over synthetic customers; intervals from 100 parameter draws",
    }


def run_abtest_route(st: Any, model_id: int, body: Any) -> dict[str, Any]:
    """A virtual A/B(/n) test (:func:`synthcust.simulation.abtest.run_abtest`) over synthetic
    customers: conversion per variant with intervals, lift, power and extrapolation flags."""
    from synthcust.simulation.abtest import run_abtest

    choice = _choice_model(st, model_id, body.choice, body.price_prefix)
    rec = st.model_record(model_id)
    train, _ = st.split(rec.params["service_dataset"], int(rec.params["seed"]))
    pop = st.model(model_id).sample(body.n, random_state=body.seed)
    res = run_abtest(choice, pop, list(body.variants), focal=body.focal, training=train,
                     n_draws=100, random_state=body.seed)  # fmt: skip
    d = res.to_dict()
    d.pop("rests_on", None)  # server-side details (model provenance), not needed by clients
    d["model_id"] = model_id
    d["method"] = ("multinomial logit fitted on the real training rows, simulated over "
                   f"{body.n:,} synthetic customers; intervals from 100 parameter draws with a "
                   "Poisson bootstrap of the customers")  # fmt: skip
    return d
