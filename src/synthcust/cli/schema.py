"""``synthcust schema``: infer a table's schema (kinds, missing markers, PII), or check one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import console, load_json, read_input
from synthcust.io.atomic import atomic_write_text
from synthcust.privacy import infer_schema_with_pii
from synthcust.schema import Schema
from synthcust.schema.validate import validate

app = typer.Typer()


def schema_table(schema: Schema) -> Table:
    """The schema as a terminal table: column, kind, details, missing markers, PII."""
    t = Table(title="Schema", show_lines=False)
    for head in ("column", "kind", "details", "missing as", "PII"):
        t.add_column(head)
    for c in schema:
        details = []
        if c.integer:
            details.append("integer")
        if c.decimals is not None:
            details.append(f"{c.decimals} decimals")
        if c.datetime_format:
            details.append(c.datetime_format)
        if c.resolution:
            details.append(f"to the {c.resolution}")
        if c.role:
            details.append(c.role.value)
        pii = "" if c.pii is None else f"[red]{c.pii.value}[/red]"
        t.add_row(
            c.name, c.kind.value, ", ".join(details), ", ".join(map(repr, c.missing_markers)), pii
        )
    return t


@app.command()
def schema(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/Parquet/DuckDB file or SQLAlchemy URL.")
    ],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write the schema JSON here.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Mark this column as the target.")] = None,
    check: Annotated[
        Path | None, typer.Option(help="Validate DATA against this schema JSON instead.")
    ] = None,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Infer the schema of DATA (column kinds, missing markers, PII), or --check one."""
    df = read_input(data, table, query)
    if check is not None:
        s = Schema.from_dict(load_json(check, "schema"))
        problems = validate(df, s)
        if not problems:
            console.print(f"[green]ok[/green]: {data} matches {check}")
            return
        for p in problems:
            console.print(("[red]" if p.severity == "error" else "[yellow]") + str(p))
        if any(p.severity == "error" for p in problems):
            raise typer.Exit(1)
        return
    s = infer_schema_with_pii(df, target=target)
    console.print(schema_table(s))
    for w in s.warnings:
        console.print(f"[yellow]warning[/yellow]: {w}")
    if out is not None:
        atomic_write_text(out, json.dumps(s.to_dict(), indent=2) + "\n")
        console.print(f"schema written to {out}")
