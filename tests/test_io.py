"""Tests of synthcust.io: every format round-trips, bad input fails loudly, writes are atomic."""

from __future__ import annotations

import gzip
import os
import sqlite3
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from synthcust.exceptions import ReadError, WriteError
from synthcust.io import (
    atomic_path,
    atomic_write_bytes,
    read_table,
    sniff_format,
    write_table,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "name": ["Anna", "José", None, "Zoë, Jr."],
            "spend": [10.5, np.nan, 3.25, 0.0],
            "note": ['says "hi"', "line one\nline two", "plain", ""],
        }
    )


def _source(df: pd.DataFrame) -> dict:
    return df.attrs["synthcust_source"]


# ------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("out.csv", "csv"),
        ("out.csv.gz", "csv"),
        ("out.tsv", "csv"),
        ("out.parquet", "parquet"),
        ("out.duckdb", "duckdb"),
    ],
)
def test_round_trip(tmp_path: Path, frame: pd.DataFrame, name: str, fmt: str) -> None:
    written = write_table(frame, tmp_path / name)
    back = read_table(written)
    # CSV cannot tell an empty string from a missing value; every other format can.
    expected = frame.replace({"note": {"": np.nan}}) if fmt == "csv" else frame
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert back["customer_id"].dtype == np.int64
    assert back["spend"].dtype == np.float64
    assert isinstance(back.index, pd.RangeIndex) and back.index.start == 0
    assert _source(back)["format"] == fmt
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp files left


def test_csv_gz_is_gzip_and_reproducible(tmp_path: Path, frame: pd.DataFrame) -> None:
    first = write_table(frame, tmp_path / "a.csv.gz").read_bytes()
    second = write_table(frame, tmp_path / "b.csv.gz").read_bytes()
    assert first[:2] == b"\x1f\x8b"
    assert first == second  # no timestamp or temp-file name in the gzip header
    assert _source(read_table(tmp_path / "a.csv.gz"))["compression"] == "gzip"


def test_sqlite_by_url_table_and_query(tmp_path: Path, frame: pd.DataFrame) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        frame.to_sql("customers", con, index=False)
        con.execute("CREATE TABLE orders (order_id INTEGER, amount REAL)")
        con.execute("INSERT INTO orders VALUES (7, 9.5), (8, 1.0)")
    url = f"sqlite:///{db}"
    by_table = read_table(url, table="customers")
    pd.testing.assert_frame_equal(by_table, frame, check_dtype=False)
    by_query = read_table(url, query="SELECT name, spend FROM customers WHERE spend > 1")
    assert by_query["name"].iloc[0] == "Anna" and by_query["name"].isna().iloc[1]
    assert by_query["spend"].tolist() == [10.5, 3.25]
    # A ':word' inside a string literal is not taken for a bind parameter.
    literal = read_table(url, query="SELECT 'at 10:30 :x' AS t FROM orders")
    assert literal["t"].iloc[0] == "at 10:30 :x"
    assert len(read_table(url, query="SELECT * FROM orders", limit=1)) == 1
    assert len(read_table(url, table="orders", limit=1)) == 1
    assert _source(by_table) == {
        "path": url,
        "format": "sql",
        "delimiter": None,
        "encoding": None,
        "table": "customers",
        "query": None,
    }
    # An SQLite file given as a path is recognised from its bytes.
    assert sniff_format(db) == "sqlite"
    assert read_table(db, table="orders")["order_id"].tolist() == [7, 8]


def test_duckdb_write_keeps_other_tables(tmp_path: Path, frame: pd.DataFrame) -> None:
    db = tmp_path / "ws.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE real_customers AS SELECT 42 AS id, 'kept' AS label")
    write_table(frame, db)  # default table name
    write_table(frame.head(2), db, table="Sample Table")  # a name needing quotes
    write_table(frame.head(1), db)  # replaces only 'synthetic'
    with duckdb.connect(str(db), read_only=True) as con:
        tables = sorted(r[0] for r in con.execute("SHOW TABLES").fetchall())
    assert tables == ["Sample Table", "real_customers", "synthetic"]
    assert read_table(db, table="real_customers")["label"].tolist() == ["kept"]
    assert len(read_table(db, table="synthetic")) == 1
    assert len(read_table(db, table="sample table")) == 2  # case-insensitive, as DuckDB is
    q = read_table(db, query='SELECT count(*) AS n FROM "Sample Table"')
    assert q["n"].tolist() == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.duckdb"]


