"""read_table: one entry point for CSV, Parquet, DuckDB and SQL sources.

Every failure is a :class:`~synthcust.exceptions.ReadError` naming the source and saying what
to do; pandas/DuckDB/SQLAlchemy errors are translated, never passed through raw.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import warnings
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.exceptions import ReadError
from synthcust.io.databases import provenance, read_duckdb, read_sql, shown
from synthcust.io.limits import DEFAULT_LIMITS, BoundedReader, ReadLimits
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
    limits: ReadLimits | None = None,
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
    limits : ReadLimits, optional
        Bounds on decompressed bytes, rows, columns and characters per cell, enforced while
        reading (default :data:`synthcust.io.limits.DEFAULT_LIMITS`, generous).

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
    LimitError
        If the source crosses one of ``limits`` (a :class:`ReadError`), naming the limit.

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
    lim = DEFAULT_LIMITS if limits is None else limits
    # Fetch at least one row even for limit=0, so "no rows at all" is still detected.
    fetch = None if limit is None else max(limit, 1)
    if lim.max_rows is not None and (fetch is None or fetch > lim.max_rows):
        fetch = lim.max_rows + 1  # one more than allowed: enough to tell it was crossed
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
            df, prov = _read_csv(path, fetch, encoding, delimiter, lim)
        elif fmt == "parquet":
            df, prov = _read_parquet(path, fetch, lim)
        elif fmt == "duckdb":
            df, prov = read_duckdb(path, table, query, fetch)
        else:  # sqlite, recognised from its bytes
            df, prov = read_sql(f"sqlite:///{path}", table, query, fetch)
            prov.update(path=os.path.abspath(path), format="sqlite")
    _check_limits(df, prov, lim)
    return _finish(df, prov, limit)


def _check_limits(df: pd.DataFrame, prov: dict[str, Any], lim: ReadLimits) -> None:
    where = prov["path"]
    if lim.max_rows is not None and len(df) > lim.max_rows:
        raise lim.refuse(where, "max_rows", f"more than {lim.max_rows:,} rows")
    if lim.max_columns is not None and df.shape[1] > lim.max_columns:
        raise lim.refuse(where, "max_columns", f"{df.shape[1]:,} columns")
    if lim.max_cell_chars is None:
        return
    for i, col in enumerate(df.columns):
        s = df.iloc[:, i]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            text = s if isinstance(s.dtype, pd.StringDtype) else s.astype("string")
            longest = text.str.len().max()
            if pd.notna(longest) and int(longest) > lim.max_cell_chars:
                raise lim.refuse(
                    where, "max_cell_chars", f"column {col!r} has a cell of {int(longest):,} "
                    "characters"
                )  # fmt: skip


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


def _open_bounded(path: Path, sn: TextSniff, enc: str, lim: ReadLimits) -> io.BufferedReader:
    raw = gzip.open(path, "rb") if sn.compression == "gzip" else open(path, "rb")  # noqa: SIM115
    wide = codecs.lookup(enc).name.startswith(("utf-16", "utf-32"))  # NUL bytes are text there
    return io.BufferedReader(BoundedReader(raw, lim, path, check_nul=not wide), 1 << 20)


def _read_csv(
    path: Path, fetch: int | None, encoding: str | None, delimiter: str | None, lim: ReadLimits
) -> tuple[pd.DataFrame, dict[str, Any]]:
    sn = sniff_text(path, encoding=encoding, delimiter=delimiter)
    if lim.max_columns is not None and len(sn.header) > lim.max_columns:
        raise lim.refuse(path, "max_columns", f"{len(sn.header):,} columns in the header")
    _check_header(path, sn)
    # A UTF-8 guess rests on the sample; a file whose first accented character comes late is
    # usually Windows-1252, so that is the one retry.
    candidates = [sn.encoding] + (["cp1252"] if encoding is None and sn.encoding == "utf-8" else [])
    for enc in candidates:
        try:
            with _open_bounded(path, sn, enc, lim) as stream, warnings.catch_warnings():
                # pandas only *warns* when rows are wider than the header and drops the extra
                # fields: that loses data, so it is an error here
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = pd.read_csv(
                    stream,
                    sep=sn.delimiter,
                    encoding=enc,
                    skipinitialspace=True,  # raw UCI files write "a, b, c"
                    index_col=False,  # never promote the first column to the index
                    low_memory=False,  # one dtype inference over the whole column
                    nrows=fetch,
                    engine="c",
                )
            break
        except ReadError:
            raise
        except pd.errors.ParserWarning as exc:
            raise ReadError(
                f"{path}: some rows have more fields than the header ({exc}); the extra values "
                "would be lost. Add the missing column names to the header, or remove the "
                "stray delimiters."
            ) from exc
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


def _parquet_precheck(path: Path, dataset: Any, fetch: int | None, lim: ReadLimits) -> None:
    """Refuse from the metadata alone: nested columns, too wide, too many bytes to decode."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    nested = [f.name for f in dataset.schema if pa.types.is_nested(f.type)]
    if nested:
        raise ReadError(
            f"{path}: column(s) {', '.join(map(repr, nested[:5]))} are nested (struct, list or "
            "map), which a customer table cannot hold. Flatten them into plain columns, or "
            "store them as JSON text."
        )
    if lim.max_columns is not None and len(dataset.schema) > lim.max_columns:
        raise lim.refuse(path, "max_columns", f"{len(dataset.schema):,} columns")
    if lim.max_bytes is None:
        return
    total, rows = 0, 0
    for f in dataset.files:
        meta = pq.read_metadata(f)
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i)
            total += rg.total_byte_size  # uncompressed
            rows += rg.num_rows
            if fetch is not None and rows >= fetch:
                break
    if total > lim.max_bytes:
        raise lim.refuse(
            path, "max_bytes", f"{total / 2**20:,.0f} MB once decompressed (per its metadata)"
        )


