"""Streaming multipart upload: the body goes to disk chunk by chunk, with size and type limits.

The request body is never held in memory: each chunk the client sends is fed to a streaming
multipart parser (``python-multipart``) whose data callback appends to a temporary file under
the service's data folder. The limit is enforced while reading (an oversized upload is cut off
with 413 as soon as it passes the limit, and up front from ``Content-Length``). The client's
file name is only shown to users: the file on disk gets a generated name, so no uploaded name
can become a path. Any failure -- a limit, a bad type, a client that disconnects mid-upload --
deletes the temporary file, and nothing is registered.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

__all__ = ["FORMATS", "Upload", "UploadError", "receive_upload"]

#: extension -> (format, accepted part content types; "" = the client sent none)
FORMATS: dict[str, tuple[str, frozenset[str]]] = {
    ".csv": ("csv", frozenset({"text/csv", "text/plain", "application/csv", "",
                               "application/vnd.ms-excel", "application/octet-stream"})),
    ".tsv": ("csv", frozenset({"text/tab-separated-values", "text/plain", "text/csv", "",
                               "application/octet-stream"})),
    ".parquet": ("parquet", frozenset({"application/vnd.apache.parquet", "application/x-parquet",
                                       "application/octet-stream", ""})),
}  # fmt: skip
_SLACK = 64 * 1024  # multipart headers and boundaries around the file


class UploadError(Exception):
    """An upload refused with an HTTP status (413, 415, 400)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Upload:
    path: Path  # the temporary file (generated name) holding the bytes
    filename: str  # the client's name, for display only
    extension: str
    format: str
    size: int


def display_name(name: str) -> str:
    """The client's file name reduced to a harmless label (no folders, no control chars)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable())[:200].strip()
    return base or "upload"


class _FilePart:
    """The multipart parser's callbacks: stream the ``file`` field into an open file."""

    def __init__(self, fh: BinaryIO, max_bytes: int):
        self.fh, self.max_bytes = fh, max_bytes
        self.headers: dict[str, bytes] = {}
        self.field, self.value = b"", b""
        self.in_file = False
        self.size = 0
        self.filename: str | None = None
        self.ext: str | None = None
        self.error: UploadError | None = None

    def callbacks(self) -> Any:  # python_multipart's MultipartCallbacks (a TypedDict)
        return {
            "on_part_begin": self.on_part_begin, "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished, "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }  # fmt: skip

    def on_part_begin(self) -> None:
        self.headers, self.in_file = {}, False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.field.decode("latin-1").lower()] = self.value
        self.field, self.value = b"", b""

    def on_headers_finished(self) -> None:
        _, disp = parse_options_header(self.headers.get("content-disposition", b""))
        if disp.get(b"name") != b"file" or b"filename" not in disp:
            return
        if self.filename is not None:
            self.error = UploadError(400, "send one file per upload")
            return
        name = disp[b"filename"].decode("utf-8", "replace")
        ext = os.path.splitext(name.lower())[1]
        self.filename, self.ext = display_name(name), ext
        self.error = _format_error(name, ext, self.headers.get("content-type", b""))
        self.in_file = self.error is None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.in_file or self.error is not None:
            return
        self.size += end - start
        if self.size > self.max_bytes:
            self.error = UploadError(413, f"the upload is larger than the limit of "
                                          f"{_mb(self.max_bytes)}")  # fmt: skip
            return
        self.fh.write(data[start:end])

    def on_part_end(self) -> None:
        self.in_file = False


def _format_error(name: str, ext: str, content_type: bytes) -> UploadError | None:
    """Why a file part of this name and content type is refused (None: accepted)."""
    if ext not in FORMATS:
        return UploadError(
            415, f"{display_name(name)!r}: only {', '.join(FORMATS)} files can be uploaded"
        )
    part_type = parse_options_header(content_type)[0].decode()
    if part_type not in FORMATS[ext][1]:
        return UploadError(
            415, f"{display_name(name)!r} was sent as {part_type!r}, which is not a "
            f"{FORMATS[ext][0]} content type",
        )  # fmt: skip
    return None


async def _chunks(request: Request, timeout: float | None) -> AsyncIterator[bytes]:
    """The body's chunks; a client silent for ``timeout`` seconds gets a 408."""
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), timeout)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise UploadError(408, f"the upload stalled: no data for {timeout:g} s") from None
        yield chunk


async def receive_upload(
    request: Request, folder: Path, max_bytes: int, *, read_timeout: float | None = 30.0
) -> Upload:
    """Stream the ``file`` field of a multipart request into ``folder``; see the module docs.

    ``read_timeout`` bounds the wait for each chunk, so stalled clients cannot hold the upload
    slots (the service allows a few uploads at once) for ever.
    """
    ctype, opts = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in opts:
        raise UploadError(415, "send the file as multipart/form-data with a 'file' field")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes + _SLACK:
        raise UploadError(413, f"the upload is larger than the limit of {_mb(max_bytes)}")
    boundary = opts[b"boundary"]
    if not 1 <= len(boundary) <= 200:  # RFC 2046: 1-70 characters; the parser fails past 256
        raise UploadError(400, f"malformed multipart body: a boundary of {len(boundary)} "
                          "characters (RFC 2046 allows 1 to 70)")  # fmt: skip
    tmp = Path(folder) / f".upload-{secrets.token_hex(8)}.part"
    # 0600: an upload holds real people's data; created before anything can fail in between
    fh = os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    ok = False
    try:
        part = _FilePart(fh, max_bytes)
        parser = MultipartParser(boundary, part.callbacks())
    except Exception as e:
        fh.close()
        tmp.unlink(missing_ok=True)
        raise UploadError(400, f"malformed multipart body: {e}") from None
    try:
        total = 0
        async for chunk in _chunks(request, read_timeout):  # ClientDisconnect propagates
            total += len(chunk)
            if total > max_bytes + _SLACK:
                raise UploadError(413, f"the upload is larger than the limit of {_mb(max_bytes)}")
            try:
                parser.write(chunk)
            except Exception as e:  # the parser's own errors: a malformed body
                raise UploadError(400, f"malformed multipart body: {e}") from None
            if part.error is not None:
                raise part.error
        parser.finalize()
        if part.filename is None or part.ext is None:
            raise UploadError(400, "no file in the upload: send it in a field named 'file'")
        fh.close()
        _check_magic(tmp, part.ext, part.filename)
        ok = True
        fmt = FORMATS[part.ext][0]
        return Upload(tmp, part.filename, part.ext, fmt, part.size)
    finally:
        fh.close()
        if not ok:
            tmp.unlink(missing_ok=True)


def _check_magic(path: Path, ext: str, name: str) -> None:
    """The bytes must match the extension: Parquet starts with PAR1, CSV is text."""
    with open(path, "rb") as f:
        head = f.read(65536)
    if not head:
        raise UploadError(400, f"{name!r} is empty")
    if ext == ".parquet":
        if not head.startswith(b"PAR1"):
            raise UploadError(415, f"{name!r} is not a Parquet file (no PAR1 header)")
    elif b"\x00" in head or head.startswith(b"PAR1"):
        raise UploadError(415, f"{name!r} is not a text CSV file (it holds binary bytes)")


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"
