"""Price scenarios for the service: a choice model learned on the real training rows, run over
synthetic customers of a fitted model; the answer is shares per alternative (aggregates only).

Every step is a workflow the CLI runs too (:mod:`synthcust.workflows.behaviour`: ``choice fit``
and ``scenario``; :mod:`synthcust.workflows.experiments`: ``abtest``); the service picks the
interactive settings (100 parameter draws) and shapes the answer.
"""

from __future__ import annotations

from typing import Any

from synthcust.exceptions import DataError
from synthcust.workflows import behaviour, experiments
from synthcust.workflows.sample import sample

#: parameter draws of the intervals: fewer than the CLI's 200, the page redraws on every slider
N_DRAWS = 100


def _choice_model(st: Any, model_id: int, choice: str, price_prefix: str) -> Any:
    """A multinomial logit on the real training rows of the model's dataset (cached)."""
    rec = st.model_record(model_id)
    ds, seed = rec.params["service_dataset"], int(rec.params["seed"])
    target = rec.params.get("target") or None

    def make() -> Any:
        train, _ = st.model_split(model_id)
        _, data = behaviour.load_choice_data(train, choice=choice, price_prefix=price_prefix,
                                             attr_prefixes=["none"], household="none",
                                             drop_bad_prices=True)  # fmt: skip
        return behaviour.fit_choice(data, classes=1, source="the model's real train rows").model

    return st.choice_models.get((ds, seed, target, choice, price_prefix), make)


def run_scenario(st: Any, model_id: int, body: Any) -> dict[str, Any]:
    """Fit (once, cached) a multinomial logit on the model's real training rows and simulate
    ``body.price`` (percent change per alternative) over ``body.n`` synthetic customers.

    Parameters
    ----------
    st : ServiceState
        The service state (models, splits, caches).
    model_id : int
        The fitted synthesizer whose synthetic customers are simulated.
    body : ScenarioIn
        Choice column, price prefix, price changes in percent, ``n`` and ``seed``.

    Returns
    -------
    dict
        Shares per alternative (base, scenario, interval), notes and the method.
    """
    choice = _choice_model(st, model_id, body.choice, body.price_prefix)
    alts = [str(a) for a in choice.spec_.alternatives]
    unknown = sorted(set(body.price) - set(alts))
    if unknown:
        raise DataError(f"unknown alternatives {unknown}; this choice model knows {alts}")
    bad = {a: v for a, v in body.price.items() if not -90.0 <= v <= 300.0}
    if bad:
        raise DataError(f"price changes must be between -90% and +300%, got {bad}")
    pop = sample(st.model(model_id), body.n, random_state=body.seed)
    changes = [f"{a}={v:+g}%" for a, v in body.price.items() if v != 0]
    scenario = behaviour.build_scenario("web", price=changes)
    res = behaviour.run_scenario(choice, pop, scenario, n_draws=N_DRAWS, random_state=body.seed)
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
        f"choice probabilities over synthetic customers; intervals from {N_DRAWS} parameter "
        "draws",
    }


def run_abtest_route(st: Any, model_id: int, body: Any) -> dict[str, Any]:
    """A virtual A/B(/n) test (:func:`synthcust.workflows.experiments.abtest`) over synthetic
    customers: conversion per variant with intervals, lift, power and extrapolation flags.

    Parameters
    ----------
    st : ServiceState
        The service state.
    model_id : int
        The fitted synthesizer whose synthetic customers take the test.
    body : ABTestIn
        Variants (the first is the control), focal alternative, ``n`` and ``seed``.

    Returns
    -------
    dict
        :meth:`ABTestResult.to_dict` without server-side provenance, plus the method.
    """
    choice = _choice_model(st, model_id, body.choice, body.price_prefix)
    train, _ = st.model_split(model_id)
    pop = sample(st.model(model_id), body.n, random_state=body.seed)
    res = experiments.abtest(choice, pop, list(body.variants), focal=body.focal, training=train,
                             n_draws=N_DRAWS, random_state=body.seed)  # fmt: skip
    d = res.to_dict()
    d.pop("rests_on", None)  # server-side details (model provenance), not needed by clients
    d["model_id"] = model_id
    d["method"] = ("multinomial logit fitted on the real training rows, simulated over "
                   f"{body.n:,} synthetic customers; intervals from {N_DRAWS} parameter draws "
                   "with a Poisson bootstrap of the customers")  # fmt: skip
    return d
