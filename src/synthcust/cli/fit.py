"""``synthcust fit``: learn a table (after removing PII) and save the model."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from synthcust.cli.common import (
    console,
    load_json,
    parse_bounds,
    parse_pairs,
    parse_params,
    progress,
    read_input,
)
from synthcust.exceptions import TrainingBudgetWarning
from synthcust.schema import Schema
from synthcust.workflows.defaults import DP_DELTA, SEED
from synthcust.workflows.fit import FitResult
from synthcust.workflows.fit import fit as fit_workflow

app = typer.Typer()


@app.command()
def fit(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/Parquet/DuckDB file or SQLAlchemy URL.")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Model file to write.")],
    synthesizer: Annotated[
        str | None,
        typer.Option(
            help="autoregressive (the default when torch is installed), copula (the default "
            "without torch; fastest), ctgan, tvae."
        ),
    ] = None,
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Schema JSON (from `synthcust schema -o`).")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target column.")] = None,
    pii: Annotated[
        list[str] | None,
        typer.Option(help="PII policy per column, COL=drop|hash|fake|generalise|redact|keep."),
    ] = None,
    segments: Annotated[
        Path | None, typer.Option(help='Segments JSON: {"name": "rule", ...}.')
    ] = None,
    segment: Annotated[
        list[str] | None, typer.Option(help="A segment NAME=RULE (repeatable).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = SEED,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option(
            help="A rule every synthetic row obeys, e.g. 'last_order >= first_order', "
            "'total == a + b', \"if segment == 'student' then age <= 30\" (repeatable)."
        ),
    ] = None,
    dp_epsilon: Annotated[
        float | None,
        typer.Option(
            help="Fit under (epsilon, delta)-differential privacy (the dp_marginal model, or "
            "DP-SGD with --synthesizer ctgan/tvae/autoregressive), charged to DATA's privacy "
            "budget in the workspace ledger."
        ),
    ] = None,
    dp_delta: Annotated[float, typer.Option(help="Delta for --dp-epsilon (< 1/rows).")] = DP_DELTA,
    bound: Annotated[
        list[str] | None,
        typer.Option(
            help="Public bounds for a numeric/date column with --dp-epsilon, COL=LOW..HIGH "
            "(repeatable; or declare lower/upper in the schema)."
        ),
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(help="Workspace (ledger) file, folder or postgresql:// URL."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            help="A synthesizer parameter NAME=VALUE, e.g. epochs=50 or max_training_time=60 "
            "(repeatable; values read as JSON when they parse, else as text)."
        ),
    ] = None,
    no_rules: Annotated[
        bool,
        typer.Option(
            "--no-rules",
            help="Do not discover and enforce the data's own exact rules (implications, "
            "A <= B, identities); only --constraint ones. A DP fit never discovers any.",
        ),
    ] = False,
    insecure_test_noise: Annotated[
        bool,
        typer.Option(
            "--insecure-test-noise",
            help="Allow --param secure_noise=false in a DP fit (reproducible noise for tests): "
            "the model is then NOT private. Refused without this flag.",
        ),
    ] = False,
) -> None:
    """Learn DATA (after removing PII) and save the model to OUT."""
    segs: dict[str, str] = {}
    if segments is not None:
        segs.update(load_json(segments, "segments"))
    segs.update(parse_pairs(segment, "segment"))
    # a fit stopped by its time budget is said once, by _print_fit, from the model
    with warnings.catch_warnings(), progress() as prog:
        warnings.simplefilter("ignore", TrainingBudgetWarning)
        t = prog.add_task("reading", total=3)
        df = read_input(data, table, query)
        s = Schema.from_dict(load_json(schema_file, "schema")) if schema_file else None
        prog.update(t, advance=1)

        def step(message: str) -> None:
            prog.update(t, description=message)

        res = fit_workflow(
            df,
            schema=s,
            synthesizer=synthesizer,
            target=target,
            pii_policies=parse_pairs(pii, "PII policy"),
            segments=segs,
            random_state=seed,
            constraints=list(constraint or []),
            synthesizer_params=parse_params(param),
            dp_epsilon=dp_epsilon,
            dp_delta=dp_delta,
            bounds=parse_bounds(bound) if bound else None,
            # only a DP fit is charged to (and creates) a workspace, as before
            workspace=workspace if dp_epsilon is not None else None,
            dataset_name=data,
            save_to=out,
            progress=step,
            rules="off" if no_rules else "auto",
            insecure_test_noise=insecure_test_noise,
        )
        prog.update(t, completed=3, description="done")
    _print_fit(res, data, out)


def _print_fit(res: FitResult, data: str, out: Path) -> None:
    if res.dp is not None:
        d = res.dp
        console.print(
            f"differential privacy: epsilon {d.epsilon:g}, delta {d.delta:g} charged to "
            f"{data} ({d.fingerprint[:12]}); budget left {d.remaining:g} of "
            f"{d.total:g}. Sampling from this model costs no more privacy."
        )
        for item in d.not_covered:
            console.print(f"[yellow]not covered by the guarantee[/yellow]: {item}")
        if res.model.synthesizer.get_params().get("secure_noise") is False:
            console.print(
                "[red]NOT PRIVATE[/red]: secure_noise=false seeded the noise from the seed "
                "(--insecure-test-noise); use this model for tests only"
            )
    print_pii(res.model.pii)
    for n in res.model.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    for w in res.model.training_warnings:
        console.print(f"[yellow]warning[/yellow]: {w}")
    found = getattr(res.model.synthesizer, "rules_", [])
    if found:
        console.print(
            f"rules: {len(found)} exact rule(s) of the data discovered and enforced "
            "(`synthcust constraints suggest` lists them; --no-rules switches this off)"
        )
    console.print(
        f"model ({res.synthesizer}, {len(res.model.column_order)} columns, {res.rows:,} rows) "
        f"saved to {out}"
    )


def print_pii(report: Any) -> None:
    """What PII was found and how it was handled, as a table (or "none detected")."""
    if report is None:
        return
    if report.findings:
        console.print(report.render_table())
    else:
        console.print("PII: none detected")
    for w in report.warnings:
        console.print(f"[yellow]warning[/yellow]: {w}")
