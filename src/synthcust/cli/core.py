"""The ``synthcust`` command line: a thin layer over :mod:`synthcust.api`.

Every error is one readable line naming the column/value and what to do, with a non-zero exit
code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from synthcust.cli.common import (
    STATE,
    app,
    console,
    err_console,
    load_json,
    parse_bounds,
    parse_pairs,
    progress,
    read_input,
)
from synthcust.exceptions import SynthcustError


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    STATE["debug"] = debug


def _schema_table(schema) -> Table:
    t = Table(title="Schema", show_lines=False)
    for c in ("column", "kind", "details", "missing as", "PII"):
        t.add_column(c)
    for c in schema:
        details = []
        if c.integer:
            details.append("integer")
        if c.datetime_format:
            details.append(c.datetime_format)
        if c.role:
            details.append(c.role.value)
        pii = "" if c.pii is None else f"[red]{c.pii.value}[/red]"
        t.add_row(
            c.name, c.kind.value, ", ".join(details), ", ".join(map(repr, c.missing_markers)), pii
        )
    return t


# --------------------------------------------------------------------------- schema
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
    from synthcust.io.atomic import atomic_write_text
    from synthcust.privacy import infer_schema_with_pii
    from synthcust.schema import Schema
    from synthcust.schema.validate import validate

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
    console.print(_schema_table(s))
    for w in s.warnings:
        console.print(f"[yellow]warning[/yellow]: {w}")
    if out is not None:
        atomic_write_text(out, json.dumps(s.to_dict(), indent=2) + "\n")
        console.print(f"schema written to {out}")


# --------------------------------------------------------------------------- fit
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
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = 0,
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
    dp_delta: Annotated[float, typer.Option(help="Delta for --dp-epsilon (< 1/rows).")] = 1e-9,
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
) -> None:
    """Learn DATA (after removing PII) and save the model to OUT."""
    from synthcust import api
    from synthcust.schema import Schema

    segs: dict[str, str] = {}
    if segments is not None:
        segs.update(load_json(segments, "segments"))
    segs.update(parse_pairs(segment, "segment"))
    with progress() as prog:
        t = prog.add_task("reading", total=3)
        df = read_input(data, table, query)
        dpsgd_models = ("ctgan", "tvae", "autoregressive")
        if dp_epsilon is not None and synthesizer not in (None, "dp_marginal", *dpsgd_models):
            raise SynthcustError(
                f"--dp-epsilon fits dp_marginal (the default), or ctgan, tvae or autoregressive "
                f"(DP-SGD), not {synthesizer!r}; drop --synthesizer or pick one of those"
            )
        chosen = synthesizer  # --dp-epsilon without --synthesizer means dp_marginal
        synthesizer = synthesizer or api.default_synthesizer()
        params: dict[str, Any] = {}
        if dp_epsilon is not None and chosen in dpsgd_models:
            if bound:
                raise SynthcustError("--bound applies to dp_marginal; DP-SGD models take none")
            params = {"dp_epsilon": dp_epsilon, "dp_delta": dp_delta}
        elif dp_epsilon is not None:
            synthesizer = "dp_marginal"
            params = {"epsilon": dp_epsilon, "delta": dp_delta}
            if bound:
                params["bounds"] = parse_bounds(bound)
        for k, v in parse_pairs(param, "parameter").items():
            try:
                params.setdefault(k, json.loads(v))
            except json.JSONDecodeError:
                params.setdefault(k, v)
        prog.update(t, advance=1, description=f"fitting {synthesizer} on {len(df):,} rows")
        s = Schema.from_dict(load_json(schema_file, "schema")) if schema_file else None

        def run_fit() -> Any:
            return api.fit(
                df,
                schema=s,
                synthesizer=synthesizer,
                target=target,
                pii_policies=parse_pairs(pii, "PII policy"),
                segments=segs,
                random_state=seed,
                constraints=list(constraint or []),
                synthesizer_params=params,
            )

        if dp_epsilon is None:
            model = run_fit()
            prog.update(t, advance=1, description="saving")
            model.save(out)
        else:
            from synthcust.store import Workspace
            from synthcust.synthesizers import REGISTRY

            # parameters and bounds are checked before any epsilon is charged
            ready = api.prepare_schema(df, s, target)
            if constraint:
                ready = ready.with_constraints(*constraint)
            if synthesizer == "dp_marginal":
                REGISTRY["dp_marginal"](**params).check_ready(len(df), ready)
                mech = "MST: Gaussian + exponential mechanisms, zCDP (dp_marginal)"
            else:
                from synthcust.synthesizers.neural.dpsgd import check_dp_params, require_opacus

                require_opacus()
                check_dp_params(dp_epsilon, dp_delta, 1.0, "rdp", len(df))
                mech = f"DP-SGD (opacus, RDP accountant; {synthesizer} network weights only)"
            with Workspace(workspace) as ws:
                ds = ws.register_dataset(df, name=data)
                # the spend is recorded before the data is touched, and stays spent
                charged = {k: v for k, v in params.items() if k != "bounds"}
                with ws.charge(
                    ds, dp_epsilon, dp_delta, mech, synthesizer=synthesizer, params=charged
                ) as c:
                    model = run_fit()
                    prog.update(t, advance=1, description="saving")
                    model.save(out)
                    privacy = getattr(model.synthesizer, "privacy_", {})
                    c.model_id = ws.add_model(ds, synthesizer, out, params=params,
                                              metrics={"privacy": privacy})  # fmt: skip
                left = ws.budget(ds.fingerprint)
            console.print(
                f"differential privacy: epsilon {dp_epsilon:g}, delta {dp_delta:g} charged to "
                f"{data} ({ds.fingerprint[:12]}); budget left {left.remaining:g} of "
                f"{left.total:g}. Sampling from this model costs no more privacy."
            )
            for item in privacy.get("not_covered", []):
                console.print(f"[yellow]not covered by the guarantee[/yellow]: {item}")
        prog.update(t, advance=1, description="done")
    _print_pii(model.pii)
    for n in model.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    console.print(
        f"model ({synthesizer}, {len(model.column_order)} columns, {len(df):,} rows) saved to {out}"
    )


def _print_pii(report) -> None:
    if report is None:
        return
    if report.findings:
        console.print(report.render_table())
    else:
        console.print("PII: none detected")
    for w in report.warnings:
        console.print(f"[yellow]warning[/yellow]: {w}")


# --------------------------------------------------------------------------- sample
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
    max_exact_copies: Annotated[float, typer.Option(help="Gate: max exact-copy rate.")] = 0.0,
    max_dcr_share: Annotated[float, typer.Option(help="Gate: max DCR share.")] = 0.55,
    max_mia_auc: Annotated[float, typer.Option(help="Gate: max membership-inference AUC.")] = 0.6,
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
) -> None:
    """Draw N synthetic customers from MODEL and write them to OUT (optionally gated)."""
    from synthcust import api
    from synthcust.io import write_table
    from synthcust.rules.segments import Segment
    from synthcust.synthesizers.conditions import parse_condition_text

    if n <= 0:
        raise SynthcustError(f"-n must be a positive number of rows, got {n}")
    if gate and (real is None or holdout is None):
        raise SynthcustError(
            "--gate needs --real (the data the model learned) and --holdout (real rows it never "
            "saw) to measure privacy risk"
        )
    conds = dict(parse_condition_text(c) for c in condition or [])
    if dask is not None:
        refused = {"--gate": gate, "--segment": segment, "--where": where}
        _sample_on_dask(model_path, n, out, conds, seed, dask, workers, partition_rows, refused)
        return
    with progress() as prog:
        t = prog.add_task("loading model", total=3)
        model = api.load(model_path)
        prog.update(t, advance=1, description=f"sampling {n:,} rows")
        seg = Segment.parse("where", where) if where else segment
        if where and segment:
            raise SynthcustError("give either --segment or --where, not both")
        df = model.sample(n, conditions=conds, segment=seg, random_state=seed)
        if gate:
            prog.update(t, description="checking the privacy gate")
            _check_gate(
                model, df, real, holdout, _thresholds(max_exact_copies, max_dcr_share, max_mia_auc)
            )
        prog.update(t, advance=1, description="writing")
        write_table(df, out, table=table if str(out).endswith((".duckdb", ".ddb")) else None)
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
    try:
        from synthcust.scale import sample_partitioned
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise SynthcustError(
            f"--dask needs Dask: pip install 'synthcust[scale]' ({e})"
        ) from e
    with progress() as prog:
        t = prog.add_task(f"sampling {n:,} rows on Dask ({scheduler})", total=None)

        def advance(done: int, total: int) -> None:
            prog.update(t, completed=done, total=total)

        res = sample_partitioned(
            str(model_path), n, out, scheduler=scheduler, workers=workers,
            partition_rows=partition_rows, seed=0 if seed is None else seed,
            conditions=conds or None, progress=advance, overwrite=True,
        )  # fmt: skip
    console.print(
        f"{res.rows:,} synthetic customers written to {res.path} ({res.partitions} Parquet "
        f"partitions, {res.rows_per_second:,.0f} rows/s, worker peak "
        f"{res.worker_peak_rss_mb:,.0f} MB)"
    )


# --------------------------------------------------------------------------- evaluate
def _thresholds(max_exact_copies: float, max_dcr_share: float, max_mia_auc: float):
    from synthcust.evaluation.privacy import GateThresholds

    return GateThresholds(
        max_exact_copy_rate=max_exact_copies, max_dcr_share=max_dcr_share, max_mia_auc=max_mia_auc
    )


@app.command()
def evaluate(
    real: Annotated[str, typer.Argument(metavar="REAL", help="The real data the model learned.")],
    synthetic: Annotated[str, typer.Argument(metavar="SYNTHETIC", help="The synthetic data.")],
    holdout: Annotated[
        str | None,
        typer.Option(
            help="Real rows the model never saw (needed for detection, utility and privacy)."
        ),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target column for utility (TSTR).")] = None,
    sensitive: Annotated[
        str | None, typer.Option(help="Sensitive column for attribute-inference risk.")
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML report (JSON beside it).")] = Path(
        "report.html"
    ),
    exclude: Annotated[
        list[str] | None, typer.Option(help="Columns to leave out (ids, PII). Repeatable.")
    ] = None,
    max_exact_copies: Annotated[float, typer.Option(help="Gate: max exact-copy rate.")] = 0.0,
    max_dcr_share: Annotated[float, typer.Option(help="Gate: max DCR share.")] = 0.55,
    max_mia_auc: Annotated[float, typer.Option(help="Gate: max membership-inference AUC.")] = 0.6,
    seed: Annotated[int, typer.Option(help="Seed for subsampling and models.")] = 0,
    schema: Annotated[
        Path | None,
        typer.Option(help="Schema JSON whose constraints and bounds the validity checks use."),
    ] = None,
) -> None:
    """Measure SYNTHETIC against REAL (and --holdout): validity, fidelity, detection, utility,
    privacy."""
    from synthcust.evaluation.evaluate import evaluate as run_evaluation
    from synthcust.reporting import scorecard_table, write_report
    from synthcust.schema import Schema

    with progress() as prog:
        t = prog.add_task("reading", total=6)
        r = read_input(real, None, None)
        s = read_input(synthetic, None, None)
        h = read_input(holdout, None, None) if holdout else None
        prog.update(t, advance=1)

        def step(msg: str) -> None:
            prog.update(t, advance=1, description=f"evaluating {msg}")

        sch = Schema.from_dict(load_json(schema, "schema")) if schema is not None else None
        report = run_evaluation(
            r,
            s,
            h,
            schema=sch,
            target=target,
            sensitive=sensitive,
            random_state=seed,
            progress=step,
            thresholds=_thresholds(max_exact_copies, max_dcr_share, max_mia_auc),
            exclude=list(exclude or []),
        )
        html_path, json_path = write_report(report, out)
        prog.update(t, completed=6, description="done")
    console.print(scorecard_table(report))
    for sk in report.all_skipped():
        console.print(f"[yellow]skipped[/yellow]: {sk}")
    console.print(f"report written to {html_path} (figures in {json_path})")


def _check_gate(model, synth, real_path, holdout_path, thresholds) -> None:
    from synthcust.evaluation.privacy import evaluate_privacy, privacy_gate

    real = read_input(real_path, None, None)
    hold = read_input(holdout_path, None, None)
    cols = [c for c in model.learned_columns if c in real.columns and c in hold.columns]
    res = evaluate_privacy(real[cols], synth[cols], hold[cols], thresholds=thresholds)
    decision = privacy_gate(res, thresholds)
    if not decision.passed:
        raise SynthcustError("privacy gate failed, nothing written: " + "; ".join(decision.reasons))
    console.print("[green]privacy gate passed[/green]")


# --------------------------------------------------------------------------- constraints
constraints_app = typer.Typer(
    help="Discover business rules in real data (suggest) and measure them on any table (check).",
    no_args_is_help=True,
)
app.add_typer(constraints_app, name="constraints")


def _schema_for(df, schema_file: Path | None):
    from synthcust.schema import Schema
    from synthcust.schema.infer import infer_schema

    if schema_file is not None:
        return Schema.from_dict(load_json(schema_file, "schema"))
    return infer_schema(df, detect_pii=False)


@constraints_app.command("suggest")
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
    from synthcust.constraints.discover import suggest_constraints
    from synthcust.io.atomic import atomic_write_text

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


@constraints_app.command("check")
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
    from synthcust.constraints.discover import check_constraints
    from synthcust.schema import Schema

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


# --------------------------------------------------------------------------- demo
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
    from synthcust.workflows.demo import run_demo

    run_demo(out, rows=rows, n=n, seed=seed, console=console, progress=progress())


# --------------------------------------------------------------------------- ledger
@app.command()
def ledger(
    dataset: Annotated[
        str | None,
        typer.Argument(
            metavar="[DATASET]",
            help="A data file or SQLAlchemy URL (fingerprinted), or a fingerprint prefix. "
            "Omit it to list every dataset with its spend.",
        ),
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(
            help="Workspace file, folder or postgresql:// URL "
            "(default: $SYNTHCUST_HOME/workspace.db, else ~/.synthcust/workspace.db)."
        ),
    ] = None,
    set_budget: Annotated[
        float | None,
        typer.Option(help="Set DATASET's total epsilon budget (the default is 10)."),
    ] = None,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Show the privacy ledger: every DP fit charged to DATASET and its budget left."""
    import re

    from synthcust.store import Workspace, WorkspaceError, fingerprint_frame

    if set_budget is not None and dataset is None:
        raise SynthcustError("--set-budget needs a DATASET (a data file or fingerprint prefix)")
    try:
        ws = Workspace(workspace, create=set_budget is not None)
    except WorkspaceError as e:
        if "there is no workspace" not in str(e):
            raise
        console.print(f"{e}; nothing has been charged")
        return
    with ws:
        if dataset is None:
            _ledger_overview(ws)
            return
        name = None
        if Path(dataset).exists() or "://" in dataset:
            fp = fingerprint_frame(read_input(dataset, table, query))
            name = dataset
        elif re.fullmatch(r"[0-9a-fA-F]{4,64}", dataset):
            found = ws.fingerprints(dataset)
            if not found:
                raise SynthcustError(
                    f"no dataset in workspace {ws.location} has a fingerprint starting with "
                    f"{dataset!r}; run `synthcust ledger` to list them, or give the data file"
                )
            if len(found) > 1:
                raise SynthcustError(
                    f"{len(found)} datasets have fingerprints starting with {dataset!r} "
                    f"({', '.join(f[:12] for f in found)}); give more characters"
                )
            fp = found[0]
        else:
            raise SynthcustError(
                f"{dataset!r} is neither an existing data file nor a fingerprint prefix (at least "
                "4 hex digits); run `synthcust ledger` to list the datasets"
            )
        if set_budget is not None:
            ws.set_budget(fp, set_budget)
            console.print(f"budget of {fp[:12]} set to epsilon {set_budget:g}")
        _ledger_dataset(ws, fp, name)


