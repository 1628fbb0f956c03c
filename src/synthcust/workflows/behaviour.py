"""Choice models, what-if scenarios and behaviour validation, as every face runs them.

What ``synthcust choice fit``, ``synthcust scenario`` and ``synthcust validate-behaviour`` run:
read wide purchase data into :class:`~synthcust.simulation.choice.ChoiceData` (the options of
:func:`load_choice_data` are the CLI's), fit a multinomial or latent-class logit and save it
with its provenance, simulate a scenario over a population, validate the models on each
household's held-out occasions. Results are :class:`synthcust.reporting.Report` objects
(write them with :func:`synthcust.workflows.experiments.write_outputs`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from synthcust.exceptions import DataError
from synthcust.simulation.choice import (
    ChoiceData,
    ChoiceModel,
    LatentClassLogit,
    MultinomialLogit,
    choice_data,
    detect_spec,
    load_model,
    select_n_classes,
)
from synthcust.simulation.choice_report import ChoiceModelReport
from synthcust.simulation.scenarios import (
    Scenario,
    ScenarioResult,
    parse_new_alternative,
    simulate,
)
from synthcust.simulation.validation import BehaviourValidation, validate_behaviour
from synthcust.workflows.experiments import Source, read_source

__all__ = [
    "ChoiceFit",
    "build_scenario",
    "fit_choice",
    "load_choice_data",
    "parse_classes",
    "run_scenario",
    "validate",
]


def load_choice_data(
    source: Source,
    *,
    choice: str = "choice",
    alternatives: str | Sequence[str] | None = None,
    price_prefix: str = "price.",
    attr_prefixes: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    household: str = "auto",
    order: str | None = None,
    persona: str | None = None,
    base: str | None = None,
    drop_bad_prices: bool = False,
    missing_price_unavailable: bool = False,
    table: str | None = None,
    query: str | None = None,
) -> tuple[pd.DataFrame, ChoiceData]:
    """Read wide purchase data and turn it into choice data.

    Parameters
    ----------
    source
        The purchase data (one row per occasion).
    alternatives
        Comma-separated or a list (default: the suffixes of the price columns).
    attr_prefixes
        Other attributes' column prefixes (default: found beside the price prefix; ``["none"]``
        for price only).
    household
        Household id column; ``"auto"`` = ``id`` if present, ``"none"`` = none.
    drop_bad_prices, missing_price_unavailable
        Drop occasions with a price <= 0 or missing; or read a missing price as "not on offer"
        (at most one of the two).

    Returns
    -------
    tuple of DataFrame and ChoiceData
        The table read and its choice data.
    """
    df = read_source(source, table, query)
    attrs = list(attr_prefixes) if attr_prefixes is not None else None
    if attrs and [a.lower() for a in attrs] == ["none"]:
        attrs = []
    if isinstance(alternatives, str):
        alternatives = [a.strip() for a in alternatives.split(",") if a.strip()]
    spec = detect_spec(
        df,
        choice,
        alternatives=None if alternatives is None else list(alternatives),
        price_prefix=price_prefix or None,
        attr_prefixes=attrs,
        covariates=tuple(covariates),
        household=None if household.lower() == "none" else household,
        order=order,
        persona=persona,
        base=base,
    )
    if missing_price_unavailable and drop_bad_prices:
        raise DataError("choose one of --drop-bad-prices and --missing-price-unavailable")
    mode = "unavailable" if missing_price_unavailable else "drop" if drop_bad_prices else "error"
    return df, choice_data(df, spec, bad_prices=mode)


def parse_classes(text: str | int) -> int | str:
    """``"3"`` -> 3, ``"auto"`` -> ``"auto"``; anything else is refused.

    >>> parse_classes("auto"), parse_classes("2")
    ('auto', 2)
    """
    if isinstance(text, int):
        return text
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise DataError(f"--classes must be an integer or 'auto', not {text!r}") from None


@dataclass
class ChoiceFit:
    """A fitted choice model, how many classes were tried (``auto``), where it was written."""

    model: ChoiceModel
    data: ChoiceData
    class_selection: pd.DataFrame | None = None
    written: list[tuple[str, Path]] = field(default_factory=list)

    def report(self, n_draws: int = 200, random_state: int | None = 0) -> ChoiceModelReport:
        """The model's report (estimates, classes, elasticities, WTP)."""
        return ChoiceModelReport(self.model, self.data, n_draws, random_state)


