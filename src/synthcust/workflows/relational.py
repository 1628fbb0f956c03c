"""Related tables as every face runs them: fit, sample and evaluate customers -> orders (-> lines).

What ``synthcust relational fit|sample|evaluate`` run. Tables are named by their file names
(``data/orders.csv`` is table ``orders``), which is how relationships refer to them
(``orders.customer_id=customers.customer_id``).

1. :func:`fit_relational` - read the tables, learn them with
   :class:`~synthcust.synthesizers.multi_table.relational.RelationalSynthesizer`, save one model
   file (kind ``"relational"``);
2. :func:`sample_relational` - draw synthetic parents with their children, one file per table;
3. :func:`evaluate_relational_files` - compare synthetic tables with the real (and holdout)
   ones and write the report (HTML + JSON beside it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from synthcust.evaluation.relational import RelationalReport, evaluate_relational
from synthcust.exceptions import DataError
from synthcust.io import read_table, write_table
from synthcust.reporting.relational import write_relational_report
from synthcust.synthesizers.multi_table.relational import RelationalSynthesizer

__all__ = [
    "SAMPLE_FORMATS",
    "evaluate_relational_files",
    "fit_relational",
    "read_tables",
    "sample_relational",
    "table_name",
]

#: file formats :func:`sample_relational` writes
SAMPLE_FORMATS = ("csv", "csv.gz", "parquet")


def table_name(path: str | os.PathLike[str]) -> str:
    """A table's name: its file name without the extension(s).

    Examples
    --------
    >>> table_name("data/orders.csv.gz")
    'orders'
    """
    name = Path(path).name
    for ext in (".gz", ".csv", ".tsv", ".parquet", ".pq", ".duckdb"):
        name = name.removesuffix(ext)
    return name


def read_tables(paths: Sequence[str | os.PathLike[str]]) -> dict[str, pd.DataFrame]:
    """Read each file as a table named by :func:`table_name`; two files of one name is an error."""
    out: dict[str, pd.DataFrame] = {}
    for p in paths:
        name = table_name(p)
        if name in out:
            raise DataError(
                f"two tables are both named {name!r} (from their file names); rename one file"
            )
        out[name] = read_table(str(p))
    return out


def fit_relational(
    paths: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    relationships: Sequence[str] | None = None,
    order_by: Mapping[str, str | None] | None = None,
    drop_orphans: bool = False,
    parent_synthesizer: str = "copula",
    random_state: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RelationalSynthesizer:
    """Learn the tables in ``paths`` (parent first) and save the model to ``out``.

    Parameters
    ----------
    paths
        The parent table, its child and optionally the grandchild (CSV/Parquet files).
    out
        The model file to write.
    relationships
        ``CHILD.COLUMN=PARENT.COLUMN`` texts; ``None`` detects them.
    order_by
        Table -> the datetime column ordering its rows (``None``: the rows' order).
    drop_orphans
        Leave out child rows whose parent key is unknown (else they are an error).
    parent_synthesizer
        Registry name of the root table's model.
    random_state
        Seed.
    progress
        Called with a description before each step.

    Returns
    -------
    RelationalSynthesizer
        The fitted model (saved at ``out``).
    """
    step = progress or (lambda _s: None)
    step("reading tables")
    tables = read_tables(paths)
    step("fitting")
    model = RelationalSynthesizer(
        relationships=list(relationships) if relationships else None,
        order_by={k: (v or None) for k, v in (order_by or {}).items()},
        parent_synthesizer=parent_synthesizer,
        orphans="drop" if drop_orphans else "error",
        random_state=random_state,
    ).fit(tables)
    model.save(out)
    step("done")
    return model


def sample_relational(
    model_path: str | os.PathLike[str],
    parents: int,
    out: str | os.PathLike[str],
    *,
    random_state: int | None = None,
    fmt: str = "csv",
) -> list[tuple[str, int, Path]]:
    """Draw ``parents`` synthetic parents with their children; one file per table in ``out``.

    Returns
    -------
    list of (str, int, Path)
        Each table's name, number of rows and file.
    """
    if fmt not in SAMPLE_FORMATS:
        raise DataError(f"--format must be csv, csv.gz or parquet, got {fmt!r}")
    if parents <= 0:
        raise DataError(f"--parents must be a positive number, got {parents}")
    model = RelationalSynthesizer.load(model_path)
    tables = model.sample(parents, random_state=random_state)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is a file; give a folder for the synthetic tables")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in tables.items():
        dest = folder / f"{name}.{fmt}"
        write_table(df, dest)
        written.append((name, len(df), dest))
    return written


def evaluate_relational_files(
    model_path: str | os.PathLike[str],
    real: Sequence[str],
    synthetic: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    holdout: Sequence[str] | None = None,
    amount: str | None = None,
    product: str | None = None,
) -> tuple[RelationalReport, Path, Path]:
    """Compare the synthetic tables in folder ``synthetic`` with the ``real`` files (and the
    ``holdout`` files, same order) and write the report to ``out`` (HTML, JSON beside it).

    Returns
    -------
    tuple
        The report, the HTML file and the JSON file.
    """
    model = RelationalSynthesizer.load(model_path)
    names = list(model.tables_)
    real_t = read_tables(real)
    missing = [n for n in names if n not in real_t]
    if missing:
        raise DataError(
            f"--real has no table {missing} (named by file name); the model knows {names}"
        )
    hold_t = None
    if holdout:
        if len(holdout) != len(real):
            raise DataError("give one --holdout file per --real file, in the same order")
        hold_t = {table_name(r): read_table(h) for r, h in zip(real, holdout, strict=True)}
    syn_t = {}
    folder = Path(synthetic)
    for n in names:
        found = [p for p in sorted(folder.glob(f"{n}.*")) if p.is_file()]
        if not found:
            raise DataError(f"no synthetic table {n!r} in {folder}; run `relational sample`")
        syn_t[n] = read_table(str(found[0]))
    rep = evaluate_relational(
        real_t, syn_t, model.spec_, holdout=hold_t, amount=amount, product=product
    )
    html, js = write_relational_report(rep, out)
    return rep, html, js
