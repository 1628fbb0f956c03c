"""Diversity: subgroup coverage, small-group flags, over-sampled panel with design weights."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthcust.evaluation.diversity import coverage, oversampled_panel, panel_check
from synthcust.exceptions import DataError
from synthcust.reporting.diversity import DiversityReport


def _real(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "islands"], n, p=[0.5, 0.3, 0.17, 0.03])
    age = rng.choice(["18-34", "35-54", "55+"], n, p=[0.3, 0.4, 0.3])
    spend = rng.normal(np.select([region == "islands", region == "south"], [200, 120], 80), 10)
    return pd.DataFrame({"region": region, "age_band": age, "spend": spend})


def test_coverage_counts_and_flags():
    real = pd.DataFrame({
        "region": ["n"] * 600 + ["s"] * 300 + ["e"] * 90 + ["w"] * 10,
        "sex": (["f", "m"] * 500),
    })  # fmt: skip
    syn = pd.DataFrame({
        "region": ["n"] * 800 + ["s"] * 150 + ["e"] * 45 + ["x"] * 5,
        "sex": (["f", "m"] * 500),
    })  # fmt: skip
    r = coverage(real, syn, ["region", "sex"], min_n=30)
    t = r.table.set_index("group")
    assert t.loc["region=n", "real_n"] == 600 and t.loc["region=n", "synthetic_n"] == 800
    assert t.loc["region=s", "ratio"] == pytest.approx(0.5)
    assert "under" in t.loc["region=s", "flags"]
    assert "over" in t.loc["region=n", "flags"]
    assert "too small" in t.loc["region=w", "flags"]  # 10 real rows
    assert "missing in synthetic" in t.loc["region=w", "flags"]
    assert t.loc["region=x", "flags"].startswith("not in real")
    assert t.loc["region=n & sex=f", "real_n"] == 300  # order-2 combination
    assert t.loc["sex=f", "flags"] == ""  # identical shares: nothing flagged
    # order-1 groups of each column partition the rows
    o1 = r.table[r.table["order"] == 1].groupby("columns")["real_n"].sum()
    assert (o1 == 1000).all()
    s = r.summary().set_index("order")
    assert s.loc[2, "groups"] == len(r.table[r.table["order"] == 2])
    page = DiversityReport(r).to_html()
    assert "<svg" in page and "too small to speak for" in page
    assert json.dumps(r.to_dict())


def test_relative_halfwidth_makes_a_group_too_small():
    real = pd.DataFrame({"g": ["a"] * 960 + ["b"] * 40})
    r = coverage(real, real, ["g"], min_n=30, max_rel_halfwidth=0.25)
    assert "too small" in r.table.set_index("group").loc["g=b", "flags"]  # n=40 but share vague
    r2 = coverage(real, real, ["g"], min_n=30, max_rel_halfwidth=0.5)
    assert r2.table.set_index("group").loc["g=b", "flags"] == ""


def test_numeric_columns_are_binned_and_unknown_column_errors():
    real = _real()
    r = coverage(real, real.sample(frac=1, random_state=1), ["spend", "region"], max_order=2)
    assert any("quantile" in n for n in r.notes)
    assert (r.table[r.table["columns"] == "spend"]["real_n"] == 600).all()
    with pytest.raises(DataError, match="'regoin'"):
        coverage(real, real, ["regoin"])
    with pytest.raises(DataError, match="synthetic"):
        coverage(real, real.drop(columns="age_band"), ["age_band"])


def test_oversampled_panel_weights_return_population_estimates():
    import synthcust.api as sc

    real = _real()
    model = sc.fit(real, synthesizer="copula", random_state=0)
    panel = oversampled_panel(model, 1000, ["region"], population=real, min_per_group=200)
    cells = panel.cells.set_index("region")
    assert (cells["panel_n"] >= 200).all()
    assert cells.loc["islands", "panel_n"] == 200  # 3% of 1000 lifted to 200
    counts = panel.frame["region"].value_counts()
    assert (counts.reindex(cells.index) == cells["panel_n"]).all()  # conditions held exactly
    # weights: population share / panel share, summing to the panel size
    assert panel.frame[panel.weight].sum() == pytest.approx(len(panel.frame))
    assert cells.loc["islands", "weight"] == pytest.approx(
        cells.loc["islands", "population_share"] / cells.loc["islands", "panel_share"]
    )
    chk = panel_check(panel, real, ["spend"]).iloc[0]
    # islands (spend 200) are over-sampled: the unweighted panel mean is biased upwards ...
    assert chk["panel_unweighted"] - chk["population"] > 5
    # ... and the design weights bring it back to the population within noise
    assert chk["weighted_low"] <= chk["population"] <= chk["weighted_high"]
    assert abs(chk["panel_weighted"] - chk["population"]) < 2
    assert panel.effective_n < len(panel.frame)
    with pytest.raises(DataError, match="'regio'"):
        oversampled_panel(model, 100, ["regio"], population=real)


def test_cli_diversity(tmp_path):
    from synthcust.cli import app

    real = _real(1000)
    real.to_csv(tmp_path / "real.csv", index=False)
    real.sample(frac=1, random_state=2).to_csv(tmp_path / "syn.csv", index=False)
    r = CliRunner().invoke(app, ["diversity", str(tmp_path / "real.csv"),
                                 str(tmp_path / "syn.csv"), "--by", "region,age_band",
                                 "--report", str(tmp_path / "d.html")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "<svg" in (tmp_path / "d.html").read_text()
    d = json.loads((tmp_path / "d.json").read_text())
    assert d["by"] == ["region", "age_band"] and d["groups"]
    import synthcust.api as sc

    sc.fit(real, synthesizer="copula", random_state=0).save(tmp_path / "m.synth")
    r = CliRunner().invoke(app, [
        "diversity", str(tmp_path / "real.csv"), str(tmp_path / "syn.csv"), "--by", "region",
        "--panel-model", str(tmp_path / "m.synth"), "--panel-out", str(tmp_path / "p.csv"),
        "--panel-size", "300", "--panel-min", "50", "-o", str(tmp_path / "d2.json"),
    ])  # fmt: skip
    assert r.exit_code == 0, r.output
    p = pd.read_csv(tmp_path / "p.csv")
    assert p["region"].value_counts().min() >= 50 and "weight" in p
    assert json.loads((tmp_path / "d2.json").read_text())["panel"]["cells"]
    bad = CliRunner().invoke(app, ["diversity", str(tmp_path / "real.csv"),
                                   str(tmp_path / "syn.csv"), "--by", "nope"])  # fmt: skip
    assert bad.exit_code != 0 and "nope" in str(bad.exception)
