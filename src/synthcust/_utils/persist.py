"""The one model file format: a zip of ``synthcust.json`` (metadata) and ``arrays.npz`` (arrays).

Every learnable object in synthcust (synthesizers, the relational model, oversamplers, the
persona segmenter, choice and journey models, the knowledge index) saves through
:func:`save_bundle` and loads through :func:`load_bundle`. The JSON header carries one tag
scheme::

    {"format": "synthcust", "format_version": 2, "kind": "synthesizer", ...}

``kind`` names what the file holds; a loader passes the kind(s) it accepts and gets a clear
:class:`~synthcust.exceptions.ModelFileError` for anything else: another kind, a file from a
newer synthcust (a higher ``format_version``), a pickle, an object array, a corrupt zip.

Never pickle: arrays are read with ``allow_pickle=False`` and metadata is plain JSON, so loading a
model file from an untrusted source cannot run code. Files are written atomically and privately
(mode 0600). Files of the first format (``"format": "synthcust-model"``, version 1) still load as
``kind="synthesizer"`` (or ``"relational"`` when their metadata says so).

>>> import tempfile, pathlib, numpy as np
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.synthcust"
>>> _ = save_bundle(p, {"answer": 42}, {"w": np.arange(3)}, kind="example")
>>> meta, arrays = load_bundle(p, kind="example")
>>> meta["answer"], meta["kind"], arrays["w"].tolist()
(42, 'example', [0, 1, 2])
>>> load_bundle(p, kind="choice")
Traceback (most recent call last):
...
synthcust.exceptions.ModelFileError: ... holds a 'example' model, not a 'choice' model; ...
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from synthcust._utils.threads import AST_LOCK
from synthcust.exceptions import ModelFileError
from synthcust.io.atomic import atomic_write_bytes

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "load_bundle",
    "peek_kind",
    "save_bundle",
]

FORMAT = "synthcust"
FORMAT_VERSION = 2
#: the first format's tag: such files hold one synthesizer (or the relational model)
LEGACY_FORMAT = "synthcust-model"
META_MEMBER = "synthcust.json"
ARRAYS_MEMBER = "arrays.npz"


def save_bundle(
    path: str | os.PathLike,
    meta: dict[str, Any],
    arrays: dict[str, np.ndarray],
    *,
    kind: str = "synthesizer",
) -> Path:
    """Write ``meta`` and ``arrays`` as a model file of ``kind`` at ``path``, atomically.

    Parameters
    ----------
    path
        Destination file; written through a temporary file and renamed, mode 0600.
    meta
        JSON-serialisable metadata (NumPy scalars and arrays are converted).
    arrays
        Named numeric or string arrays; object arrays are refused (they would need pickle).
    kind
        What the file holds, checked again by :func:`load_bundle`.

    Returns
    -------
    Path
        The path written.
    """
    if not kind or not isinstance(kind, str):
        raise ValueError(f"kind must be a non-empty string, got {kind!r}")
    packed: dict[str, np.ndarray] = {}
    for k, v in arrays.items():
        a = np.asarray(v)
        if a.dtype == object:
            raise ModelFileError(
                f"array {k!r} has dtype object, which cannot be saved without pickle; "
                "convert it to numbers or fixed-width strings (np.asarray(x, dtype=str))"
            )
        packed[k] = a
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind, **meta}
    header["kind"] = kind
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        arr_buf = io.BytesIO()
        np.savez(arr_buf, **packed)  # type: ignore[arg-type]  # numpy stubs: allow_pickle
        # fixed timestamps: the same model always gives the same bytes
        for name, data in (
            (META_MEMBER, json.dumps(header, indent=1, default=_json_default).encode()),
            (ARRAYS_MEMBER, arr_buf.getvalue()),
        ):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    dest = Path(path)
    atomic_write_bytes(dest, buf.getvalue(), private=True)  # what was learnt from real rows
    return dest


#: Largest metadata member read (JSON header of a model file).
MAX_META_BYTES = 256 * 2**20
#: How much a model file's arrays may expand over their compressed size, past a fixed slack.
#: Models synthcust writes expand 1-20x; a "1 MB file that becomes 2.3 GB" is refused unread.
MAX_EXPANSION = 200
_SLACK_BYTES = 64 * 2**20


#: What reading a damaged or crafted model's fields can raise; loaders turn them into
#: :class:`ModelFileError` (a field of the wrong type, a shape that does not fit, a size that
#: cannot be allocated, a structure nested too deep).
CORRUPT_MODEL_ERRORS: tuple[type[BaseException], ...] = (
    KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, MemoryError,
    RecursionError, RuntimeError, ZeroDivisionError, np.linalg.LinAlgError,
)  # fmt: skip


def _arrays_cap(zf: zipfile.ZipFile, p: Path) -> int:
    info = zf.getinfo(ARRAYS_MEMBER)
    return MAX_EXPANSION * max(info.compress_size, 1) + _SLACK_BYTES


def _bounded_member(zf: zipfile.ZipFile, name: str, cap: int, p: Path) -> bytes:
    """Read member ``name`` (checked against ``cap`` before and while reading)."""
    info = zf.getinfo(name)
    if info.file_size > cap:
        raise ModelFileError(
            f"{str(p)!r}: member {name!r} would expand to {info.file_size / 2**20:,.0f} MB "
            f"(limit {cap / 2**20:,.0f} MB for a file this size); it is not a model synthcust "
            "wrote. Refusing to load it"
        )
    with zf.open(info) as fh:
        data = fh.read(cap + 1)  # the declared size can lie: never read past the cap
    if len(data) > cap:
        raise ModelFileError(f"{str(p)!r}: member {name!r} is larger than it declares; refusing")
    return data


def _checked_arrays(raw: bytes, p: Path) -> dict[str, np.ndarray]:
    """The arrays of the inner ``.npz``, each header checked against its member's size first.

    A hostile header can declare a shape of terabytes over a few bytes of data: the shape and
    dtype are read and compared with the bytes actually there before anything is allocated.
    """
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(io.BytesIO(raw)) as inner:
        for info in inner.infolist():
            if info.file_size > len(raw) * MAX_EXPANSION + _SLACK_BYTES:
                raise ModelFileError(f"{str(p)!r}: array {info.filename!r} is oversized")
            with AST_LOCK, inner.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                else:
                    shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
                header_len = fh.tell()
            if dtype.hasobject:
                raise ValueError(f"array {info.filename!r} holds pickled objects")
            need = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            if need != info.file_size - header_len:
                raise ModelFileError(
                    f"{str(p)!r}: array {info.filename!r} declares shape {shape} of {dtype} "
                    f"({need:,} bytes) but holds {info.file_size - header_len:,}; the file is "
                    "corrupt or crafted. Refusing to load it"
                )
            with AST_LOCK, inner.open(info) as fh:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
            out[info.filename.removesuffix(".npy")] = arr
    return out


def _read_header(p: Path) -> tuple[dict[str, Any], bytes]:
    if not p.exists():
        raise ModelFileError(
            f"model file {str(p)!r} does not exist; create it with `synthcust fit`"
        )
    if p.is_dir():
        raise ModelFileError(f"{str(p)!r} is a folder, not a synthcust model file")
    try:
        with zipfile.ZipFile(p) as zf:
            header = json.loads(_bounded_member(zf, META_MEMBER, MAX_META_BYTES, p))
            arrays_raw = _bounded_member(zf, ARRAYS_MEMBER, _arrays_cap(zf, p), p)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError,
            zlib.error, EOFError, NotImplementedError) as e:  # fmt: skip
        raise ModelFileError(
            f"{str(p)!r} is not a readable synthcust model (corrupt or another format: {e}); "
            "re-create it with the command that made it"
        ) from e
    if not isinstance(header, dict):
        raise ModelFileError(f"{str(p)!r} is not a synthcust model file")
    fmt = header.get("format")
    version = header.get("format_version")
    if fmt == LEGACY_FORMAT and version == 1:
        header = dict(header)
        legacy = header.get("synthesizer") == "relational"
        header["kind"] = "relational" if legacy else "synthesizer"
        return header, arrays_raw
    if fmt != FORMAT:
        raise ModelFileError(f"{str(p)!r} is not a synthcust model file (format {fmt!r})")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(
            f"{str(p)!r} has an invalid model format version {version!r} (a whole number is "
            "expected); the file is damaged or was not written by synthcust"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(p)!r} was written by a newer synthcust (model format {version!r}, this one "
            f"reads up to {FORMAT_VERSION}); upgrade synthcust to load it"
        )
    if not isinstance(header.get("kind"), str):
        raise ModelFileError(f"{str(p)!r} has no model kind in its header; re-create it")
    return header, arrays_raw


def peek_kind(path: str | os.PathLike) -> str:
    """The kind of model a file holds (``"synthesizer"``, ``"choice"``, ...), without its arrays.

    Raises
    ------
    ModelFileError
        When ``path`` is not a readable synthcust model file.
    """
    header, _ = _read_header(Path(path))
    return str(header["kind"])


def load_bundle(
    path: str | os.PathLike, *, kind: str | Iterable[str] | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file; raise :class:`ModelFileError` if it is not a valid one of ``kind``.

    Parameters
    ----------
    path
        The model file.
    kind
        The kind (or kinds) the caller accepts; ``None`` accepts any.

    Returns
    -------
    tuple of dict and dict
        The metadata (with ``kind`` and ``format_version``) and the arrays.
    """
    p = Path(path)
    header, arrays_raw = _read_header(p)
    if kind is not None:
        accepted = (kind,) if isinstance(kind, str) else tuple(kind)
        if header["kind"] not in accepted:
            want = " or ".join(repr(k) for k in accepted)
            raise ModelFileError(
                f"{str(p)!r} holds a {header['kind']!r} model, not a {want} model; "
                "pass a file made by the matching command"
            )
    try:
        arrays = _checked_arrays(arrays_raw, p)  # headers parsed by ast.literal_eval (locked)
    except ModelFileError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, KeyError, SyntaxError, zlib.error, EOFError,
            NotImplementedError, MemoryError) as e:  # fmt: skip
        raise ModelFileError(
            f"{str(p)!r}: the model's arrays are corrupt or hold pickled objects ({e}); re-fit"
        ) from e
    return header, arrays


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