def test_duckdb_overwrite_false_protects_tables_not_the_file(tmp_path: Path, frame) -> None:
    db = tmp_path / "ws.duckdb"
    write_table(frame, db, table="a")
    write_table(frame, db, table="b", overwrite=False)  # a new table: allowed
    before = db.read_bytes()
    with pytest.raises(WriteError, match="already has a table 'a'"):
        write_table(frame.head(1), db, table="a", overwrite=False)
    assert db.read_bytes() == before


def test_limit_is_pushed_down_and_zero_gives_columns(tmp_path: Path, frame) -> None:
    for name in ("l.csv", "l.parquet", "l.duckdb"):
        path = write_table(frame, tmp_path / name)
        assert read_table(path, limit=2)["customer_id"].tolist() == [1, 2]
        empty = read_table(path, limit=0)
        assert empty.empty and list(empty.columns) == list(frame.columns)
    with pytest.raises(ReadError, match="non-negative"):
        read_table(tmp_path / "l.csv", limit=-1)


def test_parquet_named_index_kept_as_column(tmp_path: Path) -> None:
    df = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index([10, 20], name="customer_id"))
    df.to_parquet(tmp_path / "i.parquet")  # pandas stores the index
    back = read_table(tmp_path / "i.parquet")
    assert list(back.columns) == ["customer_id", "v"]
    assert isinstance(back.index, pd.RangeIndex)


def test_unknown_extension_sniffed(tmp_path: Path, frame: pd.DataFrame) -> None:
    write_table(frame, tmp_path / "x.parquet").rename(tmp_path / "x.bin")
    write_table(frame, tmp_path / "y.csv.gz").rename(tmp_path / "y.dat")
    (tmp_path / "z.export").write_text("a|b\n1|2\n")
    assert sniff_format(tmp_path / "x.bin") == "parquet"
    assert len(read_table(tmp_path / "x.bin")) == 4
    assert len(read_table(tmp_path / "y.dat")) == 4
    assert read_table(tmp_path / "z.export").columns.tolist() == ["a", "b"]


# ------------------------------------------------------------------------- CSV dialects


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("id;name;amount\n1;Anna;3,5\n2;Béla;4,0\n", ";"),
        ("id\tname\tamount\n1\tAnna\t3.5\n2\tBéla\t4.0\n", "\t"),
        ("id|name|amount\n1|Anna, M.|3.5\n2|Béla|4.0\n", "|"),
        ('id, name, amount\n1, Anna, 3.5\n2, "Béla, K", 4.0\n', ","),  # raw UCI style
    ],
)
def test_delimiters_sniffed(tmp_path: Path, text: str, delimiter: str) -> None:
    path = tmp_path / "d.txt"
    path.write_text(text, encoding="utf-8")
    df = read_table(path)
    assert list(df.columns) == ["id", "name", "amount"]
    assert df["id"].tolist() == [1, 2]
    assert df["name"].iloc[1].startswith("Béla")
    assert _source(df)["delimiter"] == delimiter