def _ledger_dataset(ws, fp: str, name: str | None) -> None:
    import contextlib

    from synthcust.store import WorkspaceError

    with contextlib.suppress(WorkspaceError):
        name = ws.dataset(fp).name or name
    entries = ws.ledger(fp)
    b = ws.budget(fp)
    t = Table(title=f"Privacy ledger of {name or 'dataset'} (fingerprint {fp[:12]})")
    for c in ("#", "when (UTC)", "mechanism", "synthesizer", "epsilon", "delta", "status", "model"):
        t.add_column(
            c,
            justify="right" if c in ("#", "epsilon", "delta", "model") else "left",
            no_wrap=c in ("when (UTC)", "status"),
        )
    colour = {"committed": "green", "pending": "yellow", "failed": "red"}
    for e in entries:
        t.add_row(
            str(e.id),
            e.created[:16].replace("T", " "),
            e.mechanism,
            e.synthesizer or "",
            f"{e.epsilon:g}",
            f"{e.delta:g}",
            f"[{colour[e.status]}]{e.status}[/{colour[e.status]}]",
            "" if e.model_id is None else str(e.model_id),
        )
    if entries:
        console.print(t)
    else:
        console.print(f"no DP fits recorded for {name or fp[:12]} in {ws.location}")
    left = "[red]0 (exhausted)[/red]" if b.remaining <= 0 else f"{b.remaining:g}"
    console.print(
        f"budget: total epsilon {b.total:g}{' (default)' if b.is_default else ''}, spent "
        f"{b.spent:g} (delta {b.delta_spent:g}) over {b.charges} charge(s), remaining {left}"
    )
    if any(e.status != "committed" for e in entries):
        console.print(
            "[yellow]note[/yellow]: failed and pending (interrupted) charges count too: "
            "privacy spent on private data cannot be un-spent"
        )
    console.print("sampling more rows from a DP model is post-processing and costs no budget")


