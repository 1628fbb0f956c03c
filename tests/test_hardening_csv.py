"""Issue 20, item 4: no spreadsheet formula reaches a CSV/TSV we write, unless asked."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from synthcust.io import neutralise_formulas, read_table, to_csv_text, write_table

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "ok", "a=b"]


def _frame() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame(
        {
            "note": HOSTILE,
            "=evil": ["x"] * n,
            "amount": [-1.5] * n,  # a negative number is a number, not a formula
            "cat": pd.Categorical(["=1", "b"] * (n // 2)),
        }
    )


@pytest.mark.parametrize("name", ["out.csv", "out.tsv", "out.csv.gz"])
def test_written_csv_has_no_cell_starting_a_formula(tmp_path, name) -> None:
    path = write_table(_frame(), tmp_path / name)
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode()
    sep = "\t" if ".tsv" in name else ","
    back = read_table(path)
    cells = [str(c) for c in back.columns] + [
        str(v) for col in ("note", "'=evil", "cat") for v in back[col]
    ]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert "'=HYPERLINK" in text and "'+1+1" in text and "'-2+3" in text and "'@SUM" in text
    assert "'=evil" in text.splitlines()[0].split(sep)[1]
    assert (back["amount"] == -1.5).all()  # numbers untouched
    assert "ok" in set(back["note"]) and "a=b" in set(back["note"])


def test_raw_csv_writes_cells_as_they_are(tmp_path) -> None:
    path = write_table(_frame(), tmp_path / "raw.csv", raw_csv=True)
    text = path.read_text()
    assert text.startswith("note,=evil,")
    assert '"=HYPERLINK(""http://x"")"' in text or "=HYPERLINK" in text
    assert "'=" not in text
    back = read_table(path)
    assert len(back) == len(HOSTILE) and "\rcmd" in set(back["note"])  # a \r cell stays one row


def test_parquet_is_never_altered(tmp_path) -> None:
    path = write_table(_frame(), tmp_path / "x.parquet")
    back = read_table(path)
    assert list(back["note"]) == HOSTILE and "=evil" in back.columns


def test_neutralise_leaves_the_input_alone_and_is_a_noop_on_clean_frames() -> None:
    df = _frame()
    before = df.copy()
    out = neutralise_formulas(df)
    pd.testing.assert_frame_equal(df, before)
    assert out["note"].tolist()[:4] == ["'" + v for v in HOSTILE[:4]]
    clean = pd.DataFrame({"a": ["x", "y"], "b": [1, -2]})
    assert neutralise_formulas(clean) is clean
    assert to_csv_text(df).count("'=") >= 2 and "'=" not in to_csv_text(df, raw_csv=True)


def test_cli_sample_quotes_formulas_unless_raw_csv(tmp_path) -> None:
    from typer.testing import CliRunner

    from synthcust.cli import app
    from synthcust.synthesizers import REGISTRY
    from synthcust.synthesizers.fitted import SynthModel

    df = pd.DataFrame({"note": ["=1+1", "@x", "ok", "-3"] * 20, "v": range(80)})
    syn = REGISTRY["copula"](random_state=0).fit(df)
    model = tmp_path / "m.synthcust"
    SynthModel(syn, syn.schema_, None, list(df.columns)).save(model)
    runner = CliRunner()
    safe, raw = tmp_path / "s.csv", tmp_path / "r.csv"
    assert runner.invoke(app, ["sample", str(model), "-n", "50", "-o", str(safe)]).exit_code == 0
    assert runner.invoke(app, ["sample", str(model), "-n", "50", "-o", str(raw),
                               "--raw-csv"]).exit_code == 0  # fmt: skip
    lines = safe.read_text().splitlines()[1:]
    assert lines and not [x for x in lines if x.startswith(("=", "@", "-"))]
    assert any(x.startswith(("=", "@", "-")) for x in raw.read_text().splitlines()[1:])
