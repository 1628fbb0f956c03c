"""``synthcust relational ...`` (customers -> orders -> lines).

Registered on :data:`synthcust.cli.app` on import. All logic lives in
:mod:`synthcust.synthesizers.multi_table.relational`, :mod:`synthcust.evaluation.relational` and
:mod:`synthcust.scale`; these commands translate arguments and print results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthcust.cli.common import app, console, parse_pairs, progress, read_input
from synthcust.exceptions import SynthcustError

sub = typer.Typer(
    help="Related tables: customers -> orders (-> order lines), with referential integrity.",
    no_args_is_help=True,
)
app.add_typer(sub, name="relational")


def _table_name(path: str) -> str:
    name = Path(path).name
    for ext in (".gz", ".csv", ".tsv", ".parquet", ".pq", ".duckdb"):
        name = name.removesuffix(ext)
    return name


def _tables(paths: list[str]) -> dict:
    out: dict = {}
    for p in paths:
        name = _table_name(p)
        if name in out:
            raise SynthcustError(
                f"two tables are both named {name!r} (from their file names); rename one file"
            )
        out[name] = read_input(p, None, None)
    return out


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
    from synthcust.synthesizers.multi_table.relational import RelationalSynthesizer

    paths = [parent, child] + ([grandchild] if grandchild else [])
    with progress() as prog:
        task = prog.add_task("reading tables", total=2)
        tables = _tables(paths)
        prog.update(task, advance=1, description="fitting")
        model = RelationalSynthesizer(
            relationships=relationship or None,
            order_by={k: (v or None) for k, v in parse_pairs(order_by, "order-by").items()},
            parent_synthesizer=parent_synthesizer,
            orphans="drop" if drop_orphans else "error",
            random_state=seed,
        ).fit(tables)
        model.save(out)
        prog.update(task, advance=1, description="done")
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
    from synthcust.io import write_table
    from synthcust.synthesizers.multi_table.relational import RelationalSynthesizer

    if fmt not in ("csv", "csv.gz", "parquet"):
        raise SynthcustError(f"--format must be csv, csv.gz or parquet, got {fmt!r}")
    if parents <= 0:
        raise SynthcustError(f"--parents must be a positive number, got {parents}")
    model = RelationalSynthesizer.load(model_path)
    tables = model.sample(parents, random_state=seed)
    if out.exists() and not out.is_dir():
        raise SynthcustError(f"{out} is a file; give a folder for the synthetic tables")
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        dest = out / f"{name}.{fmt}"
        write_table(df, dest)
        console.print(f"{len(df):,} rows -> {dest}")


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
    from synthcust.evaluation.relational import evaluate_relational
    from synthcust.reporting.relational import write_relational_report
    from synthcust.synthesizers.multi_table.relational import RelationalSynthesizer

    model = RelationalSynthesizer.load(model_path)
    names = list(model.tables_)
    real_t = _tables(real)
    missing = [n for n in names if n not in real_t]
    if missing:
        raise SynthcustError(
            f"--real has no table {missing} (named by file name); the model knows {names}"
        )
    hold_t = None
    if holdout:
        if len(holdout) != len(real):
            raise SynthcustError("give one --holdout file per --real file, in the same order")
        hold_t = {
            _table_name(r): read_input(h, None, None)
            for r, h in zip(real, holdout, strict=True)
        }
    syn_t = {}
    for n in names:
        found = [p for p in sorted(synthetic.glob(f"{n}.*")) if p.is_file()]
        if not found:
            raise SynthcustError(
                f"no synthetic table {n!r} in {synthetic}; run `relational sample`"
            )
        syn_t[n] = read_input(str(found[0]), None, None)
    rep = evaluate_relational(
        real_t, syn_t, model.spec_, holdout=hold_t, amount=amount, product=product
    )
    html, js = write_relational_report(rep, out)
    for sec in rep.sections.values():
        for m in sec.metrics:
            ref = "" if m.reference is None else f" (real vs real {m.reference:.3f})"
            val = "-" if m.value is None else f"{m.value:.3f}"
            console.print(f"{m.label}: {val}{ref}")
    console.print(f"report written to {html} and {js}")
