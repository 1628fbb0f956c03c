"""``synthcust ledger`` and ``synthcust privacy-curve``: the privacy budget and what DP costs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import console, load_json, parse_bounds, progress, read_input
from synthcust.exceptions import SynthcustError
from synthcust.schema import Schema
from synthcust.store import Workspace, WorkspaceError
from synthcust.studies.privacy_curve import write_curve_report
from synthcust.synthesizers.fitted import load_model
from synthcust.workflows.defaults import CURVE_EPSILONS, CURVE_REFERENCE, DP_DELTA, SEED
from synthcust.workflows.privacy import (
    CurveRun,
    DatasetLedger,
    check_model_charge,
    dataset_ledger,
    ledger_overview,
    resolve_fingerprint,
)
from synthcust.workflows.privacy import privacy_curve as curve_workflow

app = typer.Typer()


@app.command()
def ledger(
    dataset: Annotated[
        str | None,
        typer.Argument(
            metavar="[DATASET]",
            help="A data file or SQLAlchemy URL (fingerprinted), or a fingerprint prefix. "
            "Omit it to list every dataset with its spend.",
        ),
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(
            help="Workspace file, folder or postgresql:// URL "
            "(default: $SYNTHCUST_HOME/workspace.db, else ~/.synthcust/workspace.db)."
        ),
    ] = None,
    set_budget: Annotated[
        float | None,
        typer.Option(help="Set DATASET's total epsilon budget (the default is 10)."),
    ] = None,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Check the hash chain of every charge and budget change: exit 1 when a row "
            "was deleted, edited or slipped in. Prints the head to keep elsewhere.",
        ),
    ] = False,
    expect_head: Annotated[
        str | None,
        typer.Option(help="With --verify: a head printed earlier (COUNT:HASH) that must remain."),
    ] = None,
    check_model: Annotated[
        Path | None,
        typer.Option(help="A DP model file: check that its charge is in this ledger, committed, "
                          "with the same epsilon and delta (exit 1 if not)."),
    ] = None,
) -> None:
    """Show the privacy ledger: every DP fit charged to DATASET and its budget left."""
    if check_model is not None:
        _check_model(workspace, check_model)
        return
    if verify or expect_head is not None:
        _verify(workspace, expect_head)
        return
    if set_budget is not None and dataset is None:
        raise SynthcustError("--set-budget needs a DATASET (a data file or fingerprint prefix)")
    try:
        ws = Workspace(workspace, create=set_budget is not None)
    except WorkspaceError as e:
        if "there is no workspace" not in str(e):
            raise
        console.print(f"{e}; nothing has been charged")
        return
    with ws:
        if dataset is None:
            _print_overview(ws.location, ledger_overview(ws))
            return
        fp, name = resolve_fingerprint(ws, dataset, lambda p: read_input(p, table, query))
        if set_budget is not None:
            ws.set_budget(fp, set_budget)
            console.print(f"budget of {fp[:12]} set to epsilon {set_budget:g}")
        _print_dataset(ws.location, dataset_ledger(ws, fp, name))


def _check_model(workspace: str | None, path: Path) -> None:
    model = load_model(path)
    with Workspace(workspace, create=False) as ws:
        res = check_model_charge(model, ws)
    if res.ok:
        console.print(f"{path}: charge {res.charge_id} is in the ledger, committed, with the "
                      "model's epsilon and delta; the ledger verifies")  # fmt: skip
        return
    console.print(f"[red]{path}: the model's spend does NOT check out[/red]:")
    for f in res.findings:
        console.print(f"  - {f}")
    raise typer.Exit(1)


def _verify(workspace: str | None, expect_head: str | None) -> None:
    with Workspace(workspace, create=False) as ws:
        rep = ws.verify_ledger(expect_head)
        where = ws.location
    if rep.ok:
        console.print(
            f"ledger of {where} verified: {rep.rows['ledger']} charge(s), {rep.rows['budget']} "
            f"budget change(s), no row deleted or edited. Head (keep it elsewhere and pass it "
            f"back with --expect-head): {rep.heads['ledger']}"
        )
        return
    console.print(f"[red]ledger of {where} does NOT verify[/red]:")
    for p in rep.problems:
        console.print(f"  - {p}")
    raise typer.Exit(1)


def _print_dataset(location: str, d: DatasetLedger) -> None:
    name, fp, b = d.name, d.fingerprint, d.budget
    t = Table(title=f"Privacy ledger of {name or 'dataset'} (fingerprint {fp[:12]})")
    for c in ("#", "when (UTC)", "mechanism", "synthesizer", "epsilon", "delta", "status", "model"):
        t.add_column(
            c,
            justify="right" if c in ("#", "epsilon", "delta", "model") else "left",
            no_wrap=c in ("when (UTC)", "status"),
        )
    colour = {"committed": "green", "pending": "yellow", "failed": "red"}
    for e in d.entries:
        t.add_row(
            str(e.id),
            e.created[:16].replace("T", " "),
            e.mechanism,
            e.synthesizer or "",
            f"{e.epsilon:g}",
            f"{e.delta:g}",
            f"[{colour[e.status]}]{e.status}[/{colour[e.status]}]",
            "" if e.model_id is None else str(e.model_id),
        )
    if d.entries:
        console.print(t)
    else:
        console.print(f"no DP fits recorded for {name or fp[:12]} in {location}")
    left = "[red]0 (exhausted)[/red]" if b.remaining <= 0 else f"{b.remaining:g}"
    console.print(
        f"budget: total epsilon {b.total:g}{' (default)' if b.is_default else ''}, spent "
        f"{b.spent:g} (delta {b.delta_spent:g}) over {b.charges} charge(s), remaining {left}"
    )
    if any(e.status != "committed" for e in d.entries):
        console.print(
            "[yellow]note[/yellow]: failed and pending (interrupted) charges count too: "
            "privacy spent on private data cannot be un-spent"
        )
    console.print("sampling more rows from a DP model is post-processing and costs no budget")


def _print_overview(location: str, datasets: list[DatasetLedger]) -> None:
    if not datasets:
        console.print(f"no datasets in workspace {location} yet")
        return
    t = Table(title=f"Datasets in {location}")
    for c in ("fingerprint", "name", "rows", "DP fits", "epsilon spent", "total", "remaining"):
        t.add_column(c, justify="left" if c in ("fingerprint", "name") else "right")
    for d in datasets:
        b = d.budget
        t.add_row(
            d.fingerprint[:12],
            d.name or "",
            "" if d.n_rows is None else f"{d.n_rows:,}",
            str(b.charges),
            f"{b.spent:g}",
            f"{b.total:g}",
            "[red]0[/red]" if b.remaining <= 0 else f"{b.remaining:g}",
        )
    console.print(t)


@app.command("privacy-curve")
def privacy_curve(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/Parquet/DuckDB file or SQLAlchemy URL.")
    ],
    target: Annotated[str, typer.Option(help="Target column (TSTR AUC; split stratified on it).")],
    epsilons: Annotated[
        str,
        typer.Option(
            help="Epsilons to fit at, comma-separated. Each is a separate DP fit charged to "
            "DATA's budget: the curve spends their SUM (0.5,1,2,4,8 costs 15.5)."
        ),
    ] = CURVE_EPSILONS,
    delta: Annotated[float, typer.Option(help="Delta of every fit (< 1/rows).")] = DP_DELTA,
    bound: Annotated[
        list[str] | None,
        typer.Option(
            help="Public bounds for a numeric/date column, COL=LOW..HIGH (repeatable; or "
            "declare lower/upper in the schema)."
        ),
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(help="Workspace (ledger) file, folder or postgresql:// URL."),
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML report (JSON beside it).")] = Path(
        "curve.html"
    ),
    reference: Annotated[
        str, typer.Option(help="The non-private model to compare with ('none' for none).")
    ] = CURVE_REFERENCE,
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Schema JSON (from `synthcust schema -o`).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, the fits and the models.")] = SEED,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Fit the DP model at each epsilon and plot fidelity (1 - TVD accuracy) and utility (TSTR
    AUC) against epsilon, with the non-private model as reference.

    DATA is split 80/20 (stratified on --target); the DP fits learn the 80% and are measured on
    the 20%. Every fit is charged to the ledger of DATA as read (its fingerprint, the dataset the
    private rows belong to), before it reads them; the whole curve is refused up front when the
    sum of the epsilons exceeds the budget left. The report itself is not differentially private.
    """
    with progress() as prog:
        t = prog.add_task("reading", total=3)
        df = read_input(data, table, query)
        s = Schema.from_dict(load_json(schema_file, "schema")) if schema_file else None

        def step(msg: str) -> None:
            prog.update(t, advance=1, description=f"fitting {msg}")

        run = curve_workflow(
            df, target=target, epsilons=epsilons, delta=delta,
            bounds=parse_bounds(bound) if bound else None, workspace=workspace,
            dataset_name=data, reference=None if reference.lower() == "none" else reference,
            schema=s, random_state=seed, progress=step,
        )  # fmt: skip
        prog.update(t, description="writing the report")
        html_path, json_path = write_curve_report(run.result, out)
        prog.update(t, description="done")
    _print_curve(run, data, target)
    console.print(f"report written to {html_path} (figures in {json_path})")


