"""``synthcust journeys`` and ``synthcust attribution``: simulated journeys with known truth,
a generative journey model, and attribution models scored against the truth.

A Typer sub-app with no logic of its own: options go to :mod:`synthcust.workflows.journeys`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import console, err_console, progress
from synthcust.simulation.journeys import SCENARIOS, get_scenario
from synthcust.workflows import journeys as wf

#: this module's commands, mounted at top level by :mod:`synthcust.cli.root`
app = typer.Typer(no_args_is_help=True)
journeys_app = typer.Typer(
    help="Simulated customer journeys with known channel effects; a generative journey model.",
    no_args_is_help=True,
)
attribution_app = typer.Typer(
    help="Multi-touch attribution models, and a lab scoring them against known truth.",
    no_args_is_help=True,
)
app.add_typer(journeys_app, name="journeys")
app.add_typer(attribution_app, name="attribution")


_SHORT = {
    "first_touch": "first",
    "last_touch": "last",
    "linear": "lin",
    "time_decay": "decay",
    "position": "U",
    "shapley": "shap",
    "logistic": "logit",
}


def _short(model: str) -> str:
    return _SHORT.get(model, model.replace("markov_", "mk"))


def _legend(models) -> str:
    return ", ".join(f"{_short(m)}={m}" for m in models if _short(m) != m)


@journeys_app.command("scenarios")
def scenarios_cmd(
    show: Annotated[
        str | None, typer.Option(help="Print this scenario's full parameters as JSON.")
    ] = None,
) -> None:
    """List the named simulation scenarios (or show one's parameters)."""
    if show:
        console.print_json(json.dumps(get_scenario(show).to_dict()))
        return
    t = Table(title="Journey scenarios")
    t.add_column("name")
    t.add_column("channels")
    t.add_column("what it tests")
    for name in SCENARIOS:
        sc = get_scenario(name)
        t.add_row(name, ", ".join(sc.channel_names), sc.description)
    console.print(t)


@journeys_app.command("simulate")
def simulate_cmd(
    out: Annotated[Path, typer.Option("-o", "--out", help="Touch log (or path table) to write.")],
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            "-s",
            help="Scenario name (see `journeys scenarios`) or a scenario JSON file "
            "(edit the output of `journeys scenarios --show NAME`).",
        ),
    ] = "independent",
    users: Annotated[int, typer.Option("--users", "-n", help="Users to simulate.")] = 100_000,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    paths: Annotated[
        bool, typer.Option("--paths", help="Write an aggregated path table instead of a log.")
    ] = False,
    truth: Annotated[
        Path | None,
        typer.Option(help="Ground-truth JSON to write (default: OUT with .truth.json)."),
    ] = None,
) -> None:
    """Simulate journeys of a scenario and write them with their ground truth."""
    run = wf.simulate_journeys(scenario, users, out, random_state=seed, paths=paths,
                               truth=truth)  # fmt: skip
    sim, df, p, tp = run.simulation, run.frame, run.path, run.truth_path
    sc = sim.scenario
    t = Table(title=f"{sc.name}: ground truth ({users:,} users)")
    for c in ("channel", "removal effect", "Shapley", "true share"):
        t.add_column(c)
    tr = sim.truth
    for ch in tr.channels:
        t.add_row(ch, f"{tr.removal[ch]:.0f}", f"{tr.shapley[ch]:.1f}", f"{tr.shares[ch]:.3f}")
    console.print(t)
    console.print(
        f"{int(tr.total):,} conversions, {int(tr.baseline):,} of them without any ads; "
        f"{len(df):,} rows -> {p}; truth -> {tp}"
    )


@journeys_app.command("fit")
def fit_cmd(
    data: Annotated[str, typer.Argument(help="Path table or touch log (CSV/Parquet/...).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Model file to write.")],
    order: Annotated[
        int | None, typer.Option(help="Markov order (default: chosen by held-out likelihood).")
    ] = None,
    max_order: Annotated[int, typer.Option(help="Largest order tried.")] = 6,
    seed: Annotated[int | None, typer.Option(help="Seed of the held-out split.")] = 0,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
) -> None:
    """Fit a variable-order Markov journey model on real paths; save it as a model file."""
    m = wf.fit_journey_model(data, out, order=order, max_order=max_order, random_state=seed,
                             table=table)  # fmt: skip
    p = out
    if m.heldout_loglik_:
        ll = ", ".join(f"{k}: {v:.3f}" for k, v in m.heldout_loglik_.items())
        console.print(f"held-out log-likelihood per journey by order: {ll}")
    console.print(f"order {m.order_}, {len(m.channels_)} channels -> {p}")


