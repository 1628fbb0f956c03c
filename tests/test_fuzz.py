"""Issue 20: a fuzz suite over the readers, schema inference and model loading.

Every input either works or fails with the library's own typed error (``ReadError``,
``DataError``, ``ModelFileError``): never an untyped exception, a hang or unbounded memory.
Small budgets here (CI); raise ``FUZZ_EXAMPLES`` to run longer locally.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthcust._utils.persist import ARRAYS_MEMBER, META_MEMBER
from synthcust.exceptions import DataError, ReadError, SynthcustError
from synthcust.io import ReadLimits, read_table
from synthcust.privacy.pii_schema import infer_schema_with_pii
from synthcust.schema.infer import infer_schema
from synthcust.synthesizers.fitted import fit_model, load_model

N = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=N,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LIMITS = ReadLimits(max_bytes=8 * 2**20, max_rows=100_000, max_columns=500)

CSV_CHARS = st.sampled_from(list('abc019 ,;\t|"\'\n\r\\=-@.éß\x00\x1a€'))
csv_text = st.lists(CSV_CHARS, min_size=0, max_size=400).map("".join)


def _read(path) -> None:
    with contextlib.suppress(ReadError):
        read_table(path, limits=LIMITS)


@FUZZ
@given(text=csv_text, gz=st.booleans(), enc=st.sampled_from(["utf-8", "cp1252", "utf-16"]))
def test_csv_reader_never_raises_untyped(tmp_path, text: str, gz: bool, enc: str) -> None:
    data = text.encode(enc, errors="replace")
    p = tmp_path / "f.csv"
    p.write_bytes(gzip.compress(data) if gz else data)
    _read(p)


@FUZZ
@given(blob=st.binary(min_size=0, max_size=2_000), suffix=st.sampled_from([".csv", ".tsv", ""]))
def test_arbitrary_bytes_never_raise_untyped(tmp_path, blob: bytes, suffix: str) -> None:
    p = tmp_path / f"f{suffix}"
    p.write_bytes(blob)
    _read(p)


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    df = pd.DataFrame({"a": np.arange(50), "b": ["x", "y"] * 25, "c": np.linspace(0, 1, 50)})
    pq.write_table(pa.Table.from_pandas(df), buf)
    return buf.getvalue()


PARQUET = _parquet_bytes()


@FUZZ
@given(
    cut=st.integers(min_value=0, max_value=len(PARQUET)),
    flips=st.lists(st.tuples(st.integers(0, len(PARQUET) - 1), st.integers(0, 255)), max_size=8),
)
def test_damaged_parquet_never_raises_untyped(tmp_path, cut: int, flips) -> None:
    data = bytearray(PARQUET)
    for at, byte in flips:
        data[at] = byte
    p = tmp_path / "f.parquet"
    p.write_bytes(bytes(data[:cut]) if cut < len(data) else bytes(data))
    _read(p)


cells = st.one_of(
    st.none(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=True),
    st.text(max_size=30), st.booleans(),
)  # fmt: skip


@FUZZ
@given(cols=st.dictionaries(st.text(min_size=1, max_size=12), st.lists(cells, min_size=3,
                                                                         max_size=3),
                            min_size=1, max_size=5))  # fmt: skip
def test_schema_inference_never_raises_untyped(cols) -> None:
    df = pd.DataFrame(cols)
    with contextlib.suppress(DataError):
        infer_schema_with_pii(df)


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory) -> bytes:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(18, 80, 200), "plan": rng.choice(["a", "b"], 200),
                       "spend": rng.gamma(2, 20, 200).round(2)})  # fmt: skip
    path = tmp_path_factory.mktemp("m") / "m.synthcust"
    fit_model(df, infer_schema(df), "copula", random_state=0).save(path)
    return path.read_bytes()


@FUZZ
@given(
    cut=st.integers(min_value=0, max_value=10**6),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
)
def test_damaged_model_files_are_model_file_errors(tmp_path, model_bytes, cut, flips) -> None:
    data = bytearray(model_bytes)
    for at, byte in flips:
        data[at % len(data)] = byte
    p = tmp_path / "m.synthcust"
    p.write_bytes(bytes(data[: cut % (len(data) + 1)]) if cut else bytes(data))
    with contextlib.suppress(SynthcustError):
        load_model(p).sample(5)


def _meta_of(model_bytes: bytes) -> tuple[dict, bytes]:
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as zf:
        return json.loads(zf.read(META_MEMBER)), zf.read(ARRAYS_MEMBER)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(),
              st.text(max_size=8)),
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=6), kids,
                                                                       max_size=3)),
    max_leaves=6,
)  # fmt: skip


@FUZZ
@given(path=st.lists(st.text(max_size=10), min_size=1, max_size=3), value=json_values)
def test_edited_model_headers_are_model_file_errors(tmp_path, model_bytes, path, value) -> None:
    meta, arrays = _meta_of(model_bytes)
    node = meta
    keys = list(path)
    for k in keys[:-1]:  # walk into existing dicts where the path names them
        nxt = node.get(k) if isinstance(node, dict) else None
        if not isinstance(nxt, dict):
            break
        node = nxt
    if isinstance(node, dict):
        key = keys[-1] if keys[-1] in node or not node else sorted(node)[hash(keys[-1]) % len(node)]
        node[key] = value
    p = tmp_path / "m.synthcust"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(META_MEMBER, json.dumps(meta, default=str))
        zf.writestr(ARRAYS_MEMBER, arrays)
    with contextlib.suppress(SynthcustError):
        load_model(p).sample(5)
