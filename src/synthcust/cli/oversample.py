"""``synthcust rebalance`` and ``synthcust augment-study``: imbalanced targets and small data.

A Typer sub-app with no logic of its own: options go to :mod:`synthcust.workflows.oversample`
(which runs :mod:`synthcust.synthesizers.oversampling.oversample` and
:mod:`synthcust.studies.augment`); every file is written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthcust.cli.common import console, progress, read_input
from synthcust.io import write_table
from synthcust.workflows import oversample as wf

#: this module's commands (mounted on the root app)
app = typer.Typer(no_args_is_help=True)

_METHOD_HELP = "smote, smotenc, smoten, borderline, adasyn, generative or hybrid."


@app.command()
def rebalance(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/Parquet/DuckDB file or SQLAlchemy URL.")
    ],
    target: Annotated[str, typer.Option(help="Class column to rebalance.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .csv/.csv.gz/.parquet/.duckdb")],
    method: Annotated[str, typer.Option(help=_METHOD_HELP)] = "smote",
    ratio: Annotated[
        float,
        typer.Option(help="Minority / majority after resampling (1.0 = balanced)."),
    ] = 1.0,
    k_neighbors: Annotated[int, typer.Option(help="SMOTE family: neighbours to use.")] = 5,
    synthesizer: Annotated[
        str, typer.Option(help="generative / hybrid: the synthesizer to sample from.")
    ] = "copula",
    smote_share: Annotated[
        float, typer.Option(help="hybrid: share of new rows from SMOTE (rest generative).")
    ] = 0.5,
    categorical: Annotated[
        list[str] | None,
        typer.Option(help="Treat these columns as categorical (comma-separated, repeatable)."),
    ] = None,
    drop: Annotated[
        list[str] | None,
        typer.Option(help="Leave these columns out (e.g. free text; comma-separated)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed = same output).")] = None,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL input).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL input).")] = None,
    no_rules: Annotated[
        bool,
        typer.Option(
            "--no-rules",
            help="Leave the new rows as drawn (by default they obey the data's exact rules: "
            "implications, A <= B, identities).",
        ),
    ] = False,
) -> None:
    """Add rows to every class below RATIO x the largest class and write the table to OUT.

    Same columns and dtypes out as in (minus any --drop); original rows first, new rows after.
    Free-text columns are refused: drop them with --drop.
    """
    df = read_input(data, table, query)
    with progress() as prog:
        t = prog.add_task(f"{method}: rebalancing {len(df):,} rows", total=2)
        res = wf.rebalance_table(
            df,
            target,
            method=method,
            ratio=ratio,
            k_neighbors=k_neighbors,
            synthesizer=synthesizer,
            smote_share=smote_share,
            categorical=categorical,
            drop=drop,
            random_state=seed,
            rules="off" if no_rules else "auto",
        )
        prog.update(t, advance=1, description="writing")
        write_table(res.frame, out)
        prog.update(t, advance=1, description="done")
    sampler, dropped = res.sampler, res.dropped
    tab = Table(title=f"{target}: rows per class ({method}, ratio {ratio:g})")
    tab.add_column("class")
    tab.add_column("before", justify="right")
    tab.add_column("after", justify="right")
    tab.add_column("new", justify="right")
    for cls, before, after, new in wf.class_counts(sampler):
        tab.add_row(str(cls), f"{before:,}", f"{after:,}", f"{new:,}")
    console.print(tab)
    if dropped:
        console.print(f"[yellow]note[/yellow]: columns {dropped} dropped as asked")
    for n in sampler.notes_:
        console.print(f"[yellow]note[/yellow]: {n}")
    console.print(
        f"{len(res.frame):,} rows ({sampler.n_synthetic_:,} new, after the "
        f"{res.n_input_rows:,} originals) written to {out}"
    )


@app.command("augment-study")
def augment_study_cmd(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/Parquet/DuckDB file or SQLAlchemy URL.")
    ],
    target: Annotated[str, typer.Option(help="Class column to predict.")],
    repeats: Annotated[int, typer.Option(help="Seeds per method (>= 20 for real CIs).")] = 20,
    methods: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: none, class_weight, smote, smotenc, smoten, borderline, "
            "adasyn, generative, hybrid, generative:<synthesizer>, hybrid:<synthesizer>, "
            "augment:<synthesizer> (default: all but smotenc/smoten, augment:copula)."
        ),
    ] = None,
    synthesizers: Annotated[
        str | None,
        typer.Option(
            help="Extra synthesizers to augment and oversample with (augment:NAME and "
            "generative:NAME), e.g. autoregressive,ctgan (slow on CPU)."
        ),
    ] = None,
    full: Annotated[bool, typer.Option(help="Run the full-data comparison.")] = True,
    small: Annotated[bool, typer.Option(help="Run the small-data protocol (960 rows).")] = True,
    ratio: Annotated[float, typer.Option(help="Oversamplers: minority / majority after.")] = 1.0,
    k_neighbors: Annotated[int, typer.Option(help="SMOTE family: neighbours.")] = 5,
    positive: Annotated[
        str | None, typer.Option(help="Class F1/AUC are about (default: the smallest).")
    ] = None,
    classifier: Annotated[str, typer.Option(help="hgb, or lightgbm / xgboost if installed.")] = (
        "hgb"
    ),
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples (full-data CIs).")] = 300,
    drop: Annotated[
        list[str] | None, typer.Option(help="Leave these columns out (comma-separated).")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON.")] = (
        None
    ),
    seed: Annotated[int, typer.Option(help="First seed.")] = 0,
    jobs: Annotated[
        int, typer.Option(help="Processes to run seeds in (same results; 2 on a 2-core box).")
    ] = 1,
    table: Annotated[str | None, typer.Option(help="Table name (DuckDB / SQL input).")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query (DuckDB / SQL input).")] = None,
) -> None:
    """Does oversampling or synthetic augmentation help a classifier on DATA? Measured on real
    held-out rows, repeated over seeds, with 95% CIs and a verdict."""
    wf.check_writable(report, json_out)
    df = read_input(data, table, query)
    ms = wf.study_methods(methods, synthesizers)
    with progress() as prog:
        t = prog.add_task("augment-study", total=wf.study_steps(ms, repeats, full, small) + 1)
        result = wf.run_augment_study(
            df,
            target,
            methods=ms,
            repeats=repeats,
            full=full,
            small=small,
            ratio=ratio,
            k_neighbors=k_neighbors,
            positive=wf.positive_label(df, target, positive),
            classifier=classifier,
            n_boot=n_boot,
            drop=drop,
            random_state=seed,
            n_jobs=jobs,
            progress=lambda s: prog.update(t, advance=1, description=s),
        )
    _print(result)
    for what, path in wf.write_study(result, json_out, report):
        console.print(f"{what} written to {path}")


def _ci(m: float, lo: float, hi: float) -> str:
    if m != m:  # NaN
        return ""
    if lo != lo:
        return f"{m:+.4f}"
    style = "green" if lo > 0 else ("red" if hi < 0 else "")
    txt = f"{m:+.4f} [{lo:+.4f}, {hi:+.4f}]"
    return f"[{style}]{txt}[/{style}]" if style else txt


def _print(result) -> None:  # type: ignore[no-untyped-def]
    if result.full is not None:
        tab = Table(title=f"Full data: real holdout, {len(result.seeds)} seeds (95% CI)")
        for col in ("method", "minority F1", "F1 vs none", "AUC", "AUC vs none", "s/seed"):
            tab.add_column(col, justify="left" if col == "method" else "right")
        for m, r in result.full.iterrows():
            tab.add_row(
                str(m),
                f"{r['f1']:.4f}",
                _ci(r["f1_diff"], r["f1_diff_lower"], r["f1_diff_upper"]) if m != "none" else "",
                f"{r['auc']:.4f}",
                _ci(r["auc_diff"], r["auc_diff_lower"], r["auc_diff_upper"]) if m != "none" else "",
                f"{r['seconds']:.1f}",
            )
        console.print(tab)
    if result.small is not None:
        tab = Table(title=f"Small data: real never-drawn rows, {len(result.seeds)} seeds (95% CI)")
        for col in ("method", "AUC", "AUC vs none", "AUC vs none (240 held out)", "F1 vs none"):
            tab.add_column(col, justify="left" if col == "method" else "right")
        for m, r in result.small.iterrows():
            tab.add_row(
                str(m),
                f"{r['auc_rest']:.4f}",
                _ci(r["auc_diff_rest"], r["auc_diff_rest_lower"], r["auc_diff_rest_upper"])
                if m != "none"
                else "",
                _ci(
                    r["auc_diff_holdout"],
                    r["auc_diff_holdout_lower"],
                    r["auc_diff_holdout_upper"],
                )
                if m != "none"
                else "",
                _ci(r["f1_diff_rest"], r["f1_diff_rest_lower"], r["f1_diff_rest_upper"])
                if m != "none"
                else "",
            )
        console.print(tab)
    for n in result.notes:
        console.print(f"[yellow]note[/yellow]: {n}")
    console.print(f"[bold]verdict[/bold]: {result.verdict}", highlight=False)
    console.print(f"({result.seconds:.0f} s)")
