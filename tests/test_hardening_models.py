"""Issue 20, item 5: hostile model files are refused before anything large is allocated."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from synthcust._utils.persist import ARRAYS_MEMBER, META_MEMBER, load_bundle, save_bundle
from synthcust.exceptions import ModelFileError


def _model_with(arrays_member: bytes, tmp_path, *, meta: dict | None = None):
    p = tmp_path / "m.synthcust"
    header = {"format": "synthcust", "format_version": 2, "kind": "synthesizer", **(meta or {})}
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(META_MEMBER, json.dumps(header))
        zf.writestr(ARRAYS_MEMBER, arrays_member)
    return p


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_a_normal_bundle_round_trips(tmp_path) -> None:
    arrays = {"w": np.arange(10.0), "s": np.array(["x"])}
    p = save_bundle(tmp_path / "ok.synthcust", {"a": 1}, arrays)
    meta, arrays = load_bundle(p, kind="synthesizer")
    assert meta["a"] == 1 and arrays["w"].sum() == 45 and arrays["s"][0] == "x"


def test_an_expanding_member_is_refused_unread(tmp_path) -> None:
    p = _model_with(b"\0" * 300_000_000, tmp_path)  # ~300 KB on disk, 300 MB inside
    assert p.stat().st_size < 1_000_000
    with pytest.raises(ModelFileError, match="would expand to"):
        load_bundle(p)


def test_a_lying_array_header_is_refused_before_allocation(tmp_path) -> None:
    # declare a shape of 10**12 doubles over the 32 bytes that are there
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        hdr, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    member = hdr.getvalue() + b"\0" * 32
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("w.npy", member)
    p = _model_with(buf.getvalue(), tmp_path)
    with pytest.raises(ModelFileError, match=r"declares shape \(1000000000000,\)"):
        load_bundle(p)


def test_pickled_arrays_and_newer_or_odd_versions_are_model_file_errors(tmp_path) -> None:
    buf = io.BytesIO()
    np.savez(buf, o=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError, match="pickled objects"):
        load_bundle(_model_with(buf.getvalue(), tmp_path))
    p = tmp_path / "v.synthcust"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(META_MEMBER, json.dumps({"format": "synthcust", "format_version": "1"}))
        zf.writestr(ARRAYS_MEMBER, _npz())
    with pytest.raises(ModelFileError, match="model format '1'"):
        load_bundle(p)
