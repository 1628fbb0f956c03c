"""``synthcust choice fit``, ``synthcust scenario`` and ``synthcust validate-behaviour``.

A Typer sub-app with no logic of its own: options go to :mod:`synthcust.workflows.behaviour`,
results are printed; errors are SynthcustErrors printed as one line by ``synthcust.cli.main``.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import console
from synthcust.workflows import behaviour as wf
from synthcust.workflows.experiments import write_outputs

#: this module's commands, mounted at top level by :mod:`synthcust.cli.root`
app = typer.Typer(no_args_is_help=True)
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


def _load(data, choice, alternatives, price_prefix, attr_prefix, covariate, household, order,
          persona, base, drop_bad_prices, table, query, unavailable=False):  # fmt: skip
    return wf.load_choice_data(
        data, choice=choice, alternatives=alternatives, price_prefix=price_prefix,
        attr_prefixes=attr_prefix, covariates=tuple(covariate or ()), household=household,
        order=order, persona=persona, base=base, drop_bad_prices=drop_bad_prices,
        missing_price_unavailable=unavailable, table=table, query=query,
    )[1]  # fmt: skip


def _written(written) -> None:
    paths = dict(written)
    if "result" in paths:
        console.print(f"result written to {paths['result']}")
    if "report" in paths:
        console.print(f"report written to {paths['report']} (figures in {paths['figures']})")


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
    out: Annotated[Path, typer.Option("-o", "--out", help="Model file to write.")],
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
    d = _load(data, choice, alternatives, price_prefix, attr_prefix, covariate, household,
              order, persona, base, drop_bad_prices, table, query,
              missing_price_unavailable)  # fmt: skip
    fit = wf.fit_choice(d, classes=classes, cov_type=cov_type, random_state=seed,
                        source=str(data), out=out, report=report, n_draws=draws)  # fmt: skip
    model = fit.model
    if fit.class_selection is not None:
        console.print(fit.class_selection.round(2).to_string(index=False))
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
    _written(fit.written)


@app.command("scenario")
def scenario_cmd(
    model_file: Annotated[Path, typer.Argument(metavar="MODEL", help="Choice model file.")],
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
    sc = wf.build_scenario(name, price=price or [], on=on or [], set_=set_ or [],
                           remove=remove or [], add=add or [])  # fmt: skip
    res = wf.run_scenario(model_file, population, sc, persona=persona, n_draws=draws,
                          random_state=seed, table=table, query=query)  # fmt: skip
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
    _written(write_outputs(res, out, report))


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
    d = _load(data, choice, alternatives, price_prefix, attr_prefix, covariate, household,
              order, persona, base, drop_bad_prices, table, query,
              missing_price_unavailable)  # fmt: skip
    cmd = "synthcust " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None
    v = wf.validate(d, holdout=holdout, classes=classes, bootstrap=bootstrap, random_state=seed,
                    command=cmd)  # fmt: skip
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
    _written(write_outputs(v, None, report))
