"""Limits on what a read may take in: decompressed bytes, rows, columns, characters per cell.

A file's size on disk says little: a 630 KB gzip can hold 25 million rows, a 175 KB zstd
Parquet 20 million. :func:`synthcust.io.read_table` therefore counts what it *decodes*, while it
streams, and stops at the first limit crossed with a :class:`LimitError` that names the limit,
the value found and how to raise it. The library's defaults are generous (a laptop's worth);
the HTTP service sets tighter ones from its ``serve --max-*`` flags.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from typing import Any, Protocol

from synthcust.exceptions import ReadError

__all__ = ["DEFAULT_LIMITS", "BoundedReader", "LimitError", "ReadLimits"]


class LimitError(ReadError):
    """A source is larger than a read limit allows (HTTP 413 in the service)."""


#: How each limit is raised, per face (shown in the error message).
_HOW = {
    "max_bytes": ("max_bytes", "--max-read-mb"),
    "max_rows": ("max_rows", "--max-rows"),
    "max_columns": ("max_columns", "--max-columns"),
    "max_cell_chars": ("max_cell_chars", "--max-cell-chars"),
}


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds on one read; ``None`` switches a bound off.

    Parameters
    ----------
    max_bytes : int or None, default 8 GiB
        Decompressed bytes of a CSV, or uncompressed bytes of a Parquet source.
    max_rows : int or None, default 200,000,000
        Data rows.
    max_columns : int or None, default 10,000
        Columns.
    max_cell_chars : int or None, default 100,000,000
        Characters in one text cell.
    """

    max_bytes: int | None = 8 * 2**30
    max_rows: int | None = 200_000_000
    max_columns: int | None = 10_000
    max_cell_chars: int | None = 100_000_000

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{f.name} must be a positive whole number or None, got {v!r}")

    def refuse(self, where: Any, name: str, found: str) -> LimitError:
        """The error for ``where`` crossing limit ``name`` (``found`` says by how much)."""
        param, flag = _HOW[name]
        limit = getattr(self, name)
        shown = f"{limit / 2**20:g} MB" if name == "max_bytes" else f"{limit:,}"
        return LimitError(
            f"{where}: {found}, over the read limit of {shown} ({name}). Read a sample (limit= "
            f"rows), split the data, or raise the limit: ReadLimits({param}=...) in Python, "
            f"{flag} for the service."
        )


DEFAULT_LIMITS = ReadLimits()


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class BoundedReader(io.RawIOBase):
    """A binary stream that counts what it hands out and stops past ``max_bytes``.

    Wraps a (possibly decompressing) stream so that a decompression bomb costs at most the
    limit, whatever the compressed size. ``check_nul`` also refuses NUL bytes found past the
    sniffed sample (a binary file with a text-looking head).
    """

    def __init__(
        self, raw: _Readable, limits: ReadLimits, where: Any, *, check_nul: bool = True
    ) -> None:
        super().__init__()
        self._raw = raw
        self._limits = limits
        self._where = where
        self._check_nul = check_nul
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._raw.read(len(b))
        n = len(data)
        self.count += n
        cap = self._limits.max_bytes
        if cap is not None and self.count > cap:
            raise self._limits.refuse(
                self._where, "max_bytes", f"more than {cap / 2**20:g} MB once decompressed"
            )
        if self._check_nul and b"\x00" in data:
            raise ReadError(
                f"{self._where} holds NUL bytes past its first lines: it is binary, not CSV. "
                "Export the data as CSV text, Parquet or DuckDB."
            )
        b[:n] = data
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()