def _bounded_arrow(path: Path, dataset: Any, fetch: int | None, lim: ReadLimits) -> Any:
    """The dataset's rows as one Arrow table, decoded batch by batch and counted as it goes.

    The metadata's sizes are those of the *encoded* pages (a column of zeros is a few bytes of
    run-length code), so the decoded size is only known while decoding.
    """
    import pyarrow as pa

    if fetch is not None and lim.max_bytes is None:
        return dataset.head(fetch)
    batches, rows, size = [], 0, 0
    for batch in dataset.to_batches(batch_size=16_384):
        if fetch is not None and rows + batch.num_rows > fetch:
            batch = batch.slice(0, fetch - rows)
        batches.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if lim.max_bytes is not None and size > lim.max_bytes:
            raise lim.refuse(
                path, "max_bytes", f"more than {lim.max_bytes / 2**20:g} MB once decompressed"
            )
        if fetch is not None and rows >= fetch:
            break
    return pa.Table.from_batches(batches, schema=dataset.schema)


def _read_parquet(
    path: Path, fetch: int | None, lim: ReadLimits
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        # The dataset API reads a file or a partitioned directory alike and, with head(),
        # decodes only the row groups the limit needs.
        dataset = ds.dataset(path, format="parquet")
        _parquet_precheck(path, dataset, fetch, lim)
        arrow = _bounded_arrow(path, dataset, fetch, lim)
        df = arrow.to_pandas()
        # durations (pandas timedelta) become seconds: a number the models understand
        for col in df.columns[[pd.api.types.is_timedelta64_dtype(t) for t in df.dtypes]]:
            df[col] = df[col].dt.total_seconds()
    except ReadError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReadError(
            f"{path} cannot be read as Parquet ({exc}). Check it is a complete Parquet file "
            "(a .parquet name on a CSV file is a common cause)."
        ) from exc
    return df, provenance(path, "parquet")
