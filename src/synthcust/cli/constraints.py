"""``synthcust constraints suggest|check``: business rules found in real data, checked on any."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from synthcust.cli.common import console, load_json, read_input
from synthcust.constraints.discover import check_constraints, suggest_constraints
from synthcust.exceptions import SynthcustError
from synthcust.io.atomic import atomic_write_text
from synthcust.schema import Schema
from synthcust.schema.infer import infer_schema

app = typer.Typer(
    help="Discover business rules in real data (suggest) and measure them on any table (check).",
    no_args_is_help=True,
)


def _schema_for(df: pd.DataFrame, schema_file: Path | None) -> Schema:
    if schema_file is not None:
        return Schema.from_dict(load_json(schema_file, "schema"))
    return infer_schema(df, detect_pii=False)


@app.command("suggest")
def constraints_suggest(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/Parquet/DuckDB file or SQLAlchemy URL.")
    ],
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Schema JSON (inferred when omitted).")
    ] = None,
    min_holds: Annotated[
        float,
        typer.Option(help="Least share of rows a rule must hold on; below 1 lists near-rules."),
    ] = 1.0,
    accept: Annotated[
        bool, typer.Option("--accept", help="Add the exact suggestions to the schema (with -o).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="With --accept: write the schema JSON here.")
    ] = None,
    ranges: Annotated[bool, typer.Option(help="Also suggest observed ranges.")] = False,
    allowed_values: Annotated[
        bool, typer.Option(help="Also suggest allowed values of categorical columns.")
    ] = False,
    max_columns: Annotated[int, typer.Option(help="Most numeric columns searched.")] = 30,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Suggest constraints DATA obeys: identities, inequalities, fixed combinations, keys."""
    if not 0.0 < min_holds <= 1.0:
        raise SynthcustError(f"--min-holds must be in (0, 1], got {min_holds}")
    if accept and out is None:
        raise SynthcustError("--accept needs -o FILE: where to write the schema with the rules")
    if out is not None and not accept:
        raise SynthcustError("-o writes the schema with the suggestions; add --accept to do so")
    df = read_input(data, table, query)
    s = _schema_for(df, schema_file)
    found = suggest_constraints(
        df,
        s,
        min_support=min_holds,
        max_columns=max_columns,
        ranges=ranges,
        allowed_values=allowed_values,
    )
    t = Table(title=f"Suggested constraints ({len(df):,} rows)")
    for c in ("constraint", "holds", "rows checked", "reason"):
        t.add_column(c, justify="right" if c in ("holds", "rows checked") else "left")
    for sg in found:
        holds = f"{sg.holds:.1%}" if sg.exact else f"[yellow]{sg.holds:.1%}[/yellow]"
        t.add_row(sg.constraint.describe(), holds, f"{sg.support:,}", sg.reason)
    if found:
        console.print(t)
    else:
        console.print("no constraints found")
    near = [sg for sg in found if not sg.exact]
    if near:
        console.print(
            f"[yellow]note[/yellow]: {len(near)} near-rule(s) do not hold on every row; they "
            "are listed for information and never accepted (synthcust only enforces exact rules)"
        )
    if accept and out is not None:
        exact = [sg.constraint for sg in found if sg.exact]
        new = s.with_constraints(*exact)
        atomic_write_text(out, json.dumps(new.to_dict(), indent=2) + "\n")
        console.print(
            f"schema with {len(exact)} suggested constraint(s) "
            f"({len(new.constraints)} in all) written to {out}"
        )


@app.command("check")
def constraints_check(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="The table to check (e.g. synthetic output).")
    ],
    schema_file: Annotated[
        Path, typer.Option("--schema", help="Schema JSON with the constraints.")
    ],
    real: Annotated[
        str | None,
        typer.Option(help="The real data: needed to check fixed combinations (seen there)."),
    ] = None,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Share of DATA's rows obeying each constraint of --schema; exit 1 if any is below 100%."""
    s = Schema.from_dict(load_json(schema_file, "schema"))
    if not s.constraints:
        raise SynthcustError(f"schema {str(schema_file)!r} has no constraints to check")
    df = read_input(data, table, query)
    ref = read_input(real, None, None) if real else None
    results = check_constraints(df, s, reference=ref)
    t = Table(title=f"Constraints on {data} ({len(df):,} rows)")
    for c in ("constraint", "obeyed", "rows checked", "failing"):
        t.add_column(c, justify="left" if c == "constraint" else "right")
    failed = 0
    for r in results:
        if r.share is None:
            t.add_row(r.constraint.describe(), "[dim]n/a[/dim]", "", r.note)
            continue
        bad = r.share < 1.0
        failed += bad
        share = f"[red]{r.share:.2%}[/red]" if bad else f"[green]{r.share:.0%}[/green]"
        t.add_row(r.constraint.describe(), share, f"{r.support:,}", f"{r.failing:,}")
    console.print(t)
    skipped = [r for r in results if r.share is None]
    if skipped:
        console.print(
            f"[yellow]note[/yellow]: {len(skipped)} fixed combination(s) not checked; "
            "give --real REAL to compare with the combinations seen in the real data"
        )
    if failed:
        console.print(f"[red]{failed} of {len(results)} constraint(s) broken[/red]")
        raise SystemExit(1)  # (typer.Exit is swallowed under main()'s standalone_mode=False)
    console.print("[green]every checked constraint holds on every row[/green]")
