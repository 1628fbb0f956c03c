"""``synthcust personas``: find personas in a customer table, meet them, sample them.

::

    synthcust personas segment DATA -o OUTDIR [--k K | --min-k 2 --max-k 8 --criterion bic]
                                     [--columns a,b --exclude c] [--members 3]
                                     [--synthesizer copula] [--seed 0]
    synthcust personas sample MODEL --persona NAME_OR_ID -n N -o OUT
    synthcust personas predict MODEL DATA -o OUT

``segment`` writes into OUTDIR: ``personas.html`` (cards with charts), ``personas.json`` (every
figure), ``segmenter.synthcust`` (the segmentation model), ``personas.synthcust`` (a synthesizer
that learned the personas: ``sample`` reads it, and so does ``synthcust sample --condition
persona=P2``) and ``labels.csv`` (each row's id columns, persona id and name; no other value of
the input is copied).

A Typer sub-app with no logic of its own: options go to :mod:`synthcust.workflows.personas`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import JustifyMethod
from rich.table import Table

from synthcust.cli.common import console, load_json, progress, read_input
from synthcust.exceptions import SynthcustError
from synthcust.io import write_table
from synthcust.schema import Schema
from synthcust.workflows import personas as wf


class _SegmentByDefault(typer.core.TyperGroup):
    """``synthcust personas DATA ...`` is ``synthcust personas segment DATA ...``."""

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["segment", *args]
        return super().parse_args(ctx, args)


#: this module's commands (mounted on the root app by :mod:`synthcust.cli.root`)
app = typer.Typer(no_args_is_help=True)
personas_app = typer.Typer(
    cls=_SegmentByDefault,
    help="Personas: segment customers into personas, describe them, sample synthetic members "
    "(`synthcust personas DATA` = `synthcust personas segment DATA`).",
    no_args_is_help=True,
)
app.add_typer(personas_app, name="personas")

_DATA_HELP = "CSV/Parquet/DuckDB file or SQLAlchemy URL."


def _split(items: list[str] | None) -> list[str] | None:
    if not items:
        return None
    out = [c.strip() for it in items for c in it.split(",") if c.strip()]
    return out or None


@personas_app.command("segment")
def segment(
    data: Annotated[str, typer.Argument(metavar="DATA", help=_DATA_HELP)],
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Output folder (created if missing).")
    ],
    k: Annotated[
        int | None, typer.Option("--k", help="Number of personas (default: chosen).")
    ] = None,
    min_k: Annotated[int, typer.Option(help="Smallest k tried.")] = 2,
    max_k: Annotated[int, typer.Option(help="Largest k tried.")] = 8,
    criterion: Annotated[
        str,
        typer.Option(
            help="How k is chosen: bic (lowest), icl (lowest), silhouette (highest) or "
            "stability (the largest k whose mean ARI across subsample fits is within 0.05 of "
            "the most stable k)."
        ),
    ] = "bic",
    columns: Annotated[
        list[str] | None,
        typer.Option(help="Columns to segment on (comma-separated or repeated)."),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Columns to leave out of the automatic choice.")
    ] = None,
    members: Annotated[
        int, typer.Option(help="Synthetic members shown per persona (0: none).")
    ] = 3,
    synthesizer: Annotated[
        str | None,
        typer.Option(help="Synthesizer that learns the personas (members, `sample`); "
                     "default: the flagship (autoregressive when torch is installed)."),
    ] = None,
    kpi: Annotated[
        list[str] | None,
        typer.Option(help="KPI or target shown on every card with its real rate and 95% CI: "
                     "COLUMN (yes/no or two-level: the true/rarer level; numeric: the mean) "
                     "or COLUMN=LEVEL; comma-separated or repeated. Members keep its rate."),
    ] = None,
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Schema JSON (from `synthcust schema -o`).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Find personas in DATA and write cards (HTML + JSON), the models and the labels."""
    if members < 0:
        raise SynthcustError(f"--members must be 0 or more, got {members}")
    wf.prepare_outdir(out)  # before the long work: a bad -o fails at once
    with progress() as prog:
        t = prog.add_task("reading", total=5)
        df = read_input(data, table, query)
        schema = Schema.from_dict(load_json(schema_file, "schema")) if schema_file else None
        res = wf.segment_personas(
            df, schema=schema, k=k, k_range=(min_k, max_k), criterion=criterion,
            columns=_split(columns), exclude=_split(exclude), members=members,
            synthesizer=synthesizer, kpi=_split(kpi), random_state=seed,
            progress=lambda i, n, msg: prog.update(t, completed=i, description=msg),
        )
        prog.update(t, completed=4, description="writing")
        paths = wf.write_personas(res, out)
        prog.update(t, completed=5, description="done")
    cards = res.cards
    _summary(cards, f"Personas of {data}")
    for n in cards.notes:
        if n not in cards.warnings:
            console.print(f"[yellow]note[/yellow]: {n}", highlight=False)
    for w in cards.warnings:
        console.print(f"[bold yellow]warning[/bold yellow]: {w}", highlight=False)
    console.print(
        f"k = {cards.k} " + ("(fixed)" if cards.chosen_by == "given" else
                             f"chosen by {cards.chosen_by}")
        + f"; cards in {paths['html']} (figures in {paths['json'].name}); models "
        f"{paths['segmenter'].name} and {paths['model'].name}; {paths['labels'].name}",
        highlight=False,
    )


