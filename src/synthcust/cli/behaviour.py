"""``synthcust choice fit``, ``synthcust scenario`` and ``synthcust validate-behaviour``.

Thin layer over :mod:`synthcust.simulation.choice`, :mod:`synthcust.simulation.scenarios` and
:mod:`synthcust.simulation.validation`: options become a :class:`ChoiceSpec`, errors are
SynthcustErrors printed as one line by ``synthcust.cli.main``.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import app, console, read_input
from synthcust.exceptions import SynthcustError

choice_app = typer.Typer(
    help="Discrete-choice models (multinomial and latent-class logit) on purchase data.",
    no_args_is_help=True,
)
app.add_typer(choice_app, name="choice")

DataArg = Annotated[
    str, typer.Argument(metavar="DATA", help="Purchase data: CSV/Parquet/DuckDB or SQL URL.")
]
ChoiceOpt = Annotated[str, typer.Option("--choice", help="Column holding the chosen alternative.")]
AltsOpt = Annotated[
    str | None,
    typer.Option(
        "--alternatives",
        help="Alternatives, comma-separated (default: the suffixes of the price columns).",
    ),
]
PriceOpt = Annotated[
    str,
    typer.Option(
        "--price-prefix",
        help="Price columns are PREFIX+alternative (price.heinz32, SalePriceCH: 'SalePrice').",
    ),
]
AttrOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--attr-prefix",
        help="Another attribute's column prefix (repeatable: --attr-prefix disp. --attr-prefix "
        "feat.). Default: every prefix with the price prefix's separator that exists for all "
        "alternatives; 'none' for price only.",
    ),
]
CovOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--covariate",
        help="Occasion/household column with one coefficient per alternative (repeatable).",
    ),
]
HhOpt = Annotated[
    str,
    typer.Option(help="Household (panel) id column; 'auto' = 'id' if present, 'none' = none."),
]
OrderOpt = Annotated[
    str | None, typer.Option(help="Column ordering the occasions (default: data order).")
]
PersonaOpt = Annotated[
    str | None,
    typer.Option(help="Household persona column: latent-class membership depends on it."),
]
BaseOpt = Annotated[str | None, typer.Option(help="Alternative whose constant is 0.")]
BadOpt = Annotated[
    bool,
    typer.Option(
        "--drop-bad-prices", help="Drop occasions with a price <= 0 or missing (else an error)."
    ),
]
UnavailOpt = Annotated[
    bool,
    typer.Option(
        "--missing-price-unavailable",
        help="A missing price means the alternative was not on offer at that occasion.",
    ),
]
TableOpt = Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")]
QueryOpt = Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")]


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [a.strip() for a in text.split(",") if a.strip()]


def _load(data, choice, alternatives, price_prefix, attr_prefix, covariate, household, order,
          persona, base, drop_bad_prices, table, query, unavailable=False):  # fmt: skip
    from synthcust.simulation.choice import choice_data, detect_spec

    df = read_input(data, table, query)
    attrs = attr_prefix
    if attrs and [a.lower() for a in attrs] == ["none"]:
        attrs = []
    spec = detect_spec(
        df,
        choice,
        alternatives=_split(alternatives),
        price_prefix=price_prefix or None,
        attr_prefixes=attrs,
        covariates=tuple(covariate or ()),
        household=None if household.lower() == "none" else household,
        order=order,
        persona=persona,
        base=base,
    )
    if unavailable and drop_bad_prices:
        raise SynthcustError("choose one of --drop-bad-prices and --missing-price-unavailable")
    mode = "unavailable" if unavailable else "drop" if drop_bad_prices else "error"
    return df, choice_data(df, spec, bad_prices=mode)


def _classes(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise SynthcustError(f"--classes must be an integer or 'auto', not {text!r}") from None


def _check_outputs(out: Path | None, report: Path | None) -> None:
    twin = None if report is None else Path(report).with_suffix(".json").resolve()
    if out is not None and twin == Path(out).resolve():
        raise SynthcustError(
            f"--report {report} writes its figures to {twin}, which is the -o file; give the "
            "report another name"
        )


def _summary_table(model) -> Table:
    t = Table(title=f"{model.kind} fitted on {model.n_obs_} occasions ({model.n_units_} units)")
    for c in ("parameter", "estimate", "std err", "z", "95% CI"):
        t.add_column(c, justify="left" if c == "parameter" else "right")
    for name, r in model.summary().iterrows():
        t.add_row(str(name), f"{r.estimate:.4f}", f"{r.std_err:.4f}", f"{r.z:.2f}",
                  f"[{r.ci_low:.4f}, {r.ci_high:.4f}]")  # fmt: skip
    return t


@choice_app.command("fit")
def choice_fit(
    data: DataArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Model JSON to write.")],
    choice: ChoiceOpt = "choice",
    alternatives: AltsOpt = None,
    price_prefix: PriceOpt = "price.",
    attr_prefix: AttrOpt = None,
    covariate: CovOpt = None,
    household: HhOpt = "auto",
    order: OrderOpt = None,
    persona: PersonaOpt = None,
    base: BaseOpt = None,
    classes: Annotated[
        str,
        typer.Option(
            help="1 = multinomial logit; K >= 2 = latent-class logit (EM); 'auto' = K in 2-6 "
            "with the lowest BIC."
        ),
    ] = "1",
    cov_type: Annotated[
        str, typer.Option(help="MNL covariance: 'hessian' or 'cluster' (by household).")
    ] = "hessian",
    draws: Annotated[int, typer.Option(help="Parameter draws for elasticity intervals.")] = 200,
    report: Annotated[
        Path | None, typer.Option(help="HTML report (estimates, elasticities, WTP); JSON beside.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the EM starts and the draws.")] = 0,
    drop_bad_prices: BadOpt = False,
    missing_price_unavailable: UnavailOpt = False,
    table: TableOpt = None,
    query: QueryOpt = None,
) -> None:
    """Fit a multinomial logit (or, with --classes K, a latent-class logit) on wide purchase
    data: one row per occasion, price/attribute columns per alternative, a choice column."""
    from synthcust.simulation.choice import (
        LatentClassLogit,
        MultinomialLogit,
        select_n_classes,
    )
    from synthcust.simulation.validation import model_report, write_page

    _check_outputs(out, report)
    _, d = _load(data, choice, alternatives, price_prefix, attr_prefix, covariate, household,
                 order, persona, base, drop_bad_prices, table, query,
                 missing_price_unavailable)  # fmt: skip
    k = _classes(classes)
    if k == "auto":
        model, ktab = select_n_classes(d, random_state=seed)
        console.print(ktab.round(2).to_string(index=False))
    elif k < 1:
        raise SynthcustError("--classes must be >= 1 or 'auto'")
    elif k == 1:
        model = MultinomialLogit(cov_type=cov_type).fit(d)
    else:
        model = LatentClassLogit(k, random_state=seed).fit(d)
    import datetime as _dt

    model.provenance = {
        "data": str(data), "occasions": int(d.n), "command": "synthcust choice fit",
        "fitted_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    model.save(out)
    console.print(_summary_table(model))
    if model.n_classes > 1:
        console.print(model.class_table().round(3).to_string())
    if model.spec_.price is not None:
        el = model.elasticities(d, n_draws=min(draws, 50), random_state=seed)
        console.print("price elasticities (rows: demand of, columns: price of):")
        console.print(el["estimate"].round(3).to_string())
    for n in model.notes_:
        console.print(f"[yellow]note[/yellow]: {n}")
    console.print(f"model written to {out} (log-likelihood {model.loglik_:.2f}, BIC "
                  f"{model.bic_:.1f})")  # fmt: skip
    if report is not None:
        body, payload = model_report(model, d, n_draws=draws, random_state=seed)
        h, j = write_page(report, "Choice model", body, payload)
        console.print(f"report written to {h} (figures in {j})")


@app.command("scenario")
def scenario_cmd(
    model_file: Annotated[Path, typer.Argument(metavar="MODEL", help="Model JSON (choice fit).")],
    population: Annotated[
        str,
        typer.Argument(
            metavar="POPULATION",
            help="Customers to simulate (one row per choice occasion, the model's wide columns; "
            "missing attribute columns are set to the training means).",
        ),
    ],
    price: Annotated[
        list[str] | None,
        typer.Option(help="ALT=CHANGE: +10%, -5%, +0.3 (absolute), =2.99 (repeatable)."),
    ] = None,
    on: Annotated[
        list[str] | None,
        typer.Option(help="ATTR:ALT switched on (=1), e.g. disp:heinz32 (repeatable)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="ATTR:ALT=CHANGE, e.g. feat:hunts32=0 (repeatable)."),
    ] = None,
    remove: Annotated[list[str] | None, typer.Option(help="Alternative to remove.")] = None,
    add: Annotated[
        list[str] | None,
        typer.Option(help="New alternative 'NAME:price=2.5,disp=0,like=ALT' (repeatable)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Scenario name.")] = "scenario",
    persona: Annotated[
        str | None, typer.Option(help="Population column to report by (persona).")
    ] = None,
    draws: Annotated[int, typer.Option(help="Parameter draws for the intervals.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the draws and the switching shocks.")] = 0,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Result JSON.")] = None,
    report: Annotated[Path | None, typer.Option(help="HTML report (JSON beside).")] = None,
    table: TableOpt = None,
    query: QueryOpt = None,
) -> None:
    """What-if over a population: price changes, display/feature on, removed or new
    alternatives; demand shares, revenue and switching, per persona and overall."""
    from synthcust.simulation.choice import load_model
    from synthcust.simulation.scenarios import (
        Scenario,
        parse_new_alternative,
        simulate,
    )
    from synthcust.simulation.validation import write_page

    _check_outputs(out, report)
    model = load_model(model_file)
    pop = read_input(population, table, query)
    attrs: dict[str, dict[str, str]] = {}
    for item in on or []:
        if ":" not in item:
            raise SynthcustError(f"cannot read --on {item!r}; write ATTR:ALT (disp:heinz32)")
        at, alt = (x.strip() for x in item.split(":", 1))
        attrs.setdefault(at, {})[alt] = "=1"
    for item in set_ or []:
        if ":" not in item or "=" not in item:
            raise SynthcustError(f"cannot read --set {item!r}; write ATTR:ALT=CHANGE")
        at, rest = item.split(":", 1)
        alt, ch = rest.split("=", 1)
        ch = ch.strip()
        attrs.setdefault(at.strip(), {})[alt.strip()] = ch if ch[:1] in "+-*=" else "=" + ch
    prices: dict[str, str | float] = {}
    for item in price or []:
        if "=" not in item:
            raise SynthcustError(f"cannot read --price {item!r}; write ALT=+10%")
        alt, ch = item.split("=", 1)
        prices[alt.strip()] = ch.strip()
    sc = Scenario(name=name, price=prices, attributes=attrs, remove=list(remove or []),
                  add=dict(parse_new_alternative(a) for a in add or []))  # fmt: skip
    res = simulate(model, pop, sc, persona=persona, n_draws=draws, random_state=seed)
    t = Table(title=f"{name}: {sc.describe()} ({res.n_customers:,} customers)")
    for c in ("group", "alternative", "base %", "scenario %", "change (pts)", "95% interval"):
        t.add_column(c, justify="left" if c in ("group", "alternative") else "right")
    for r in res.shares.itertuples():
        ci = f"[{r.change_low:+.2f}, {r.change_high:+.2f}]"
        t.add_row(r.group, r.alternative, f"{100 * r.base:.2f}", f"{100 * r.scenario:.2f}",
                  f"{r.change_pts:+.2f}", ci)  # fmt: skip
    console.print(t)
    for r in res.revenue.itertuples():
        console.print(f"revenue per occasion ({r.group}): {r.base:.4g} -> {r.scenario:.4g} "
                      f"({r.change_pct:+.2f}% [{r.change_pct_low:+.2f}, "
                      f"{r.change_pct_high:+.2f}])")  # fmt: skip
    for n in res.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    if out is not None:
        from synthcust.io.atomic import atomic_write_text

        atomic_write_text(out, json.dumps(res.to_dict(), indent=1, default=str) + "\n")
        console.print(f"result written to {out}")
    if report is not None:
        h, j = write_page(report, f"Scenario: {name}", res.to_html(), res.to_dict())
        console.print(f"report written to {h} (figures in {j})")


@app.command("validate-behaviour")
def validate_behaviour_cmd(
    data: DataArg,
    choice: ChoiceOpt = "choice",
    alternatives: AltsOpt = None,
    price_prefix: PriceOpt = "price.",
    attr_prefix: AttrOpt = None,
    covariate: CovOpt = None,
    household: HhOpt = "auto",
    order: OrderOpt = None,
    persona: PersonaOpt = None,
    base: BaseOpt = None,
    classes: Annotated[
        str, typer.Option(help="Latent classes: K (< 2: none) or 'auto' (2-6 by BIC on train).")
    ] = "3",
    holdout: Annotated[
        float, typer.Option(help="Share of each household's last occasions held out.")
    ] = 0.2,
    bootstrap: Annotated[int, typer.Option(help="Household bootstrap replicates.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the EM starts and the bootstrap.")] = 0,
    report: Annotated[
        Path | None, typer.Option(help="HTML report with share plots (JSON beside).")
    ] = None,
    drop_bad_prices: BadOpt = False,
    missing_price_unavailable: UnavailOpt = False,
    table: TableOpt = None,
    query: QueryOpt = None,
) -> None:
    """Hold out each household's last occasions, fit on the rest, predict the held-out ones
    under their actual prices/promotions: shares, hit rate and log-likelihood vs a plain MNL
    (constants + price), and whether the latent-class (persona-aware) model beats the pooled
    one."""
    from synthcust.simulation.validation import validate_behaviour, write_behaviour_report

    _, d = _load(data, choice, alternatives, price_prefix, attr_prefix, covariate, household,
                 order, persona, base, drop_bad_prices, table, query,
                 missing_price_unavailable)  # fmt: skip
    cmd = "synthcust " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None
    v = validate_behaviour(d, holdout=holdout, n_classes=_classes(classes), bootstrap=bootstrap,
                           random_state=seed, command=cmd)  # fmt: skip
    sp = v.split
    t = Table(title=f"Behaviour validation of {data}: {sp['train_occasions']} training / "
              f"{sp['test_occasions']} held-out occasions")  # fmt: skip
    for c in ("model", "max |share diff| (pts)", "hit rate", "loglik / occasion", "params"):
        t.add_column(c, justify="left" if c == "model" else "right")
    for s in v.scores:
        t.add_row(s.name, f"{s.max_abs_share_diff_pts:.2f}", f"{s.hit_rate:.3f}",
                  f"{s.loglik_per_occasion:.4f}", str(s.n_params))  # fmt: skip
    console.print(t)
    for line in v.verdict:
        console.print(f"- {line}", highlight=False)
    for n in v.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    if report is not None:
        h, j = write_behaviour_report(v, report)
        console.print(f"report written to {h} (figures in {j})")
