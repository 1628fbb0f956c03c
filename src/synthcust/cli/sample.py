"""``synthcust sample``: draw synthetic customers from a model (gated, or on Dask)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from synthcust.cli.common import console, progress, read_input
from synthcust.exceptions import SynthcustError
from synthcust.synthesizers.fitted import load_model
from synthcust.workflows.defaults import GATE
from synthcust.workflows.evaluate import gate_thresholds
from synthcust.workflows.sample import parse_conditions, sample_on_dask, write
from synthcust.workflows.sample import sample as sample_workflow

app = typer.Typer()


@app.command()
def sample(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="Model file from `fit`.")],
    n: Annotated[int, typer.Option("-n", help="Number of synthetic customers.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .csv/.csv.gz/.parquet/.duckdb")],
    condition: Annotated[
        list[str] | None,
        typer.Option(help="col=value, col=a|b, col=low..high, col>=x (repeatable)."),
    ] = None,
    segment: Annotated[str | None, typer.Option(help="A segment defined at fit time.")] = None,
    where: Annotated[
        str | None, typer.Option(help='An ad-hoc segment rule, e.g. "age < 30".')
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed = same output).")] = None,
    table: Annotated[str, typer.Option(help="Table name for .duckdb output.")] = "synthetic",
    gate: Annotated[
        bool, typer.Option(help="Refuse to write output that fails the privacy gate.")
    ] = False,
    real: Annotated[
        str | None, typer.Option(help="With --gate: the real data the model learned.")
    ] = None,
    holdout: Annotated[
        str | None, typer.Option(help="With --gate: real rows the model never saw.")
    ] = None,
    max_exact_copies: Annotated[
        float, typer.Option(help="Gate: max exact-copy rate.")
    ] = GATE.max_exact_copy_rate,
    max_dcr_share: Annotated[float, typer.Option(help="Gate: max DCR share.")] = GATE.max_dcr_share,
    max_mia_auc: Annotated[
        float, typer.Option(help="Gate: max membership-inference AUC.")
    ] = GATE.max_mia_auc,
    dask: Annotated[
        str | None,
        typer.Option(
            help="Sample in partitions on Dask: 'local' (a local cluster), 'sync', or a "
            "scheduler address (tcp://host:8786). OUT becomes a folder of Parquet files."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="With --dask local: worker processes.")] = 2,
    partition_rows: Annotated[
        int, typer.Option(help="With --dask: rows per partition (and per task).")
    ] = 1_000_000,
    raw_csv: Annotated[
        bool,
        typer.Option(
            "--raw-csv",
            help="Write CSV cells exactly as drawn; by default a cell starting with = + - @ "
            "(a spreadsheet formula) gets a ' in front.",
        ),
    ] = False,
) -> None:
    """Draw N synthetic customers from MODEL and write them to OUT (optionally gated)."""
    if n <= 0:
        raise SynthcustError(f"-n must be a positive number of rows, got {n}")
    if gate and (real is None or holdout is None):
        raise SynthcustError(
            "--gate needs --real (the data the model learned) and --holdout (real rows it never "
            "saw) to measure privacy risk"
        )
    conds = parse_conditions(condition)
    if dask is not None:
        refused = {"--gate": gate, "--segment": segment, "--where": where}
        _sample_on_dask(model_path, n, out, conds, seed, dask, workers, partition_rows, refused)
        return
    with progress() as prog:
        t = prog.add_task("loading model", total=3)
        model = load_model(model_path)
        prog.update(t, advance=1)
        pair = (read_input(real), read_input(holdout)) if gate and real and holdout else None

        def step(message: str) -> None:
            prog.update(t, description=message)

        df = sample_workflow(
            model, n, conditions=conds, segment=segment, where=where, random_state=seed,
            gate=pair, thresholds=gate_thresholds(max_exact_copies, max_dcr_share, max_mia_auc),
            progress=step,
        )  # fmt: skip
        if pair is not None:
            console.print("[green]privacy gate passed[/green]")
        prog.update(t, advance=1, description="writing")
        write(df, out, table=table, raw_csv=raw_csv)
        prog.update(t, advance=1, description="done")
    console.print(f"{len(df):,} synthetic customers written to {out}")


def _sample_on_dask(
    model_path: Path,
    n: int,
    out: Path,
    conds: dict,
    seed: int | None,
    scheduler: str,
    workers: int,
    partition_rows: int,
    refused: dict[str, Any],
) -> None:
    """``sample --dask``: partitioned sampling (see :mod:`synthcust.scale`)."""
    for flag, value in refused.items():
        if value:
            raise SynthcustError(
                f"{flag} is not supported with --dask; sample without --dask, or use --condition"
            )
    with progress() as prog:
        t = prog.add_task(f"sampling {n:,} rows on Dask ({scheduler})", total=None)

        def advance(done: int, total: int) -> None:
            prog.update(t, completed=done, total=total)

        res = sample_on_dask(
            model_path, n, out, conditions=conds, random_state=seed, scheduler=scheduler,
            workers=workers, partition_rows=partition_rows, progress=advance,
        )  # fmt: skip
    console.print(
        f"{res.rows:,} synthetic customers written to {res.path} ({res.partitions} Parquet "
        f"partitions, {res.rows_per_second:,.0f} rows/s, worker peak "
        f"{res.worker_peak_rss_mb:,.0f} MB)"
    )