def test_cp1252_csv(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nJosé,Zürich\nFrançoise,Besançon – sud\n".encode("cp1252"))
    df = read_table(path)
    assert df["name"].tolist() == ["José", "Françoise"]
    assert df["city"].tolist() == ["Zürich", "Besançon – sud"]
    assert _source(df)["encoding"] == "cp1252"


def test_cp1252_accent_after_the_sample(tmp_path: Path) -> None:
    # The sniffing sample (64 KiB) is pure ASCII; the first accent comes later.
    body = "id,city\n" + "1,Paris\n" * 12_000 + "2,Besançon\n"
    (tmp_path / "late.csv").write_bytes(body.encode("cp1252"))
    df = read_table(tmp_path / "late.csv")
    assert df["city"].iloc[-1] == "Besançon"
    assert _source(df)["encoding"] == "cp1252"


def test_utf8_bom_stripped(tmp_path: Path) -> None:
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfid,name\n1,\xc3\x89va\n")
    df = read_table(tmp_path / "bom.csv")
    assert list(df.columns) == ["id", "name"]
    assert df["name"].tolist() == ["Éva"]
    assert _source(df)["encoding"] == "utf-8-sig"


def test_utf16_with_bom(tmp_path: Path) -> None:
    (tmp_path / "u16.csv").write_bytes("id;name\n1;Ōsaka\n".encode("utf-16"))
    df = read_table(tmp_path / "u16.csv")
    assert df["name"].tolist() == ["Ōsaka"] and _source(df)["encoding"] == "utf-16"


def test_quoted_newlines(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text('id,review\n1,"great\nwould buy, again"\n2,"ok"\n')
    df = read_table(tmp_path / "q.csv")
    assert df["review"].tolist() == ["great\nwould buy, again", "ok"]


def test_default_na_handling_and_dtypes(tmp_path: Path) -> None:
    (tmp_path / "na.csv").write_text("a,b,c\n1,NA,x\n2,,y\n3,4.5,\n")
    df = read_table(tmp_path / "na.csv")
    assert df["a"].dtype == np.int64
    assert df["b"].isna().tolist() == [True, True, False]
    assert df["c"].isna().tolist() == [False, False, True]


# ---------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"nope\.csv: file not found"):
        read_table(tmp_path / "nope.csv")


@pytest.mark.parametrize(("content", "what"), [(b"", "0 bytes"), (b"  \n\t\n", "whitespace")])
def test_empty_file(tmp_path: Path, content: bytes, what: str) -> None:
    (tmp_path / "e.csv").write_bytes(content)
    with pytest.raises(ReadError, match=f"e.csv is empty.*{what}"):
        read_table(tmp_path / "e.csv")


def test_header_only(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,name,spend\n")
    with pytest.raises(ReadError, match="has a header but no data rows") as err:
        read_table(tmp_path / "h.csv")
    assert "id, name, spend" in str(err.value)


def test_ragged_row_names_line_and_counts(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("a,b,c\n1,2,3\n\n4,5,6\n7,8,9,10\n11,12,13\n")
    with pytest.raises(ReadError) as err:
        read_table(tmp_path / "r.csv")
    msg = str(err.value)
    assert "r.csv: line 5 has 4 fields but the header has 3" in msg
    assert "quote" in msg


def test_ragged_row_line_counts_quoted_newlines(tmp_path: Path) -> None:
    # pandas numbers records; the message must give the physical line (here 5, not 4).
    (tmp_path / "r.csv").write_text('a,b\n1,"two\nlines"\n2,3\n4,5,6\n')
    with pytest.raises(ReadError, match="line 5 has 3 fields but the header has 2"):
        read_table(tmp_path / "r.csv")


def test_ragged_first_data_row(tmp_path: Path) -> None:
    # pandas would silently make the first column the index here.
    (tmp_path / "r.csv").write_text("a,b\n1,2,3\n4,5\n")
    with pytest.raises(ReadError, match="line 2 has 3 fields but the header has 2"):
        read_table(tmp_path / "r.csv")
    (tmp_path / "t.csv").write_text("a,b\n1,2,\n4,5,\n")
    with pytest.raises(ReadError, match="trailing delimiter"):
        read_table(tmp_path / "t.csv")


def test_unclosed_quote(tmp_path: Path) -> None:
    (tmp_path / "u.csv").write_text('a,b\n1,2\n3,"never closed\n4,5\n')
    with pytest.raises(ReadError, match="quoted value starting on line 3 is never closed"):
        read_table(tmp_path / "u.csv")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"id,name\n1,\x00\x00\x00\n", "NUL bytes"),
        (bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), ""),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "PNG image"),
        (b"PK\x03\x04" + bytes(100), "xlsx"),
    ],
)
def test_binary_file(tmp_path: Path, content: bytes, why: str) -> None:
    (tmp_path / "b.csv").write_bytes(content)
    with pytest.raises(ReadError, match=f"looks binary, not CSV.*{why}"):
        read_table(tmp_path / "b.csv")


def test_duplicate_columns(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("id,email,name,email,id\n1,a@x,A,b@x,1\n")
    with pytest.raises(ReadError, match="duplicate column names") as err:
        read_table(tmp_path / "d.csv")
    msg = str(err.value)
    assert "'email' (columns 2, 4)" in msg and "'id' (columns 1, 5)" in msg
    assert "Rename" in msg


def test_duplicate_columns_from_query(tmp_path: Path, frame: pd.DataFrame) -> None:
    db = tmp_path / "q.db"
    with sqlite3.connect(db) as con:
        frame.to_sql("customers", con, index=False)
    with pytest.raises(ReadError, match=r"duplicate column names: 'name'.*AS"):
        read_table(f"sqlite:///{db}", query="SELECT name, name FROM customers")


def test_unreadable_encoding(tmp_path: Path) -> None:
    raw = "名前,データ\nアイ,ーー\n".encode("shift_jis")
    (tmp_path / "sjis.csv").write_bytes(raw)
    with pytest.raises(ReadError, match=r"unreadable text encoding.*encoding="):
        read_table(tmp_path / "sjis.csv")
    df = read_table(tmp_path / "sjis.csv", encoding="shift_jis")  # the way out it names
    assert list(df.columns) == ["名前", "データ"]


def test_table_and_query_errors(tmp_path: Path, frame: pd.DataFrame) -> None:
    db = write_table(frame, tmp_path / "t.duckdb", table="customers")
    write_table(frame, db, table="orders")
    with pytest.raises(ReadError, match="either table= or query=, not both"):
        read_table(db, table="customers", query="SELECT 1")
    with pytest.raises(ReadError, match=r"no table 'custmers'\. Tables there: 'customers', 'o"):
        read_table(db, table="custmers")
    with pytest.raises(ReadError, match="holds 2 tables"):
        read_table(db)
    sqlite_db = tmp_path / "s.db"
    with sqlite3.connect(sqlite_db) as con:
        frame.to_sql("customers", con, index=False)
    url = f"sqlite:///{sqlite_db}"
    with pytest.raises(ReadError, match=r"no table 'people'\. Tables there: 'customers'"):
        read_table(url, table="people")
    assert len(read_table(url)) == 4  # the only table
    with pytest.raises(ReadError, match="could not read the query"):
        read_table(url, query="SELECT nope FROM customers")
    with pytest.raises(ReadError, match="apply only to DuckDB and SQL"):
        read_table(write_table(frame, tmp_path / "c.csv"), table="x")


def test_sqlite_url_to_missing_file_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="file not found"):
        read_table(f"sqlite:///{tmp_path / 'missing.db'}", table="t")
    assert list(tmp_path.iterdir()) == []


