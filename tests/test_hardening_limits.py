"""Issue 20, items 2, 3 and 6: reads are bounded by what is decoded, not by what is sent."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthcust.exceptions import ReadError
from synthcust.io import LimitError, ReadLimits, read_table


def _gzip_bomb(path, rows: int) -> None:
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b"a,b\n")
        block = b"1,2\n" * 100_000
        for _ in range(rows // 100_000):
            fh.write(block)


def test_a_gzip_bomb_stops_at_the_decompressed_limit(tmp_path) -> None:
    p = tmp_path / "bomb.csv"
    _gzip_bomb(p, 5_000_000)  # 20 MB of text in ~20 KB
    assert p.stat().st_size < 200_000
    with pytest.raises(LimitError, match=r"max_bytes.*--max-read-mb"):
        read_table(p, limits=ReadLimits(max_bytes=2 * 2**20))
    assert len(read_table(p, limit=10, limits=ReadLimits(max_bytes=2 * 2**20))) == 10


def test_rows_columns_and_cell_length_limits_name_the_limit(tmp_path) -> None:
    p = tmp_path / "t.csv"
    pd.DataFrame({"a": range(100), "b": ["x" * 50] * 100}).to_csv(p, index=False)
    with pytest.raises(LimitError, match=r"more than 99 rows.*max_rows"):
        read_table(p, limits=ReadLimits(max_rows=99))
    assert len(read_table(p, limits=ReadLimits(max_rows=100))) == 100
    with pytest.raises(LimitError, match=r"2 columns.*max_columns.*--max-columns"):
        read_table(p, limits=ReadLimits(max_columns=1))
    with pytest.raises(LimitError, match=r"column 'b' has a cell of 50 characters"):
        read_table(p, limits=ReadLimits(max_cell_chars=49))
    with pytest.raises(ValueError, match="max_rows must be a positive"):
        ReadLimits(max_rows=0)


def test_a_wide_table_is_refused_from_its_header(tmp_path) -> None:
    p = tmp_path / "wide.csv"
    p.write_text(",".join(f"c{i}" for i in range(20_000)) + "\n" + ",".join("1" * 20_000) + "\n")
    with pytest.raises(LimitError, match="20,000 columns in the header"):
        read_table(p)  # the default limit: 10,000 columns


def test_nul_bytes_after_the_sniffed_head_are_refused(tmp_path) -> None:
    p = tmp_path / "sneaky.csv"
    p.write_bytes(b"a,b\n" + b"1,2\n" * 2_000_000 + b"\x00\x01\x02binary")
    with pytest.raises(ReadError, match="NUL bytes past its first lines"):
        read_table(p)


def test_parquet_bombs_nested_columns_and_durations(tmp_path) -> None:
    bomb = tmp_path / "bomb.parquet"
    pq.write_table(pa.table({"x": np.zeros(3_000_000)}), bomb, compression="zstd")
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(LimitError, match="once decompressed"):
        read_table(bomb, limits=ReadLimits(max_bytes=2**20))
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": [1, 2], "tags": [["a"], ["b", "c"]]}), nested)
    with pytest.raises(ReadError, match=r"'tags' are nested.*Flatten"):
        read_table(nested)
    dur = tmp_path / "dur.parquet"
    pd.DataFrame({"wait": pd.to_timedelta([90, 30], unit="s"), "k": [1, 2]}).to_parquet(dur)
    back = read_table(dur)
    assert back["wait"].tolist() == [90.0, 30.0]
