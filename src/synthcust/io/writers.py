"""write_table: CSV, Parquet and DuckDB outputs, always written atomically.

A destination is either left exactly as it was or replaced by the complete new file: every
format is written to a temporary file in the same directory, fsynced, then renamed.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import secrets
import shutil
from pathlib import Path

import pandas as pd

from synthcust.exceptions import WriteError
from synthcust.io.atomic import atomic_path, resolve_dest
from synthcust.io.csvsafe import line_end, neutralise_formulas
from synthcust.io.sniff import CSV_SUFFIXES, DUCKDB_SUFFIXES, PARQUET_SUFFIXES, is_url

__all__ = ["DEFAULT_TABLE", "write_table"]

DEFAULT_TABLE = "synthetic"
_FORMAT_ALIASES = {
    "csv": ("csv", False),
    "tsv": ("csv", False),
    "csv.gz": ("csv", True),
    "tsv.gz": ("csv", True),
    "parquet": ("parquet", False),
    "pq": ("parquet", False),
    "duckdb": ("duckdb", False),
    "ddb": ("duckdb", False),
}


def write_table(
    df: pd.DataFrame,
    dest: str | os.PathLike[str],
    *,
    table: str | None = None,
    format: str | None = None,
    overwrite: bool = True,
    raw_csv: bool = False,
) -> Path:
    """Write ``df`` to a CSV (optionally gzipped), Parquet or DuckDB file, atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame to write; its index is not written (synthcust frames carry a RangeIndex).
    dest : str or PathLike
        Output file; its directory must exist. The format follows the extension (``.csv``,
        ``.tsv``, ``.csv.gz``, ``.parquet``/``.pq``, ``.duckdb``/``.ddb``) unless ``format``
        is given.
    table : str, optional
        DuckDB only: the table to create or replace (default ``"synthetic"``). Other tables in
        an existing database file are kept.
    format : {"csv", "tsv", "csv.gz", "parquet", "duckdb"}, optional
        Overrides the extension.
    overwrite : bool, default True
        If False, refuse to replace an existing file; for DuckDB, refuse to replace an
        existing *table* (adding a new table to an existing database is allowed).
    raw_csv : bool, default False
        CSV/TSV only: write text cells exactly as they are. By default a text cell or header
        starting with ``= + - @``, a tab or a carriage return gets a ``'`` in front so that a
        spreadsheet never runs it as a formula (:mod:`synthcust.io.csvsafe`).

    Returns
    -------
    pathlib.Path
        The path written (symlinks resolved).

    Raises
    ------
    WriteError
        Naming the destination and the cause; the previous file, if any, is unchanged.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "synthetic.csv.gz"
    >>> write_table(pd.DataFrame({"a": [1, 2]}), out).name
    'synthetic.csv.gz'
    """
    if not isinstance(df, pd.DataFrame):
        raise WriteError(f"write_table needs a pandas DataFrame, got {type(df).__name__}.")
    if is_url(dest):
        raise WriteError(
            f"cannot write to {str(dest).split('@')[-1]}: database URLs cannot be replaced "
            "atomically, so write_table does not write them. Write a .duckdb, .parquet or .csv "
            "file instead."
        )
    fmt, gz, sep = _resolve_format(dest, format)
    if table is not None and fmt != "duckdb":
        raise WriteError(f"{dest}: table= applies only to DuckDB outputs, not {fmt.upper()}.")
    names = pd.Index(df.columns)
    dups = names[names.duplicated()].unique()
    if len(dups):
        raise WriteError(
            f"cannot write {dest}: duplicate column names {', '.join(map(repr, dups))} could "
            "not be read back. Rename them first."
        )
    target = resolve_dest(dest)
    if fmt == "duckdb":
        return _write_duckdb(df, target, table or DEFAULT_TABLE, overwrite)
    try:
        with atomic_path(target, overwrite=overwrite) as tmp:
            if fmt == "csv":
                _write_csv(df if raw_csv else neutralise_formulas(df), tmp, sep=sep, gz=gz)
            else:
                df.to_parquet(tmp, engine="pyarrow", index=False)
    except WriteError:
        raise
    except Exception as exc:
        raise WriteError(_failed(target, fmt, exc)) from exc
    return target


def _failed(target: Path, fmt: str, exc: BaseException) -> str:
    return (
        f"could not write {target} as {fmt.upper()}: {type(exc).__name__}: {exc}. The "
        "previous file, if any, is unchanged."
    )


def _resolve_format(dest: str | os.PathLike[str], format: str | None) -> tuple[str, bool, str]:
    """Return (format, gzip?, CSV separator) from ``format`` or the extension of ``dest``."""
    name = Path(dest).name.lower()
    gz = name.endswith(".gz")
    ext = Path(name[:-3] if gz else name).suffix
    if format is not None:
        key = format.lower().lstrip(".")
        if key not in _FORMAT_ALIASES:
            raise WriteError(
                f"{dest}: unknown format {format!r}. Use one of "
                f"{', '.join(map(repr, _FORMAT_ALIASES))}."
            )
        fmt, forced_gz = _FORMAT_ALIASES[key]
        gz = gz or forced_gz
        tab = key.startswith("tsv") or ext in (".tsv", ".tab")
    elif ext in CSV_SUFFIXES:
        fmt, tab = "csv", ext in (".tsv", ".tab")
    elif ext in PARQUET_SUFFIXES:
        fmt, tab = "parquet", False
    elif ext in DUCKDB_SUFFIXES:
        fmt, tab = "duckdb", False
    else:
        raise WriteError(
            f"cannot tell the format of {dest} from its extension: use .csv, .csv.gz, .tsv, "
            ".parquet or .duckdb, or pass format=."
        )
    if gz and fmt != "csv":
        raise WriteError(
            f"{dest}: gzip applies to CSV only ({fmt} files are compressed internally). Drop "
            "the .gz."
        )
    return fmt, gz, "\t" if tab else ","


def _write_csv(df: pd.DataFrame, tmp: Path, *, sep: str, gz: bool) -> None:
    # Python's csv module quotes a field only for the characters of the line terminator: with
    # "\n" a cell holding "\r" would be written bare and read back as two rows. Such frames are
    # written with "\r\n" line ends, which makes every "\r" field quoted.
    end = line_end(df)
    with open(tmp, "wb") as raw:
        if gz:
            # mtime=0 and no file name in the gzip header: the same frame always gives the
            # same bytes (pandas would embed the random temp-file name and the clock).
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh:
                df.to_csv(fh, sep=sep, index=False, encoding="utf-8", lineterminator=end)
        else:
            df.to_csv(raw, sep=sep, index=False, encoding="utf-8", lineterminator=end)


def _duckdb_existing(target: Path, table: str, overwrite: bool) -> None:
    """Check an existing database can be copied (valid, not locked) and may take ``table``."""
    import duckdb

    wal = target.with_name(target.name + ".wal")
    has_wal = wal.exists()
    try:
        # With a write-ahead log present, open read-write so DuckDB folds it into the main
        # file (its own crash-safe recovery): a byte copy of the main file is then complete.
        con = duckdb.connect(str(target), read_only=not has_wal)
    except duckdb.Error as exc:
        raise WriteError(
            f"cannot write table {table!r} into {target}: DuckDB cannot open it ({exc}). If "
            "another program has it open, close it; if it is not a DuckDB file, choose another "
            "name."
        ) from exc
    try:
        if has_wal:
            con.execute("CHECKPOINT")
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = "
            "current_database() AND table_schema = 'main' AND lower(table_name) = lower(?)",
            [table],
        ).fetchone()
    finally:
        con.close()
    if exists and exists[0] and not overwrite:
        raise WriteError(
            f"{target} already has a table {table!r} and overwrite=False. Pass "
            "overwrite=True to replace it, or choose another table name."
        )


def _write_duckdb(df: pd.DataFrame, target: Path, table: str, overwrite: bool) -> Path:
    import duckdb

    existed = target.exists()
    if existed:
        _duckdb_existing(target, table, overwrite)
    quoted = '"' + table.replace('"', '""') + '"'
    try:
        # overwrite=existed: a file that appears meanwhile is someone else's; don't clobber it.
        with atomic_path(target, overwrite=existed) as tmp:
            side_files = [Path(f"{tmp}.wal"), Path(f"{tmp}.tmp")]  # DuckDB's log and spill dir
            try:
                if existed:
                    shutil.copyfile(target, tmp)  # every other table comes along unchanged
                else:
                    tmp.unlink()  # DuckDB refuses an existing empty file as a database
                con = duckdb.connect(str(tmp))
                try:
                    view = f"__synthcust_frame_{secrets.token_hex(4)}"
                    con.register(view, df)
                    con.execute(f'CREATE OR REPLACE TABLE {quoted} AS SELECT * FROM "{view}"')
                    con.unregister(view)
                    con.execute("CHECKPOINT")  # everything into the main file before the rename
                finally:
                    con.close()
            except BaseException:
                for side in side_files:
                    with contextlib.suppress(OSError):
                        if side.is_dir():
                            shutil.rmtree(side)
                        else:
                            side.unlink(missing_ok=True)
                raise
    except WriteError:
        raise
    except Exception as exc:
        raise WriteError(_failed(target, "duckdb", exc)) from exc
    return target
