"""Tell what a source is before reading it: format, compression, encoding, delimiter.

Only a bounded sample is looked at (64 KiB, grown up to 16 MiB when the header and first data
row do not fit), so sniffing costs the same for a 1 KB and a 10 GB file.
"""

from __future__ import annotations

import codecs
import collections
import csv
import gzip
import io
import itertools
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from synthcust.exceptions import ReadError

__all__ = [
    "CSV_DELIMITERS",
    "TextSniff",
    "first_records",
    "is_url",
    "record_start_line",
    "require_file",
    "sniff_delimiter",
    "sniff_format",
    "sniff_text",
]

CSV_DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma ','", ";": "semicolon ';'", "\t": "tab", "|": "pipe '|'"}
CSV_SUFFIXES = frozenset({".csv", ".tsv", ".tab", ".txt"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
DUCKDB_SUFFIXES = frozenset({".duckdb", ".ddb"})

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
SQLITE_MAGIC = b"SQLite format 3\x00"
DUCKDB_MAGIC = b"DUCK"  # DuckDB files carry it at byte offset 8

_FIRST_SAMPLE = 64 * 1024
_MAX_SAMPLE = 16 * 1024 * 1024
_SNIFFER_CHARS = 20_000  # csv.Sniffer is regex-heavy; more text buys nothing but time
_ROWS_FOR_DELIMITER = 50

_BINARY_STARTS = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one: save it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file such as .xls (save it as CSV)"),
    (PARQUET_MAGIC, "a Parquet file (name it .parquet)"),
    (SQLITE_MAGIC, "an SQLite database (read it with 'sqlite:///path' and table=)"),
)
# Bytes that do not occur in text. Tab, newlines, form feed, vertical tab and 0x1A (the old
# DOS end-of-file mark some exports still append) are allowed.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 26)) + b"\x7f"


@dataclass(frozen=True)
class TextSniff:
    """What sniffing a delimited text file found."""

    compression: str | None
    encoding: str
    delimiter: str
    header: list[str]
    first_row: list[str] | None
    first_row_line: int | None


def is_url(source: object) -> bool:
    """Return True if ``source`` is a database URL such as ``sqlite:///x.db``."""
    return isinstance(source, str) and "://" in source


def require_file(source: str | os.PathLike[str]) -> Path:
    """Return ``source`` as a Path, raising ReadError if there is nothing to read there."""
    path = Path(source).expanduser()
    if not path.exists():
        raise ReadError(
            f"{path}: file not found. Check the path (relative paths start from {Path.cwd()})."
        )
    if not os.access(path, os.R_OK):
        raise ReadError(f"{path}: permission denied. Check the file's permissions.")
    return path


def _read_head(path: Path, n: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except FileNotFoundError:
        raise ReadError(f"{path}: file not found. Check the path.") from None
    except OSError as exc:
        raise ReadError(f"{path}: cannot be opened ({exc.strerror or exc}).") from exc


def sniff_format(source: str | os.PathLike[str]) -> str:
    """Return the format of ``source``: 'csv', 'parquet', 'duckdb', 'sqlite' or 'sql'.

    The extension decides when it is known (``.gz`` is looked through); otherwise the first
    bytes do (Parquet, SQLite and DuckDB magic numbers; anything else, gzip included, is CSV).

    Examples
    --------
    >>> sniff_format("customers.csv.gz"), sniff_format("sqlite:///shop.db")
    ('csv', 'sql')
    """
    if is_url(source):
        return "sql"
    path = Path(source).expanduser()
    if path.is_dir():
        return "parquet"  # a directory is read as a Parquet dataset (one file per partition)
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    ext = suffixes[-1] if suffixes else ""
    if ext in CSV_SUFFIXES:
        return "csv"
    if ext in PARQUET_SUFFIXES:
        return "parquet"
    if ext in DUCKDB_SUFFIXES:
        return "duckdb"
    head = _read_head(path, 16)
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    return "csv"


def _read_sample(path: Path, size: int, gz: bool) -> tuple[bytes, bool]:
    """Return up to ``size`` (decompressed) bytes and whether they are the whole file."""
    try:
        with gzip.open(path, "rb") if gz else open(path, "rb") as fh:
            data = fh.read(size + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ReadError(
            f"{path} is gzip-compressed but cannot be decompressed ({exc}). The file is "
            "probably truncated or damaged: download or export it again."
        ) from exc
    return data[:size], len(data) <= size


def _binary_reason(raw: bytes) -> str | None:
    for magic, what in _BINARY_STARTS:
        if raw.startswith(magic):
            return f"it starts like {what}"
    if b"\x00" in raw:
        # UTF-16 text without a byte-order mark has a NUL in every other byte.
        half = max(1, len(raw) // 2)
        if raw[1::2].count(0) > 0.4 * half or raw[0::2].count(0) > 0.4 * half:
            return "it looks like UTF-16 text without a byte-order mark; pass encoding='utf-16-le'"
        return "it contains NUL bytes"
    n_control = len(raw) - len(raw.translate(None, _CONTROL_BYTES))
    if n_control > max(1, len(raw) // 100):
        return f"{n_control} of its first {len(raw)} bytes are control characters"
    return None


def _detect_encoding(raw: bytes, at_eof: bool, path: Path) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # Incremental, so a multi-byte character cut by the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=at_eof)
        return "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc
    try:
        # Windows-1252 is Latin-1 plus letters in 0x80-0x9F; the bytes it leaves undefined
        # are C1 control codes in Latin-1, which no real text holds: such a file is neither.
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        raise ReadError(_undecodable(path, "UTF-8 nor Windows-1252/Latin-1", first_bad)) from None


def _undecodable(path: Path, tried: str, exc: UnicodeDecodeError) -> str:
    bad = exc.object[exc.start : exc.start + 1]
    return (
        f"{path}: unreadable text encoding: it is not {tried} (byte 0x{bad.hex()} cannot be "
        "decoded). Re-save the file as UTF-8, or pass its encoding, e.g. "
        "encoding='shift_jis' or encoding='latin-1'."
    )


def _decode(raw: bytes, encoding: str, at_eof: bool, path: Path) -> str:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(raw, final=at_eof)
    except UnicodeDecodeError as exc:
        raise ReadError(_undecodable(path, encoding, exc)) from None


def first_records(text: str, delimiter: str, n: int) -> list[tuple[int, list[str]]]:
    """Return up to ``n`` non-blank records of ``text`` as (starting line, fields)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    out: list[tuple[int, list[str]]] = []
    try:
        while len(out) < n:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if row not in ([], [""]):  # pandas skips blank lines; so do we
                out.append((start, row))
    except csv.Error:
        pass  # a malformed tail of the sample; what was parsed before it is still good
    return out


def sniff_delimiter(text: str) -> str:
    """Return the delimiter among ``,`` ``;`` tab ``|`` that splits ``text`` most consistently.

    csv.Sniffer alone guesses wrong on short or quote-heavy samples, so its answer only breaks
    ties between candidates that give every row the same number (>= 2) of fields as the header.
    """
    try:
        sniffed: str | None = (
            csv.Sniffer().sniff(text[:_SNIFFER_CHARS], delimiters="".join(CSV_DELIMITERS)).delimiter
        )
    except csv.Error:
        sniffed = None
    best: tuple[tuple[float, bool, int], str] | None = None
    for delim in CSV_DELIMITERS:
        counts = [len(row) for _, row in first_records(text, delim, _ROWS_FOR_DELIMITER)]
        if not counts or counts[0] < 2:
            continue
        key = (counts.count(counts[0]) / len(counts), delim == sniffed, counts[0])
        if best is None or key > best[0]:
            best = (key, delim)
    if best is not None:
        return best[1]
    return sniffed or ","


def sniff_text(
    path: Path, *, encoding: str | None = None, delimiter: str | None = None
) -> TextSniff:
    """Sniff compression, encoding, delimiter, header and first data row of a text file.

    Raises
    ------
    ReadError
        If the file is empty, binary, damaged gzip or in an unreadable encoding.
    """
    user_wide = False
    if encoding is not None:
        try:
            user_wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
        except LookupError:
            raise ReadError(
                f"{path}: unknown encoding {encoding!r}. Pass a Python codec name such as "
                "'utf-8', 'cp1252' or 'latin-1'."
            ) from None
    gz = _read_head(path, 2) == GZIP_MAGIC
    size = _FIRST_SAMPLE
    while True:
        raw, at_eof = _read_sample(path, size, gz)
        # UTF-16 text is full of NUL bytes: only judge "binary" for byte-oriented encodings.
        if not (user_wide or raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))):
            reason = _binary_reason(raw)
            if reason is not None:
                raise ReadError(
                    f"{path} looks binary, not CSV: {reason}. read_table reads CSV/TSV text, "
                    "Parquet, DuckDB and SQL sources: export the data to one of those."
                )
        enc = encoding or _detect_encoding(raw, at_eof, path)
        text = _decode(raw, enc, at_eof, path)
        if at_eof and not text.strip():
            what = "0 bytes" if not raw else "only whitespace"
            raise ReadError(
                f"{path} is empty ({what}): there is nothing to read. Export the table again "
                "with a header row and data rows."
            )
        if not at_eof and "\n" in text:
            text = text[: text.rfind("\n") + 1]  # drop the line the sample cut in two
        delim = delimiter or sniff_delimiter(text)
        records = first_records(text, delim, 3)
        # Header and first data row must be whole (the third record may be cut short).
        if at_eof or len(records) >= 3 or size >= _MAX_SAMPLE:
            break
        size *= 4
    header = records[0][1] if records else []
    first = records[1] if len(records) > 1 else None
    return TextSniff(
        compression="gzip" if gz else None,
        encoding=enc,
        delimiter=delim,
        header=header,
        first_row=first[1] if first else None,
        first_row_line=first[0] if first else None,
    )


def record_start_line(path: Path, sniffed: TextSniff, encoding: str, record: int) -> int | None:
    """Return the physical line where 1-based ``record`` starts, or None if it cannot be told.

    pandas numbers records, not lines, in its errors; they differ once a quoted field spans
    lines. Only called on the error path.
    """
    try:
        opener = gzip.open if sniffed.compression else open
        with opener(path, "rt", encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=sniffed.delimiter, skipinitialspace=True)
            # Consume record-1 records in C, without a Python-level loop.
            collections.deque(itertools.islice(reader, record - 1), maxlen=0)
            return reader.line_num + 1
    except (OSError, EOFError, zlib.error, csv.Error, UnicodeDecodeError):
        return None