@journeys_app.command("generate")
def generate_cmd(
    model: Annotated[Path, typer.Argument(help="Model file from `journeys fit`.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Path table to write.")],
    n: Annotated[int, typer.Option("-n", "--journeys", help="Journeys to generate.")] = 10_000,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    compare: Annotated[
        str | None, typer.Option(help="Real path table: print fidelity against it.")
    ] = None,
) -> None:
    """Generate synthetic journeys (a path table) from a fitted journey model."""
    syn, p, f = wf.generate_journeys(model, n, out, random_state=seed, compare=compare)
    console.print(f"{n:,} journeys in {len(syn):,} distinct paths -> {p}")
    if f is not None:
        console.print(
            f"path-length TV {f['length_tv']:.4f}, transition TV {f['transition_tv']:.4f}, "
            f"conversion rate by length MAE {f['conv_rate_mae']:.4f}, "
            f"novel paths {f['novel_path_share']:.1%}"
        )


@attribution_app.command("run")
def run_cmd(
    data: Annotated[str, typer.Argument(help="Touch log or path table (auto-detected).")],
    models: Annotated[
        str | None, typer.Option(help="Comma-separated models (default: all).")
    ] = None,
    channels: Annotated[
        str | None, typer.Option(help="Declared channels (comma-separated); others are errors.")
    ] = None,
    sort: Annotated[
        bool, typer.Option("--sort", help="Sort a touch log by time within each user.")
    ] = False,
    baseline_rate: Annotated[
        float, typer.Option(help="Conversion rate of journeys with no channel (Shapley).")
    ] = 0.0,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write credits (CSV/Parquet/JSON).")
    ] = None,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Run attribution models on a touch log or a path table; print credit shares."""
    res = wf.run_attribution(data, models=models, channels=channels, sort=sort,
                             baseline_rate=baseline_rate, out=out, table=table,
                             query=query)  # fmt: skip
    for note in res.notes:
        err_console.print(f"[yellow]note[/yellow]: {note}")
    sh = res.shares
    t = Table(title="Credit shares", caption=_legend(sh.columns), box=None)
    t.add_column("channel", no_wrap=True)
    for m in sh.columns:
        t.add_column(_short(m), justify="right", no_wrap=True)
    for ch_, row in sh.iterrows():
        t.add_row(str(ch_), *[f"{v:.3f}" for v in row])
    console.print(t)
    if out:
        console.print(f"credits (conversions per channel and model) -> {out}")


@attribution_app.command("evaluate")
def evaluate_cmd(
    scenarios: Annotated[
        str | None,
        typer.Option(help="Comma-separated scenario names or JSON files (default: all named)."),
    ] = None,
    seeds: Annotated[int, typer.Option(help="Seeds per scenario.")] = 5,
    users: Annotated[int, typer.Option("--users", "-n", help="Users per simulation.")] = 50_000,
    models: Annotated[
        str | None, typer.Option(help="Comma-separated models (default: all).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write an HTML report here (and its JSON beside it).")
    ] = None,
) -> None:
    """Score every attribution model against the simulator's truth (the attribution lab)."""
    names = wf.split_names(scenarios)
    n_runs = (len(names) if names else len(SCENARIOS)) * seeds
    with progress() as prog:
        task = prog.add_task("simulating and scoring", total=n_runs)
        lab = wf.attribution_lab(
            names, seeds=seeds, users=users, models=models, report=report,
            progress=lambda done, total: prog.update(task, completed=done, total=total),
        )  # fmt: skip
    tab = lab.table()
    console.print(
        f"Attribution vs truth: {seeds} seeds x {users:,} users, mean ± sd over seeds; MAE of "
        "credit shares, Kendall tau, budget regret, conversions lost per 10k users"
    )
    for sc, sub in tab.groupby("scenario", sort=False):
        t = Table(title=str(sc), box=None, title_justify="left")
        for head in ("model", "MAE", "tau", "regret", "lost/10k"):
            t.add_column(head, no_wrap=True)
        for r in sub.drop(columns="scenario").itertuples(index=False):
            t.add_row(*[str(v) for v in r])
        console.print(t)
    if report:
        p = Path(report)
        console.print(f"report -> {p} (and {p.with_suffix('.json').name})")
