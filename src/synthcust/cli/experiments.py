"""``synthcust abtest``, ``synthcust funnel`` and ``synthcust diversity``: experiments on
synthetic customers, each printing a summary and optionally writing a report (self-contained
HTML with inline SVG, JSON beside it).

A Typer sub-app with no logic of its own: options go to :mod:`synthcust.workflows.experiments`;
errors are SynthcustErrors printed as one line by ``synthcust.cli.main``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import console
from synthcust.workflows import experiments as wf

#: this module's commands, mounted at top level by :mod:`synthcust.cli.root`
app = typer.Typer(no_args_is_help=True)

TableOpt = Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL) of every input.")]
OutOpt = Annotated[Path | None, typer.Option("-o", "--out", help="Result JSON.")]
ReportOpt = Annotated[
    Path | None, typer.Option(help="Self-contained HTML report (JSON beside it).")
]


def _outputs(result, out: Path | None, report: Path | None) -> None:
    paths = dict(wf.write_outputs(result, out, report))
    if "result" in paths:
        console.print(f"result written to {paths['result']}")
    if "report" in paths:
        console.print(f"report written to {paths['report']} (figures in {paths['figures']})")


def _assumptions(rests_on: dict) -> None:
    for a in rests_on.get("assumptions", []):
        console.print(f"[yellow]rests on an unvalidated assumption[/yellow]: {a}")


@app.command("abtest")
def abtest_cmd(
    model_file: Annotated[Path, typer.Argument(metavar="MODEL", help="Choice model file.")],
    population: Annotated[
        str, typer.Argument(metavar="POPULATION", help="Customer occasions (wide layout).")
    ],
    variant: Annotated[
        list[str],
        typer.Option(
            "--variant",
            help="NAME:CHANGES, e.g. 'A:' (control) or 'B:price.heinz32=-10%,disp.hunts32=1' "
            "(repeatable; the first is the control).",
        ),
    ],
    focal: Annotated[
        str | None, typer.Option(help="Alternative whose choice is the conversion.")
    ] = None,
    outside: Annotated[
        str | None,
        typer.Option(help="No-purchase alternative (conversion = any purchase); default: one "
                     "named none/no_purchase."),
    ] = None,
    persona: Annotated[str | None, typer.Option(help="Population column to report by.")] = None,
    training: Annotated[
        str | None,
        typer.Option(help="The model's training data, for the ranges of the extrapolation "
                     "check (when the model file does not record them)."),
    ] = None,
    draws: Annotated[int, typer.Option(help="Parameter draws for the intervals.")] = 200,
    alpha: Annotated[float, typer.Option(help="Significance level of the real test.")] = 0.05,
    power: Annotated[float, typer.Option(help="Power of the real test.")] = 0.8,
    tolerance: Annotated[
        float,
        typer.Option(help="Share of customers outside the training range that makes a variant "
                     "an extrapolation."),
    ] = 0.05,
    drop_bad_prices: Annotated[
        bool,
        typer.Option("--drop-bad-prices", help="Drop population rows with a price <= 0 or "
                     "missing (else an error)."),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the draws.")] = 0,
    out: OutOpt = None,
    report: ReportOpt = None,
    table: TableOpt = None,
) -> None:
    """Virtual A/B(/n) test: conversion per variant and persona with intervals, lift against
    the control, the sample size a real test would need, and an extrapolation flag."""
    res = wf.abtest(
        model_file, population, list(variant), focal=focal, outside=outside, persona=persona,
        training=training, tolerance=tolerance, n_draws=draws, alpha=alpha, power=power,
        drop_bad_prices=drop_bad_prices, random_state=seed, table=table,
    )  # fmt: skip
    flagged = set(res.flagged)
    t = Table(title=f"A/B test: {res.outcome} ({res.n_customers:,} customers)")
    for c in ("variant", "group", "conversion %", f"{round(100 * res.level)}% interval", ""):
        t.add_column(c, justify="left" if c in ("variant", "group", "") else "right")
    for r in res.conversion.itertuples():
        t.add_row(r.variant, r.group, f"{100 * r.conversion:.2f}",
                  f"[{100 * r.low:.2f}, {100 * r.high:.2f}]",
                  "EXTRAPOLATION" if r.variant in flagged else "")
    console.print(t)
    t = Table(title=f"Lift and customers per arm for a real test (alpha={alpha}, power={power})")
    for c in ("variant", "group", "diff (pts)", "interval", "P(better)", "n per arm",
              "n (conservative)"):
        t.add_column(c, justify="left" if c in ("variant", "group") else "right")
    for r in res.lift.itertuples():
        t.add_row(r.variant, r.group, f"{r.diff_pts:+.2f}",
                  f"[{r.diff_low:+.2f}, {r.diff_high:+.2f}]", f"{r.p_better:.2f}",
                  f"{r.n_per_arm:,}" if r.n_per_arm != float("inf") else "inf",
                  "-" if r.n_conservative != r.n_conservative else f"{int(r.n_conservative):,}",
                  )
    console.print(t)
    if flagged:
        console.print(
            f"[red]extrapolation[/red]: {', '.join(sorted(flagged))} move an attribute outside "
            "the model's training range: a guess, not a confident number"
        )
    _assumptions(res.rests_on)
    for n in res.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    _outputs(res, out, report)


@app.command("funnel")
def funnel_cmd(
    steps: Annotated[
        str,
        typer.Option(help="Ordered steps 'landing,product,cart,checkout' or edges "
                     "'landing>product,product>cart'."),
    ],
    events: Annotated[
        str | None,
        typer.Argument(metavar="[EVENTS]", help="One row per session x step (or per event)."),
    ] = None,
    session: Annotated[str, typer.Option(help="Session id column.")] = "session",
    step: Annotated[str, typer.Option(help="Step (event name) column.")] = "step",
    persona: Annotated[str | None, typer.Option(help="Persona column (per session).")] = None,
    timestamp: Annotated[
        str | None, typer.Option(help="Event time column (out-of-order steps are counted).")
    ] = None,
    change: Annotated[
        list[str] | None,
        typer.Option(help="STEP=CHANGE on the step-through probability into STEP: "
                     "cart=odds*1.2, cart=+0.05, cart=-10%, cart==0.8 (repeatable)."),
    ] = None,
    prior: Annotated[str, typer.Option(help="eb (empirical Bayes), uniform or jeffreys.")] = "eb",
    ignore_unknown: Annotated[
        bool, typer.Option("--ignore-unknown", help="Drop events that are not funnel steps.")
    ] = False,
    given: Annotated[
        Path | None,
        typer.Option(help="JSON of given step-through probabilities instead of EVENTS: "
                     '{"product": 0.6, ...} or {"persona": {"product": 0.6, ...}, ...}.'),
    ] = None,
    draws: Annotated[int, typer.Option(help="Posterior draws for the intervals.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the draws.")] = 0,
    out: OutOpt = None,
    report: ReportOpt = None,
    table: TableOpt = None,
) -> None:
    """Fit a funnel's step-through probabilities per persona (Beta-Binomial posteriors), show
    where each persona is lost, and what a change to a step would do."""
    res = wf.funnel(steps, events, given=given, changes=change, session=session, step=step,
                    persona=persona, timestamp=timestamp, prior=prior,
                    ignore_unknown=ignore_unknown, n_draws=draws, random_state=seed,
                    table=table)  # fmt: skip
    fm, changes = res.model, res.changes
    t = Table(title=f"Funnel {' -> '.join(fm.steps)}: completion per group")
    cols = ["group", "completion %", "interval", "most lost at"]
    if changes:
        cols += ["after %", "change (pts)", "interval "]
    for c in cols:
        t.add_column(c, justify="left" if c in ("group", "most lost at") else "right")
    for r in res.completion.itertuples():
        row = [r.group, f"{100 * r.completion:.2f}", f"[{100 * r.low:.2f}, {100 * r.high:.2f}]",
               str(r.most_lost_at)]
        if changes:
            row += [f"{100 * r.completion_after:.2f}", f"{r.change_pts:+.2f}",
                    f"[{r.change_low:+.2f}, {r.change_high:+.2f}]"]
        t.add_row(*row)
    console.print(t)
    _assumptions(res.rests_on)
    for n in res.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    _outputs(res, out, report)


@app.command("diversity")
def diversity_cmd(
    real: Annotated[str, typer.Argument(metavar="REAL", help="Real customers.")],
    synth: Annotated[str, typer.Argument(metavar="SYNTH", help="Synthetic customers.")],
    by: Annotated[str, typer.Option(help="Subgroup columns, comma-separated.")],
    max_order: Annotated[
        int, typer.Option(help="Largest combination of columns (1-3).")
    ] = 2,
    min_n: Annotated[
        int, typer.Option(help="Fewer real rows than this: too small to speak for.")
    ] = 30,
    max_rel_halfwidth: Annotated[
        float,
        typer.Option(help="Relative half-width of the real share's 95% interval above which a "
                     "group is too small to speak for."),
    ] = 0.5,
    panel_model: Annotated[
        Path | None,
        typer.Option(help="Fitted synthcust model: also draw a panel over-sampling the --by "
                     "cells by conditional sampling, with design weights."),
    ] = None,
    panel_size: Annotated[int, typer.Option(help="Panel rows before lifting small cells.")] = 1000,
    panel_min: Annotated[
        int | None, typer.Option(help="Rows per cell at least (default: --min-n).")
    ] = None,
    panel_out: Annotated[
        Path | None, typer.Option(help="Where to write the panel (CSV/Parquet; column weight).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the panel draws.")] = 0,
    out: OutOpt = None,
    report: ReportOpt = None,
    table: TableOpt = None,
) -> None:
    """Coverage of demographic subgroups (and combinations) in real vs synthetic data, with
    groups too small to speak for, missing, invented, under- or over-represented; optionally
    a synthetic panel over-sampling small groups, weighted back to the real population."""
    res = wf.diversity(real, synth, by, max_order=max_order, min_n=min_n,
                       max_rel_halfwidth=max_rel_halfwidth, panel_model=panel_model,
                       panel_size=panel_size, panel_min=panel_min, panel_out=panel_out,
                       random_state=seed, table=table)  # fmt: skip
    r = res.result
    s = r.summary()
    t = Table(title=f"Subgroups of {', '.join(r.by)}: {r.n_real:,} real, {r.n_synth:,} synthetic")
    for c in s.columns:
        t.add_column(str(c), justify="right")
    for row in s.itertuples(index=False):
        t.add_row(*(str(v) for v in row))
    console.print(t)
    flagged = r.table[r.table["flags"] != ""]
    if len(flagged):
        t = Table(title=f"Flagged groups (first 20 of {len(flagged)})")
        for c in ("group", "real n", "synthetic n", "ratio", "flags"):
            t.add_column(c, justify="right" if c in ("real n", "synthetic n", "ratio") else "left")
        for row in flagged.head(20).itertuples():
            t.add_row(row.group, str(row.real_n), str(row.synthetic_n),
                      "-" if row.ratio != row.ratio else f"{row.ratio:.2f}", row.flags)
        console.print(t)
    for n in r.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    pnl = res.panel
    if pnl is not None:
        console.print(f"panel of {len(pnl.frame):,} rows written to {panel_out} (design weights "
                      f"in column {pnl.weight!r}; Kish effective n {pnl.effective_n:,.0f})")
    _outputs(res, out, report)
