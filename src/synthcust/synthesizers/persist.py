"""Model files: one zip holding ``synthcust.json`` (metadata) and ``arrays.npz`` (NumPy arrays).

Never pickle: arrays are read with ``allow_pickle=False`` and metadata is plain JSON, so loading a
model file from an untrusted source cannot run code. Files are written atomically.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from synthcust._threads import AST_LOCK
from synthcust.exceptions import ModelFileError

FORMAT = "synthcust-model"
FORMAT_VERSION = 1


def save_bundle(
    path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]
) -> Path:
    """Write ``meta`` and ``arrays`` to ``path`` atomically."""
    from synthcust.io.atomic import atomic_write_bytes

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        header = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
        arr_buf = io.BytesIO()
        np.savez(arr_buf, **{k: np.asarray(v) for k, v in arrays.items()})
        # fixed timestamps: the same model always gives the same bytes
        for name, data in (
            ("synthcust.json", json.dumps(header, indent=1, default=_json_default).encode()),
            ("arrays.npz", arr_buf.getvalue()),
        ):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    dest = Path(path)
    atomic_write_bytes(dest, buf.getvalue())
    return dest


def load_bundle(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file; raise :class:`ModelFileError` if it is not a valid one."""
    p = Path(path)
    if not p.exists():
        raise ModelFileError(
            f"model file {str(p)!r} does not exist; create it with `synthcust fit`"
        )
    try:
        with zipfile.ZipFile(p) as zf:
            header = json.loads(zf.read("synthcust.json"))
            arrays_raw = zf.read("arrays.npz")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError) as e:
        raise ModelFileError(
            f"{str(p)!r} is not a readable synthcust model (corrupt or another format: {e}); "
            "re-create it with `synthcust fit`"
        ) from e
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{str(p)!r} is not a synthcust model file")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(p)!r} was written by a newer synthcust (model format {version}, this one reads "
            f"up to {FORMAT_VERSION}); upgrade synthcust to load it"
        )
    try:
        with AST_LOCK, np.load(io.BytesIO(arrays_raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}  # headers parsed by ast.literal_eval
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{str(p)!r}: the model's arrays are corrupt ({e}); re-fit") from e
    return header, arrays


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