def _print_curve(run: CurveRun, data: str, target: str) -> None:
    result = run.result
    tab = Table(title=f"Privacy curve of {data} (target {target})")
    for c in ("model", "epsilon", "1 - TVD accuracy", "TSTR AUC"):
        tab.add_column(c, justify="left" if c == "model" else "right")
    rows = [*result.points, *([result.reference] if result.reference else [])]
    for p in rows:
        tab.add_row(
            p.label,
            "" if p.epsilon is None else f"{p.epsilon:g}",
            f"{p.accuracy:.3f}",
            "" if p.tstr_auc is None else f"{p.tstr_auc:.3f}",
        )
    tab.add_row(
        "real holdout vs real train",
        "",
        "" if result.real_accuracy is None else f"{result.real_accuracy:.3f}",
        "" if result.real_tstr_auc is None else f"{result.real_tstr_auc:.3f} (real)",
    )
    console.print(tab)
    for n in result.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    console.print(
        f"differential privacy: {len(result.points)} fits, epsilon {result.total_epsilon:g} "
        f"(the sum: basic composition) and delta {result.total_delta:g} charged to {data} "
        f"({run.fingerprint[:12]}); budget left {run.budget.remaining:g} of "
        f"{run.budget.total:g}. The report's figures are computed from the real rows and are "
        "not private."
    )