def _summary(cards, title: str) -> None:
    tab = Table(title=title)
    rows = wf.cards_summary(cards)
    cols: list[tuple[str, JustifyMethod]] = [
        ("persona", "left"), ("name", "left"), ("customers", "right"), ("share", "right")]
    has_kpi = any(r["kpis"] for r in rows)
    cols += [("KPI (95% CI)", "left")] if has_kpi else []
    cols += [("top traits", "left"), ("synthetic agreement", "right")]
    for c, j in cols:
        tab.add_column(c, justify=j)
    for r in rows:
        agree = "-" if r["agreement"] is None else f"{r['agreement']:.0%}"
        kpi = ["\n".join(r["kpis"])] if has_kpi else []
        tab.add_row(r["persona"], r["name"], f"{r['customers']:,}", f"{r['share']:.1%}", *kpi,
                    "\n".join(r["top_traits"]) or "-", agree)
    console.print(tab)


@personas_app.command("sample")
def sample(
    model_path: Annotated[
        Path, typer.Argument(metavar="MODEL", help="personas.synthcust from `personas segment`.")
    ],
    persona: Annotated[str, typer.Option(help="Persona id (P2) or name from the cards.")],
    n: Annotated[int, typer.Option("-n", help="Number of synthetic customers.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .csv/.csv.gz/.parquet/.duckdb")],
    names: Annotated[bool, typer.Option(help="Add a fake 'name' column (Faker).")] = True,
    consistent: Annotated[
        bool,
        typer.Option(help="Keep only draws the segmenter assigns to the persona (default; "
                     "per KPI value, so KPI rates are kept); --no-consistent returns the "
                     "model's raw conditional draws."),
    ] = True,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed = same output).")] = None,
    table: Annotated[str, typer.Option(help="Table name for .duckdb output.")] = "synthetic",
) -> None:
    """Draw N synthetic customers of one persona into OUT (every one assigned back to it)."""
    if n <= 0:
        raise SynthcustError(f"-n must be a positive number of rows, got {n}")
    with progress() as prog:
        t = prog.add_task("drawing members", total=n)
        df, pid, name = wf.sample_personas(
            model_path, persona, n, random_state=seed, with_names=names, consistent=consistent,
            progress=lambda i, total, msg: prog.update(t, completed=i, description=msg))
    write_table(df, out, table=table if str(out).endswith((".duckdb", ".ddb")) else None)
    console.print(f"{len(df):,} synthetic customers of {pid} ({name}) written to {out}",
                  highlight=False)


@personas_app.command("predict")
def predict(
    model_path: Annotated[
        Path,
        typer.Argument(metavar="MODEL", help="segmenter.synthcust (or an old segmenter.json) "
                       "or personas.synthcust."),
    ],
    data: Annotated[str, typer.Argument(metavar="DATA", help=_DATA_HELP)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output table: DATA plus 'persona'.")],
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Label the rows of DATA (new or synthetic customers) with their most likely persona."""
    res, counts = wf.label_personas(model_path, read_input(data, table, query))
    write_table(res, out)
    shown = ", ".join(f"{p} {c:,}" for p, c in counts.items())
    console.print(f"{len(res):,} rows labelled ({shown}) and written to {out}", highlight=False)

