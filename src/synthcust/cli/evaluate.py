"""``synthcust evaluate`` and ``synthcust split``: measure synthetic data against real data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthcust.cli.common import console, load_json, progress, read_input
from synthcust.reporting import scorecard_table, write_report
from synthcust.schema import Schema
from synthcust.workflows.defaults import GATE, HOLDOUT, SEED, SPLIT_SEED
from synthcust.workflows.evaluate import evaluate as evaluate_workflow
from synthcust.workflows.evaluate import gate_thresholds
from synthcust.workflows.split import write_split

app = typer.Typer()


@app.command()
def evaluate(
    real: Annotated[str, typer.Argument(metavar="REAL", help="The real data the model learned.")],
    synthetic: Annotated[str, typer.Argument(metavar="SYNTHETIC", help="The synthetic data.")],
    holdout: Annotated[
        str | None,
        typer.Option(
            help="Real rows the model never saw (needed for detection, utility and privacy)."
        ),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target column for utility (TSTR).")] = None,
    sensitive: Annotated[
        str | None, typer.Option(help="Sensitive column for attribute-inference risk.")
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML report (JSON beside it).")] = Path(
        "report.html"
    ),
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            help="More columns to leave out (id and key columns of the schema always are). "
            "Repeatable."
        ),
    ] = None,
    max_exact_copies: Annotated[
        float, typer.Option(help="Gate: max exact-copy rate.")
    ] = GATE.max_exact_copy_rate,
    max_dcr_share: Annotated[float, typer.Option(help="Gate: max DCR share.")] = GATE.max_dcr_share,
    max_mia_auc: Annotated[
        float, typer.Option(help="Gate: max membership-inference AUC.")
    ] = GATE.max_mia_auc,
    seed: Annotated[int, typer.Option(help="Seed for subsampling and models.")] = SEED,
    schema: Annotated[
        Path | None,
        typer.Option(
            help="Schema JSON of REAL: its id/key columns are left out, its constraints and "
            "bounds drive the validity checks (inferred from REAL when omitted)."
        ),
    ] = None,
) -> None:
    """Measure SYNTHETIC against REAL (and --holdout): validity, fidelity, detection, utility,
    privacy."""
    with progress() as prog:
        t = prog.add_task("reading", total=6)
        r = read_input(real)
        s = read_input(synthetic)
        h = read_input(holdout) if holdout else None
        prog.update(t, advance=1)

        def step(msg: str) -> None:
            prog.update(t, advance=1, description=f"evaluating {msg}")

        sch = Schema.from_dict(load_json(schema, "schema")) if schema is not None else None
        report = evaluate_workflow(
            r, s, h, schema=sch, target=target, sensitive=sensitive, random_state=seed,
            thresholds=gate_thresholds(max_exact_copies, max_dcr_share, max_mia_auc),
            exclude=list(exclude or []), progress=step,
        )  # fmt: skip
        html_path, json_path = write_report(report, out)
        prog.update(t, completed=6, description="done")
    console.print(scorecard_table(report))
    for sk in report.all_skipped():
        console.print(f"[yellow]skipped[/yellow]: {sk}")
    console.print(f"report written to {html_path} (figures in {json_path})")


@app.command()
def split(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/Parquet/DuckDB file or SQLAlchemy URL.")
    ],
    out_train: Annotated[
        Path, typer.Option("--out-train", help="Where the real train rows go (fit on these).")
    ],
    out_holdout: Annotated[
        Path,
        typer.Option("--out-holdout", help="Where the real holdout rows go (evaluate on these)."),
    ],
    target: Annotated[
        str | None, typer.Option(help="Stratify on this column (class shares kept).")
    ] = None,
    holdout: Annotated[float, typer.Option(help="Share of rows held out.")] = HOLDOUT,
    seed: Annotated[int, typer.Option(help="Seed of the shuffle.")] = SPLIT_SEED,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Split DATA into real train and real holdout rows, as every synthcust figure does.

    80/20 by default, stratified by --target, seed 0: fit on the train file, and give the
    holdout file to `evaluate --holdout` (rows the model never saw). Both files are written
    atomically.
    """
    df = read_input(data, table, query)
    res = write_split(
        df, out_train, out_holdout, target=target, holdout=holdout, random_state=seed
    )
    strat = f", stratified by {target}" if target else ""
    console.print(
        f"{res.train_rows:,} train rows written to {res.train_path}, {res.holdout_rows:,} "
        f"holdout rows to {res.holdout_path} (holdout share {holdout:g}{strat}, seed {seed})"
    )