def _ledger_overview(ws) -> None:
    by_fp = {d.fingerprint: d for d in ws.datasets()}
    fps = ws.fingerprints()
    if not fps:
        console.print(f"no datasets in workspace {ws.location} yet")
        return
    t = Table(title=f"Datasets in {ws.location}")
    for c in ("fingerprint", "name", "rows", "DP fits", "epsilon spent", "total", "remaining"):
        t.add_column(c, justify="left" if c in ("fingerprint", "name") else "right")
    for fp in fps:
        d = by_fp.get(fp)
        b = ws.budget(fp)
        t.add_row(
            fp[:12],
            (d.name if d else None) or "",
            f"{d.n_rows:,}" if d else "",
            str(b.charges),
            f"{b.spent:g}",
            f"{b.total:g}",
            "[red]0[/red]" if b.remaining <= 0 else f"{b.remaining:g}",
        )
    console.print(t)


# --------------------------------------------------------------------------- privacy-curve
@app.command("privacy-curve")
def privacy_curve(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/Parquet/DuckDB file or SQLAlchemy URL.")
    ],
    target: Annotated[str, typer.Option(help="Target column (TSTR AUC; split stratified on it).")],
    epsilons: Annotated[
        str,
        typer.Option(
            help="Epsilons to fit at, comma-separated. Each is a separate DP fit charged to "
            "DATA's budget: the curve spends their SUM (0.5,1,2,4,8 costs 15.5)."
        ),
    ] = "0.5,1,2,4,8",
    delta: Annotated[float, typer.Option(help="Delta of every fit (< 1/rows).")] = 1e-9,
    bound: Annotated[
        list[str] | None,
        typer.Option(
            help="Public bounds for a numeric/date column, COL=LOW..HIGH (repeatable; or "
            "declare lower/upper in the schema)."
        ),
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(help="Workspace (ledger) file, folder or postgresql:// URL."),
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML report (JSON beside it).")] = Path(
        "curve.html"
    ),
    reference: Annotated[
        str, typer.Option(help="The non-private model to compare with ('none' for none).")
    ] = "copula",
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Schema JSON (from `synthcust schema -o`).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, the fits and the models.")] = 0,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL).")] = None,
) -> None:
    """Fit the DP model at each epsilon and plot fidelity (1 - TVD accuracy) and utility (TSTR
    AUC) against epsilon, with the non-private model as reference.

    DATA is split 80/20 (stratified on --target); the DP fits learn the 80% and are measured on
    the 20%. Every fit is charged to the ledger of DATA as read (its fingerprint, the dataset the
    private rows belong to), before it reads them; the whole curve is refused up front when the
    sum of the epsilons exceeds the budget left. The report itself is not differentially private.
    """
    from synthcust.evaluation.splits import train_holdout_split
    from synthcust.schema import Schema
    from synthcust.store import Workspace, fingerprint_frame
    from synthcust.studies.privacy_curve import (
        MECHANISM,
        parse_epsilons,
        write_curve_report,
    )
    from synthcust.studies.privacy_curve import privacy_curve as run_curve

    eps = parse_epsilons(epsilons)  # before reading anything
    bounds = parse_bounds(bound) if bound else None
    with progress() as prog:
        t = prog.add_task("reading", total=len(eps) + 3)
        df = read_input(data, table, query)
        s = Schema.from_dict(load_json(schema_file, "schema")) if schema_file else None
        if target not in df.columns:
            raise SynthcustError(
                f"target column {target!r} is not in {data}; columns: {list(df.columns)}"
            )
        train, holdout = train_holdout_split(df, target=target, random_state=seed)
        fp = fingerprint_frame(df)
        with Workspace(workspace) as ws:
            left = ws.budget(fp)
            registered: list[Any] = []

            def charge(e: float, d: float):
                if not registered:  # the dataset is recorded with its first charge
                    registered.append(ws.register_dataset(df, name=data))
                return ws.charge(
                    registered[0],
                    e,
                    d,
                    MECHANISM,
                    synthesizer="dp_marginal",
                    params={"epsilon": e, "delta": d, "purpose": "privacy-curve"},
                )

            def step(msg: str) -> None:
                prog.update(t, advance=1, description=f"fitting {msg}")

            result = run_curve(
                train,
                holdout,
                epsilons=eps,
                delta=delta,
                target=target,
                bounds=bounds,
                reference=None if reference.lower() == "none" else reference,
                random_state=seed,
                charge=charge,
                remaining=left.remaining,
                schema=s,
                progress=step,
            )
            after = ws.budget(fp)
        prog.update(t, description="writing the report")
        html_path, json_path = write_curve_report(result, out)
        prog.update(t, completed=len(eps) + 3, description="done")
    tab = Table(title=f"Privacy curve of {data} (target {target})")
    for c in ("model", "epsilon", "1 - TVD accuracy", "TSTR AUC"):
        tab.add_column(c, justify="left" if c == "model" else "right")
    rows = [*result.points, *([result.reference] if result.reference else [])]
    for p in rows:
        tab.add_row(
            p.label,
            "" if p.epsilon is None else f"{p.epsilon:g}",
            f"{p.accuracy:.3f}",
            "" if p.tstr_auc is None else f"{p.tstr_auc:.3f}",
        )
    tab.add_row(
        "real holdout vs real train",
        "",
        "" if result.real_accuracy is None else f"{result.real_accuracy:.3f}",
        "" if result.real_tstr_auc is None else f"{result.real_tstr_auc:.3f} (real)",
    )
    console.print(tab)
    for n in result.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    console.print(
        f"differential privacy: {len(result.points)} fits, epsilon {result.total_epsilon:g} "
        f"(the sum: basic composition) and delta {result.total_delta:g} charged to {data} "
        f"({fp[:12]}); budget left {after.remaining:g} of {after.total:g}. The report's figures "
        "are computed from the real rows and are not private."
    )
    console.print(f"report written to {html_path} (figures in {json_path})")


# sub-commands kept in their own modules; importing one registers its commands on ``app``
from synthcust.cli import (  # noqa: E402, F401
    behaviour,
    experiments,
    journeys,
    llm,
    oversample,
    personas,
    relational,
    service,
)


def main() -> None:
    """Entry point: run the app, turning every synthcust error into one line and exit code 1."""
    try:
        # without standalone mode click returns an Exit's code instead of exiting with it
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except SynthcustError as e:
        if STATE["debug"]:
            raise
        err_console.print(f"[red]error[/red]: {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Exit, SystemExit) as e:
        code = getattr(e, "exit_code", getattr(e, "code", 0))
        sys.exit(code or 0)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as e:  # usage errors and anything unexpected
        if hasattr(e, "show") and hasattr(e, "exit_code"):  # a usage error (bad option...)
            e.show()
            sys.exit(e.exit_code)
        if STATE["debug"] or "--debug" in sys.argv:
            raise
        err_console.print(
            f"[red]internal error[/red]: {type(e).__name__}: {e} "
            "(this is a bug in synthcust; rerun with --debug for the traceback and report it)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    main()