def test_url_password_is_masked(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as err:
        read_table("nosuchdialect://user:s3cret@host/db", table="t")
    assert "s3cret" not in str(err.value)


# ------------------------------------------------------------------------- atomic writes


def _failing_writer(payload: bytes):
    def write(self, path_or_buf, *args, **kwargs):
        if hasattr(path_or_buf, "write"):
            path_or_buf.write(payload)
        else:
            Path(path_or_buf).write_bytes(payload)
        raise OSError(28, "No space left on device")

    return write


@pytest.mark.parametrize(
    ("name", "method"), [("o.csv", "to_csv"), ("o.csv.gz", "to_csv"), ("o.parquet", "to_parquet")]
)
def test_failed_write_leaves_destination_untouched(
    tmp_path: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, name: str, method: str
) -> None:
    dest = write_table(frame, tmp_path / name)
    before = dest.read_bytes()
    monkeypatch.setattr(pd.DataFrame, method, _failing_writer(b"half a file"))
    with pytest.raises(WriteError, match=rf"{name}.*No space left.*unchanged"):
        write_table(frame.head(1), dest)
    assert dest.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_failed_duckdb_write_leaves_database_untouched(tmp_path: Path, frame) -> None:
    db = write_table(frame, tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE VIEW report AS SELECT 1 AS x")
    before = db.read_bytes()
    # The copy is made and written into, then DuckDB refuses to turn a view into a table.
    with pytest.raises(WriteError, match=r"w\.duckdb.*is of type View.*unchanged"):
        write_table(frame, db, table="report")
    assert db.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.duckdb"]
    assert read_table(db, table="synthetic")["customer_id"].tolist() == [1, 2, 3, 4]


def test_overwrite_false(tmp_path: Path, frame: pd.DataFrame) -> None:
    dest = write_table(frame, tmp_path / "o.parquet")
    before = dest.read_bytes()
    with pytest.raises(WriteError, match="already exists and overwrite=False"):
        write_table(frame.head(1), dest, overwrite=False)
    assert dest.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.parquet"]


def test_write_errors_name_the_destination(tmp_path: Path, frame: pd.DataFrame) -> None:
    with pytest.raises(WriteError, match="does not exist"):
        write_table(frame, tmp_path / "no_dir" / "x.csv")
    with pytest.raises(WriteError, match="cannot tell the format"):
        write_table(frame, tmp_path / "x.xlsx")
    with pytest.raises(WriteError, match="duplicate column names 'a'"):
        write_table(pd.DataFrame([[1, 2]], columns=["a", "a"]), tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_cleans_up_and_propagates(tmp_path: Path) -> None:
    dest = atomic_write_bytes(tmp_path / "model.bin", b"v1")
    with pytest.raises(KeyError), atomic_path(dest) as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"v2 partial")
        raise KeyError("boom")
    assert dest.read_bytes() == b"v1"
    with atomic_path(dest) as tmp:
        tmp.write_bytes(b"v2")
    assert dest.read_bytes() == b"v2"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_keeps_permissions(tmp_path: Path) -> None:
    dest = atomic_write_bytes(tmp_path / "r.html", b"a")
    umask = os.umask(0)
    os.umask(umask)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would create it
    dest.chmod(0o640)
    atomic_write_bytes(dest, b"b")
    assert dest.stat().st_mode & 0o777 == 0o640


def test_gzip_transparent_by_content(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_bytes(gzip.compress(b"a;b\n1;2\n"))
    df = read_table(tmp_path / "g.csv")
    assert df.to_dict("list") == {"a": [1], "b": [2]}
