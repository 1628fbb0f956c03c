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
    with pytest.raises(ModelFileError, match="invalid model format version '1'"):
        load_bundle(p)


def _rewrite(src, dst, edit) -> None:
    """Copy model file ``src`` to ``dst`` with its header and arrays edited by ``edit``."""
    with zipfile.ZipFile(src) as zf:
        meta = json.loads(zf.read(META_MEMBER))
        with np.load(io.BytesIO(zf.read(ARRAYS_MEMBER))) as npz:
            arrays = {k: npz[k] for k in npz.files}
    edit(meta, arrays)
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr(META_MEMBER, json.dumps(meta))
        zf.writestr(ARRAYS_MEMBER, _npz(**arrays))


@pytest.fixture(scope="module")
def copula_file(tmp_path_factory):
    import pandas as pd

    from synthcust.synthesizers import REGISTRY

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=200), "b": rng.choice(["x", "y"], 200)})
    path = tmp_path_factory.mktemp("cop") / "c.synthcust"
    REGISTRY["copula"](random_state=0).fit(df).save(path)
    return path


@pytest.mark.parametrize(
    ("setting", "value"), [("gibbs_sweeps", 10**9), ("gibbs_sweeps", "30"), ("threads", 100_000)]
)
def test_crafted_settings_are_refused_on_load(tmp_path, copula_file, setting, value) -> None:
    from synthcust.synthesizers.base import BaseSynthesizer

    bad = tmp_path / "bad.synthcust"
    _rewrite(copula_file, bad, lambda meta, arrays: meta["params"].__setitem__(setting, value))
    with pytest.raises(ModelFileError, match=f"setting {setting}="):
        BaseSynthesizer.load(bad)


def test_a_nan_correlation_matrix_is_refused_not_sampled(tmp_path, copula_file) -> None:
    from synthcust.synthesizers.base import BaseSynthesizer

    def poison(meta, arrays):
        arrays["corr"] = np.full_like(arrays["corr"], np.nan)

    bad = tmp_path / "nan.synthcust"
    _rewrite(copula_file, bad, poison)
    with pytest.raises(ModelFileError, match="NaN"):
        BaseSynthesizer.load(bad)


def test_an_autoregressive_file_cannot_make_us_build_a_huge_network(tmp_path) -> None:
    pytest.importorskip("torch")
    import pandas as pd

    from synthcust.synthesizers import REGISTRY
    from synthcust.synthesizers.base import BaseSynthesizer

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    good = tmp_path / "ar.synthcust"
    REGISTRY["autoregressive"](epochs=1, random_state=0).fit(df).save(good)
    bad = tmp_path / "huge.synthcust"
    _rewrite(good, bad, lambda meta, arrays: meta["state"].__setitem__("hidden", 60_000))
    with pytest.raises(ModelFileError, match="need at least"):
        BaseSynthesizer.load(bad)
    assert len(BaseSynthesizer.load(good).sample(5)) == 5
