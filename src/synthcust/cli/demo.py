"""``synthcust demo``: the whole first path on a simulated retailer's customers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import console, progress
from synthcust.evaluation.fidelity import KL_THRESHOLD
from synthcust.reporting import scorecard_table
from synthcust.workflows.demo import DemoResult, run_demo

app = typer.Typer()


@app.command()
def demo(
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("demo_out"),
    rows: Annotated[int, typer.Option(help="Real demo customers to simulate.")] = 5000,
    n: Annotated[
        int | None, typer.Option("-n", help="Synthetic customers (default: rows).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo world and the model.")] = 0,
) -> None:
    """Simulate a retailer's customers, remove their PII, learn them and write synthetic ones."""
    with progress() as prog:
        t = prog.add_task("simulating the demo world", total=None)
        res = run_demo(
            out, rows=rows, n=n, seed=seed, progress=lambda m: prog.update(t, description=m)
        )
    _print(res)


def _print(res: DemoResult) -> None:
    model, summary = res.model, res.summary
    if model.pii is not None and model.pii.findings:
        console.print(model.pii.render_table())
    t = Table(title="Fidelity: per-column KL(real train || synthetic)")
    t.add_column("column")
    t.add_column("KL synthetic", justify="right")
    t.add_column("KL real holdout", justify="right")
    t.add_column("< 0.12")
    for c in res.kl_synthetic.index:
        v = res.kl_synthetic[c]
        t.add_row(
            str(c),
            f"{v:.4f}",
            f"{res.kl_holdout[c]:.4f}",
            "[green]yes[/green]" if v < KL_THRESHOLD else "[red]no[/red]",
        )
    console.print(t)
    console.print(
        f"max KL {summary['kl_max']:.4f}; planted PII values in outputs: "
        f"{summary['planted_pii_values_found_in_outputs']}"
    )
    console.print(
        f"wrote {summary['rows_synthetic']:,} synthetic customers and the report to {res.out}/"
    )
    console.print(scorecard_table(res.report))
    console.print(f"full report: {res.out / 'report.html'}")
