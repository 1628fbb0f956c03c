"""``synthcust relational ...`` (customers -> orders -> lines).

A Typer sub-app with no logic of its own: options go to :mod:`synthcust.workflows.relational`
(which runs :mod:`synthcust.synthesizers.multi_table.relational` and
:mod:`synthcust.evaluation.relational`); these commands translate arguments and print results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthcust.cli.common import console, parse_pairs, progress
from synthcust.workflows import relational as wf

#: this module's commands (mounted on the root app)
app = typer.Typer(no_args_is_help=True)
sub = typer.Typer(
    help="Related tables: customers -> orders (-> order lines), with referential integrity.",
    no_args_is_help=True,
)
app.add_typer(sub, name="relational")


@sub.command("fit")
def relational_fit(
    parent: Annotated[str, typer.Option(help="Parent table (customers): CSV/Parquet file.")],
    child: Annotated[str, typer.Option(help="Child table (orders).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Write the model file here.")],
    grandchild: Annotated[
        str | None, typer.Option(help="Grandchild table (order lines), child of --child.")
    ] = None,
    relationship: Annotated[
        list[str] | None,
        typer.Option(
            help="CHILD_TABLE.COLUMN=PARENT_TABLE.COLUMN (repeatable; table = file name without "
            "extension). Default: detected (same column name, child values subset of a unique "
            "parent column)."
        ),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option(
            help="TABLE=COLUMN: the datetime ordering a child table (default: first "
            "datetime column)."
        ),
    ] = None,
    drop_orphans: Annotated[
        bool, typer.Option(help="Leave out child rows whose parent key is unknown.")
    ] = False,
    parent_synthesizer: Annotated[
        str, typer.Option(help="Model of the parent table (any single-table synthesizer).")
    ] = "copula",
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
) -> None:
    """Learn customers, their orders (and order lines) and save one model file."""
    paths = [parent, child] + ([grandchild] if grandchild else [])
    with progress() as prog:
        task = prog.add_task("reading tables", total=2)

        def step(description: str) -> None:
            if description != "reading tables":  # the task starts with that description
                prog.update(task, advance=1, description=description)

        model = wf.fit_relational(
            paths,
            out,
            relationships=relationship or None,
            order_by=parse_pairs(order_by, "order-by"),
            drop_orphans=drop_orphans,
            parent_synthesizer=parent_synthesizer,
            random_state=seed,
            progress=step,
        )
    for r in model.spec_.relationships:
        ob = model.spec_.order_by.get(r.child)
        console.print(f"relationship {r}" + (f" (ordered by {ob})" if ob else ""))
    for note in model.notes:
        console.print(f"[yellow]note[/yellow]: {note}")
    console.print(f"model written to {out}")


@sub.command("sample")
def relational_sample(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="From `relational fit`.")],
    parents: Annotated[int, typer.Option(help="Number of synthetic parents (customers).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for one file per table.")],
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed = same output).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, csv.gz or parquet.")] = "csv",
) -> None:
    """Draw synthetic parents with their children; write one file per table to OUT."""
    for _name, n_rows, dest in wf.sample_relational(
        model_path, parents, out, random_state=seed, fmt=fmt
    ):
        console.print(f"{n_rows:,} rows -> {dest}")


@sub.command("evaluate")
def relational_evaluate(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="From `relational fit`.")],
    real: Annotated[
        list[str], typer.Option(help="A real table the model learned (repeat per table).")
    ],
    synthetic: Annotated[Path, typer.Option(help="Folder written by `relational sample`.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML report (JSON beside it).")],
    holdout: Annotated[
        list[str] | None,
        typer.Option(
            help="Real holdout tables (customers never seen, and their orders), in the "
            "same order as --real."
        ),
    ] = None,
    amount: Annotated[
        str | None, typer.Option(help="Order amount column, or QTY*PRICE over line columns.")
    ] = None,
    product: Annotated[str | None, typer.Option(help="Product column of the lines.")] = None,
) -> None:
    """Compare synthetic customers and purchase histories with real ones (HTML + JSON)."""
    rep, html, js = wf.evaluate_relational_files(
        model_path, real, synthetic, out, holdout=holdout, amount=amount, product=product
    )
    for sec in rep.sections.values():
        for m in sec.metrics:
            ref = "" if m.reference is None else f" (real vs real {m.reference:.3f})"
            val = "-" if m.value is None else f"{m.value:.3f}"
            console.print(f"{m.label}: {val}{ref}")
    console.print(f"report written to {html} and {js}")