def fit_choice(
    data: ChoiceData,
    *,
    classes: int | str = 1,
    cov_type: str = "hessian",
    random_state: int | None = 0,
    source: str | None = None,
    out: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    n_draws: int = 200,
) -> ChoiceFit:
    """Fit a multinomial logit (``classes=1``), a latent-class logit (K) or pick K by BIC.

    Parameters
    ----------
    data
        The occasions (see :func:`load_choice_data`).
    classes
        1, K >= 2 or ``"auto"`` (K in 2-6 with the lowest BIC).
    cov_type
        MNL covariance: ``"hessian"`` or ``"cluster"`` (by household).
    source
        Where the data came from (recorded in the model's provenance).
    out
        Model file to write (the one model file format, kind ``"choice"``).
    report
        HTML report to write (JSON beside it).
    n_draws
        Parameter draws of the report's elasticity intervals.

    Returns
    -------
    ChoiceFit
        The model (with ``provenance``), the class selection table, the files written.
    """
    k = parse_classes(classes)
    ktab = None
    if out is not None and report is not None:
        twin = Path(report).with_suffix(".json").resolve()
        if twin == Path(out).resolve():
            raise DataError(f"--report {report} writes its figures to {twin}, which is the -o "
                            "file; give the report another name")  # fmt: skip
    if k == "auto":
        model, ktab = select_n_classes(data, random_state=random_state)
    elif not isinstance(k, int) or k < 1:
        raise DataError("--classes must be >= 1 or 'auto'")
    elif k == 1:
        model = MultinomialLogit(cov_type=cov_type).fit(data)
    else:
        model = LatentClassLogit(k, random_state=random_state).fit(data)
    model.provenance = {
        "data": str(source) if source is not None else "(in memory)", "occasions": int(data.n),
        "command": "synthcust choice fit",
        "fitted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    fit = ChoiceFit(model, data, ktab)
    if out is not None:
        fit.written.append(("model", model.save(out)))
    if report is not None:
        p = fit.report(n_draws, random_state).write(report)
        fit.written += [("report", p), ("figures", p.with_suffix(".json"))]
    return fit


def build_scenario(
    name: str = "scenario",
    *,
    price: Sequence[str] = (),
    on: Sequence[str] = (),
    set_: Sequence[str] = (),
    remove: Sequence[str] = (),
    add: Sequence[str] = (),
) -> Scenario:
    """A :class:`~synthcust.simulation.scenarios.Scenario` from the CLI's items.

    Parameters
    ----------
    price
        ``ALT=CHANGE`` (``heinz32=+10%``).
    on
        ``ATTR:ALT``, switched on (``=1``).
    set_
        ``ATTR:ALT=CHANGE`` (``feat:hunts32=0``).
    remove
        Alternatives taken off the shelf.
    add
        New alternatives ``NAME:price=2.5,disp=0,like=ALT``.

    >>> build_scenario(price=["a=+10%"], on=["disp:b"]).describe()
    'price of a +10%; disp of b =1'
    """
    attrs: dict[str, dict[str, str | float]] = {}
    for item in on:
        if ":" not in item:
            raise DataError(f"cannot read --on {item!r}; write ATTR:ALT (disp:heinz32)")
        at, alt = (x.strip() for x in item.split(":", 1))
        attrs.setdefault(at, {})[alt] = "=1"
    for item in set_:
        if ":" not in item or "=" not in item:
            raise DataError(f"cannot read --set {item!r}; write ATTR:ALT=CHANGE")
        at, rest = item.split(":", 1)
        alt, ch = rest.split("=", 1)
        ch = ch.strip()
        attrs.setdefault(at.strip(), {})[alt.strip()] = ch if ch[:1] in "+-*=" else "=" + ch
    prices: dict[str, str | float] = {}
    for item in price:
        if "=" not in item:
            raise DataError(f"cannot read --price {item!r}; write ALT=+10%")
        alt, ch = item.split("=", 1)
        prices[alt.strip()] = ch.strip()
    return Scenario(name=name, price=prices, attributes=attrs, remove=list(remove),
                    add=dict(parse_new_alternative(a) for a in add))  # fmt: skip


def run_scenario(
    model: ChoiceModel | str | os.PathLike[str],
    population: Source,
    scenario: Scenario,
    *,
    persona: str | None = None,
    n_draws: int = 200,
    random_state: int | None = 0,
    table: str | None = None,
    query: str | None = None,
) -> ScenarioResult:
    """Simulate ``scenario`` over ``population`` with a fitted choice model (or its file).

    Returns
    -------
    ScenarioResult
        Shares, revenue and switching per persona and overall, a report.
    """
    m = model if isinstance(model, ChoiceModel) else load_model(model)
    pop = read_source(population, table, query)
    return simulate(m, pop, scenario, persona=persona, n_draws=n_draws,
                    random_state=random_state)  # fmt: skip


def validate(
    data: ChoiceData,
    *,
    holdout: float = 0.2,
    classes: int | str = 3,
    bootstrap: int = 1000,
    random_state: int | None = 0,
    command: str | None = None,
) -> BehaviourValidation:
    """Validate the choice models on each household's held-out last occasions.

    See :func:`synthcust.simulation.validation.validate_behaviour`; ``classes`` is K (< 2:
    none) or ``"auto"`` (2-6 by BIC on the training occasions).
    """
    return validate_behaviour(data, holdout=holdout, n_classes=parse_classes(classes),
                              bootstrap=bootstrap, random_state=random_state,
                              command=command)  # fmt: skip
