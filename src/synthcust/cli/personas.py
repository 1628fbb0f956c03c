"""``synthcust personas``: find personas in a customer table, meet them, sample them.

::

    synthcust personas segment DATA -o OUTDIR [--k K | --min-k 2 --max-k 8 --criterion bic]
                                     [--columns a,b --exclude c] [--members 3]
                                     [--synthesizer copula] [--seed 0]
    synthcust personas sample MODEL --persona NAME_OR_ID -n N -o OUT
    synthcust personas predict MODEL DATA -o OUT

``segment`` writes into OUTDIR: ``personas.html`` (cards with charts), ``personas.json`` (every
figure), ``segmenter.json`` (the segmentation model, JSON), ``personas.synthcust`` (a synthesizer
that learned the personas: ``sample`` reads it, and so does ``synthcust sample --condition
persona=P2``) and ``labels.csv`` (each row's id columns, persona id and name; no other value of
the input is copied).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import app, console, progress, read_input
from synthcust.exceptions import SynthcustError


class _SegmentByDefault(typer.core.TyperGroup):
    """``synthcust personas DATA ...`` is ``synthcust personas segment DATA ...``."""

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["segment", *args]
        return super().parse_args(ctx, args)


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
        str, typer.Option(help="Synthesizer that learns the personas (members, `sample`).")
    ] = "copula",
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Schema JSON (from `synthcust schema -o`).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Find personas in DATA and write cards (HTML + JSON), the models and the labels."""
    import numpy as np
    import pandas as pd

    from synthcust.cli.common import load_json
    from synthcust.io import write_table
    from synthcust.personas import (
        PersonaSegmenter,
        add_members,
        describe_personas,
        fit_persona_model,
        write_cards,
    )
    from synthcust.schema import Kind, Role, Schema

    if members < 0:
        raise SynthcustError(f"--members must be 0 or more, got {members}")
    _outdir(out)
    with progress() as prog:
        t = prog.add_task("reading", total=5)
        df = read_input(data, table, query)
        schema = Schema.from_dict(load_json(schema_file, "schema")) if schema_file else None
        if schema is None:
            from synthcust.privacy import infer_schema_with_pii

            schema = infer_schema_with_pii(df)
        prog.update(t, advance=1, description="choosing k and fitting personas")
        seg = PersonaSegmenter(
            k=k, k_range=(min_k, max_k), criterion=criterion, columns=_split(columns),
            exclude=_split(exclude), schema=schema, random_state=seed,
        ).fit(df)
        prog.update(t, advance=1, description="describing personas")
        cards = describe_personas(df, seg, seg.labels_)
        names = {c.id: c.name for c in cards.cards}
        prog.update(t, advance=1, description=f"fitting the {synthesizer} synthesizer")
        model = fit_persona_model(df, seg, seg.labels_, names=names, synthesizer=synthesizer,
                                  random_state=seed)
        if members:
            add_members(cards, model, members, real=df, random_state=seed)
        prog.update(t, advance=1, description="writing")
        html_path, json_path = write_cards(cards, out)
        seg.save(out / "segmenter.json")
        model.save(out / "personas.synthcust")
        ids = [c.name for c in schema if c.kind == Kind.ID or c.role == Role.KEY]
        ids = [c for c in ids if c in df.columns and schema[c].pii is None]
        lab = pd.DataFrame({c: df[c].to_numpy() for c in ids}) if ids else \
            pd.DataFrame({"row": np.arange(len(df))})
        lab["persona"] = seg.labels_
        lab["persona_name"] = [names[p] for p in seg.labels_]
        write_table(lab, out / "labels.csv")
        prog.update(t, advance=1, description="done")
    _summary(cards, f"Personas of {data}")
    for n in cards.notes:
        console.print(f"[yellow]note[/yellow]: {n}", highlight=False)
    console.print(
        f"k = {cards.k} " + ("(fixed)" if cards.chosen_by == "given" else
                             f"chosen by {cards.chosen_by}")
        + f"; cards in {html_path} (figures in "
        f"{json_path.name}); models segmenter.json and personas.synthcust; labels.csv",
        highlight=False,
    )


def _outdir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SynthcustError(f"-o {str(out)!r} is a file; give a folder for the persona outputs")
    if not out.parent.is_dir():
        raise SynthcustError(
            f"cannot create {str(out)!r}: its parent folder {str(out.parent)!r} does not exist"
        )
    out.mkdir(exist_ok=True)


def _summary(cards, title: str) -> None:
    tab = Table(title=title)
    for c, j in (("persona", "left"), ("name", "left"), ("customers", "right"),
                 ("share", "right"), ("top traits", "left"), ("synthetic agreement", "right")):
        tab.add_column(c, justify=j)
    for c in cards.cards:
        top = [t.sentence() for t in c.highlights(2)]
        agree = "-" if c.agreement is None else f"{c.agreement:.0%}"
        tab.add_row(c.id, c.name, f"{c.size:,}", f"{c.share:.1%}", "\n".join(top) or "-", agree)
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
        typer.Option(help="Redraw rows the segmenter assigns to another persona."),
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed = same output).")] = None,
    table: Annotated[str, typer.Option(help="Table name for .duckdb output.")] = "synthetic",
) -> None:
    """Draw N synthetic customers of one persona (exact conditional sampling) into OUT."""
    from synthcust.io import write_table
    from synthcust.personas import load_persona_model, sample_persona

    if n <= 0:
        raise SynthcustError(f"-n must be a positive number of rows, got {n}")
    model = load_persona_model(model_path)
    pid = model.resolve(persona)
    df = sample_persona(model, n, pid, random_state=seed, with_names=names, consistent=consistent)
    write_table(df, out, table=table if str(out).endswith((".duckdb", ".ddb")) else None)
    console.print(
        f"{len(df):,} synthetic customers of {pid} ({model.names.get(pid, pid)}) written to {out}",
        highlight=False,
    )


@personas_app.command("predict")
def predict(
    model_path: Annotated[
        Path,
        typer.Argument(metavar="MODEL", help="segmenter.json or personas.synthcust."),
    ],
    data: Annotated[str, typer.Argument(metavar="DATA", help=_DATA_HELP)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output table: DATA plus 'persona'.")],
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Label the rows of DATA (new or synthetic customers) with their most likely persona."""
    from synthcust.io import write_table
    from synthcust.personas import PersonaSegmenter, load_persona_model

    if str(model_path).endswith(".json"):
        seg, names = PersonaSegmenter.load(model_path), {}
    else:
        pm = load_persona_model(model_path)
        seg, names = pm.segmenter, pm.names
    df = read_input(data, table, query)
    res = df.copy()
    res["persona"] = seg.predict(df)
    if names:
        res["persona_name"] = res["persona"].map(names)
    write_table(res, out)
    counts = res["persona"].value_counts().reindex(seg.personas_, fill_value=0)
    shown = ", ".join(f"{p} {c:,}" for p, c in counts.items())
    console.print(f"{len(res):,} rows labelled ({shown}) and written to {out}", highlight=False)
