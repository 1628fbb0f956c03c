"""read_table: one entry point for CSV, Parquet, DuckDB and SQL sources.

Every failure is a :class:`~synthcust.exceptions.ReadError` naming the source and saying what
to do; pandas/DuckDB/SQLAlchemy errors are translated, never passed through raw.
"""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.exceptions import ReadError
from synthcust.io.databases import provenance, read_duckdb, read_sql, shown
from synthcust.io.sniff import (
    DELIMITER_NAMES,
    TextSniff,
    is_url,
    record_start_line,
    require_file,
    sniff_format,
    sniff_text,
)

__all__ = ["read_table"]

PROVENANCE_KEY = "synthcust_source"
_FIELDS_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF_QUOTE_RE = re.compile(r"EOF inside string starting at row (\d+)")


def read_table(
    source: str | os.PathLike[str],
    *,
    table: str | None = None,
    query: str | None = None,
    limit: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> pd.DataFrame:
    """Read a table from a CSV, Parquet, DuckDB file or SQL database URL.

    Parameters
    ----------
    source : str or PathLike
        A file (``.csv``/``.tsv``/``.txt``, optionally ``.gz``; ``.parquet``/``.pq`` or a
        directory of them; ``.duckdb``/``.ddb``; anything else is sniffed from its bytes) or a
        SQLAlchemy URL such as ``"sqlite:///shop.db"`` or ``"postgresql://u@host/db"``.
    table, query : str, optional
        For DuckDB and SQL sources: the table to read, or a SELECT to run (not both). With
        neither, a database holding exactly one table is read.
    limit : int, optional
        Read at most this many rows (pushed down to the source). ``0`` returns the columns only.
    encoding, delimiter : str, optional
        CSV only: override the sniffed text encoding or delimiter.

    Returns
    -------
    pandas.DataFrame
        With a fresh RangeIndex and ``df.attrs["synthcust_source"]`` recording the path,
        format, delimiter and encoding actually used.

    Raises
    ------
    ReadError
        If the source is missing, empty, binary, ragged, has duplicate column names, no data
        rows, an unreadable encoding, or the table/query cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.csv"
    >>> _ = p.write_text("id;city\\n1;Lyon\\n2;Köln\\n", encoding="cp1252")
    >>> df = read_table(p)
    >>> df["city"].tolist(), df.attrs["synthcust_source"]["encoding"]
    (['Lyon', 'Köln'], 'cp1252')
    """
    if table is not None and query is not None:
        raise ReadError(
            f"{shown(source)}: pass either table= or query=, not both (to filter a table, "
            "write the filter into the query)."
        )
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ReadError(f"limit must be a non-negative integer or None, got {limit!r}.")
    # Fetch at least one row even for limit=0, so "no rows at all" is still detected.
    fetch = None if limit is None else max(limit, 1)
    if is_url(source):
        df, prov = read_sql(str(source), table, query, fetch)
    else:
        path = require_file(source)
        fmt = sniff_format(path)
        if fmt in ("csv", "parquet") and (table is not None or query is not None):
            raise ReadError(
                f"{path} is a {fmt.upper()} file: table= and query= apply only to DuckDB and "
                "SQL sources. Drop them, or load the file into DuckDB first."
            )
        if fmt != "csv" and (encoding is not None or delimiter is not None):
            raise ReadError(f"{path}: encoding= and delimiter= apply only to CSV files.")
        if fmt == "csv":
            df, prov = _read_csv(path, fetch, encoding, delimiter)
        elif fmt == "parquet":
            df, prov = _read_parquet(path, fetch)
        elif fmt == "duckdb":
            df, prov = read_duckdb(path, table, query, fetch)
        else:  # sqlite, recognised from its bytes
            df, prov = read_sql(f"sqlite:///{path}", table, query, fetch)
            prov.update(path=os.path.abspath(path), format="sqlite")
    return _finish(df, prov, limit)


def _finish(df: pd.DataFrame, prov: dict[str, Any], limit: int | None) -> pd.DataFrame:
    where = prov["path"]
    if prov.get("table") is not None:
        where = f"table {prov['table']!r} in {where}"
    names = pd.Index(df.columns)
    dups = names[names.duplicated()].unique()
    if len(dups):
        raise ReadError(
            f"{where} has duplicate column names: {', '.join(map(repr, dups))}. Rename them so "
            "every column name is unique (in a query, use AS)."
        )
    if len(df) == 0 and limit != 0:
        if prov["format"] == "csv":
            raise ReadError(
                f"{where} has a header but no data rows (columns: {', '.join(map(str, names))}). "
                "Add data rows, or point to the file that holds them."
            )
        what = "the query returned" if prov.get("query") else "it has"
        raise ReadError(f"{where}: {what} columns but no rows. There is nothing to learn from.")
    if limit == 0:
        df = df.iloc[:0]
    index = df.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        # A named index (e.g. Parquet written with customer_id as index) is data: keep it as
        # columns. An unnamed one is only a leftover row number.
        df = df.reset_index(drop=all(n is None for n in index.names))
    df.attrs[PROVENANCE_KEY] = prov
    return df


# --------------------------------------------------------------------------------------- CSV


def _ragged(path: Path, line: int, saw: int, expected: int, delimiter: str, empty: bool) -> str:
    name = DELIMITER_NAMES.get(delimiter, repr(delimiter))
    hint = (
        "The extra fields are empty: if every row ends with a trailing delimiter, remove it "
        "or add a column name for it to the header."
        if empty
        else f"Usually a value holds an unquoted {name}: put that value in double quotes, "
        "or fix the row."
    )
    return (
        f"{path}: line {line} has {saw} fields but the header has {expected} "
        f"(delimiter: {name}). {hint}"
    )


def _check_header(path: Path, sn: TextSniff) -> None:
    header = pd.Index(sn.header, dtype=object)
    dup_mask = header.duplicated(keep=False) & (header != "")
    if dup_mask.any():
        # Read the raw header: pandas would silently rename the second 'a' to 'a.1'.
        positions = pd.Series(range(1, len(header) + 1))[dup_mask].groupby(header[dup_mask])
        listed = "; ".join(
            f"{name!r} (columns {', '.join(map(str, pos))})" for name, pos in positions
        )
        raise ReadError(
            f"{path} has duplicate column names in its header: {listed}. Rename them so every "
            "column name is unique, then read the file again."
        )
    if sn.first_row is not None and len(sn.first_row) > len(sn.header):
        # Checked here because pandas does not raise for the first data row: it silently
        # turns the first column into the index (or, with index_col=False, drops fields).
        extra = sn.first_row[len(sn.header) :]
        raise ReadError(
            _ragged(
                path,
                sn.first_row_line or 2,
                len(sn.first_row),
                len(sn.header),
                sn.delimiter,
                empty=not any(extra),
            )
        )


def _read_csv(
    path: Path, fetch: int | None, encoding: str | None, delimiter: str | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    sn = sniff_text(path, encoding=encoding, delimiter=delimiter)
    _check_header(path, sn)
    # A UTF-8 guess rests on the sample; a file whose first accented character comes late is
    # usually Windows-1252, so that is the one retry.
    candidates = [sn.encoding] + (["cp1252"] if encoding is None and sn.encoding == "utf-8" else [])
    for enc in candidates:
        try:
            df = pd.read_csv(
                path,
                sep=sn.delimiter,
                encoding=enc,
                compression=sn.compression,
                skipinitialspace=True,  # raw UCI files write "a, b, c"
                index_col=False,  # never promote the first column to the index
                low_memory=False,  # one dtype inference over the whole column, not per chunk
                nrows=fetch,
                engine="c",
            )
            break
        except UnicodeDecodeError as exc:
            if enc == candidates[-1]:
                bad = exc.object[exc.start : exc.start + 1].hex()
                raise ReadError(
                    f"{path}: unreadable text encoding: byte 0x{bad} is not valid "
                    f"{' nor '.join(candidates)}. Re-save the file as UTF-8, or pass its "
                    "encoding, e.g. encoding='latin-1'."
                ) from exc
        except pd.errors.ParserError as exc:
            raise ReadError(_parser_message(path, sn, enc, str(exc))) from exc
        except pd.errors.EmptyDataError as exc:
            raise ReadError(
                f"{path} is empty: there is nothing to read. Export the table again with a "
                "header row and data rows."
            ) from exc
        except (OSError, EOFError, zlib.error) as exc:
            raise ReadError(
                f"{path} cannot be read to the end ({exc}). If it is gzip-compressed it is "
                "probably truncated: download or export it again."
            ) from exc
    prov = provenance(path, "csv", delimiter=sn.delimiter, encoding=enc, compression=sn.compression)
    return df, prov


def _parser_message(path: Path, sn: TextSniff, encoding: str, msg: str) -> str:
    if m := _FIELDS_RE.search(msg):
        expected, record, saw = map(int, m.groups())
        line = record_start_line(path, sn, encoding, record) or record
        return _ragged(path, line, saw, expected, sn.delimiter, empty=False)
    if m := _EOF_QUOTE_RE.search(msg):
        line = record_start_line(path, sn, encoding, int(m.group(1)) + 1) or int(m.group(1)) + 1
        return (
            f"{path}: a quoted value starting on line {line} is never closed, so the rest of "
            "the file was read as one value. Look for a stray '\"' there and double it ('\"\"')."
        )
    return f"{path} cannot be parsed as CSV (delimiter {sn.delimiter!r}): {msg.strip()}"


# ------------------------------------------------------------------------------- Parquet


def _read_parquet(path: Path, fetch: int | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        # The dataset API reads a file or a partitioned directory alike and, with head(),
        # decodes only the row groups the limit needs.
        dataset = ds.dataset(path, format="parquet")
        arrow = dataset.to_table() if fetch is None else dataset.head(fetch)
        df = arrow.to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReadError(
            f"{path} cannot be read as Parquet ({exc}). Check it is a complete Parquet file "
            "(a .parquet name on a CSV file is a common cause)."
        ) from exc
    return df, provenance(path, "parquet")
