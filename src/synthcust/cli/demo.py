"""``synthcust demo``: the whole first path on a simulated retailer's customers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthcust.cli.common import console, progress
from synthcust.workflows.demo import run_demo

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
    run_demo(out, rows=rows, n=n, seed=seed, console=console, progress=progress())
