"""Virtual A/B tests: conversion responds to prices, power analysis, extrapolation, honesty."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthcust.exceptions import DataError
from synthcust.simulation.abtest import attribute_ranges, required_sample_size, run_abtest
from synthcust.simulation.choice import MultinomialLogit, choice_data, detect_spec


def _panel(n: int = 1500, seed: int = 1) -> pd.DataFrame:
    """A no-purchase option and two products, price coefficient -2, two personas."""
    rng = np.random.default_rng(seed)
    pr = rng.uniform(1, 2, (n, 2))
    persona = rng.choice(["thrifty", "loyal"], n)
    V = np.column_stack([np.zeros(n), 0.8 - 2 * pr[:, 0], 0.3 - 2 * pr[:, 1]])
    y = (V + rng.gumbel(size=V.shape)).argmax(1)
    df = pd.DataFrame({"price.none": 1.0, "price.a": pr[:, 0], "price.b": pr[:, 1]})
    df["choice"] = np.array(["none", "a", "b"])[y]
    df["persona"] = persona
    return df


@pytest.fixture(scope="module")
def fitted():
    df = _panel()
    return MultinomialLogit().fit(choice_data(df, detect_spec(df))), df


def test_price_cut_raises_conversion(fitted):
    m, df = fitted
    r = run_abtest(m, df, ["A:", "B:price.a=-3%"], persona="persona", training=df, n_draws=100)
    assert r.outcome.startswith("purchase")  # the 'none' alternative is the outside option
    c = r.conversion.set_index(["variant", "group"])["conversion"]
    for g in ("all", "loyal", "thrifty"):
        assert c["B", g] > c["A", g]
    lift = r.lift.set_index("group").loc["all"]
    assert lift["diff_low"] > 0 and lift["p_better"] > 0.95
    assert lift["diff_low"] <= lift["diff_pts"] <= lift["diff_high"]
    # the interval of each conversion contains its point estimate
    assert (r.conversion["low"] <= r.conversion["conversion"]).all()
    assert (r.conversion["conversion"] <= r.conversion["high"]).all()
    # a 3% cut in a 1-2 price range stays (almost) in the training range: not flagged
    assert r.flagged == []
    # a price rise lowers conversion
    r2 = run_abtest(m, df, ["A:", "B:price.a=+5%"], n_draws=0)
    c2 = r2.conversion.set_index("variant")["conversion"]
    assert c2["B"] < c2["A"]


def test_conversion_matches_direct_probabilities(fitted):
    m, df = fitted
    r = run_abtest(m, df, ["A:", "B:price.b=+0.1"], focal="a", n_draws=0)
    P = m.predict_proba(choice_data(df, m.spec_, require_choice=False))
    got = r.conversion.set_index("variant").loc["A", "conversion"]
    assert got == pytest.approx(P[:, 1].mean(), rel=1e-9)


def test_power_textbook_and_simulated():
    # Fleiss without continuity correction: 686 per group for 10% vs 15% (alpha .05, power .8)
    assert math.ceil(required_sample_size(0.10, 0.15)) == 686
    assert math.ceil(required_sample_size(0.5, 0.6)) == 388
    assert required_sample_size(0.3, 0.3) == math.inf
    # the formula's n really gives about 80% power for a two-sided z-test (Monte Carlo)
    rng = np.random.default_rng(0)
    n = math.ceil(required_sample_size(0.10, 0.15))
    x1 = rng.binomial(n, 0.10, 20000) / n
    x2 = rng.binomial(n, 0.15, 20000) / n
    pb = (x1 + x2) / 2
    z = (x2 - x1) / np.sqrt(2 * pb * (1 - pb) / n)
    assert abs(float((np.abs(z) > 1.959964).mean()) - 0.80) < 0.015
    with pytest.raises(DataError):
        required_sample_size(1.2, 0.1)


def test_extrapolation_flag(fitted, tmp_path):
    m, df = fitted
    r = run_abtest(m, df, ["A:", "B:price.a=-3%", "C:price.a=*0.5"], training=df, n_draws=20)
    assert r.flagged == ["C"]
    ex = r.extrapolation.set_index("variant")
    assert ex.loc["C", "share_outside"] == 1.0 and ex.loc["B", "share_outside"] < 0.05
    assert r.conversion.set_index("variant").loc["C", "extrapolation"].all()
    assert "Extrapolation" in r.to_html()
    # a fitted model records its ranges: the check runs without the training data
    assert run_abtest(m, df, ["A:", "C:price.a=*0.5"], n_draws=0).flagged == ["C"]
    # without ranges (an older model file) the check cannot run, and the result says so
    old = {k: v for k, v in m.to_dict().items() if k != "attribute_ranges"}
    r2 = run_abtest(old, df, ["A:", "C:price.a=*0.5"], n_draws=0)
    assert r2.flagged == [] and any("NOT checked" in a for a in r2.rests_on["assumptions"])
    # ranges recorded in the model file are used (and a display never seen on is flagged)
    d = m.to_dict()
    d["attribute_ranges"] = attribute_ranges(m, df)
    d["attribute_ranges"]["price"]["b"] = [1.0, 1.1]
    r3 = run_abtest(d, df, ["A:", "B:price.b=+0.05"], focal="b", n_draws=0)
    assert r3.flagged == ["B"] and r3.rests_on["training_ranges_from"] == "the model file"


def test_provenance_is_carried(fitted, tmp_path):
    m, df = fitted
    d = m.to_dict()
    d["provenance"] = {"data": "panel.csv", "validation": {"max_share_diff_pts": 1.2}}
    p = tmp_path / "m.json"
    p.write_text(json.dumps(d))
    r = run_abtest(p, df, ["A:", "B:price.a=-5%"], training=df, n_draws=10)
    assert r.rests_on["provenance"]["data"] == "panel.csv"
    assert r.rests_on["validation"] == {"max_share_diff_pts": 1.2}
    assert not any("validated" in a for a in r.rests_on["assumptions"])
    r0 = run_abtest(m, df, ["A:", "B:price.a=-5%"], training=df, n_draws=0)
    assert any("not validated" in a for a in r0.rests_on["assumptions"])


def test_bad_variants(fitted):
    m, df = fitted
    with pytest.raises(DataError, match="identical"):
        run_abtest(m, df, ["A:", "B:"])
    with pytest.raises(DataError, match="identical"):
        run_abtest(m, df, ["A:price.a=-10%", "B:price.a=*0.9"])
    with pytest.raises(DataError, match="unknown alternative 'zz'"):
        run_abtest(m, df, ["A:", "B:price.zz=-1%"])
    with pytest.raises(DataError, match="unknown attribute 'disp'"):
        run_abtest(m, df, ["A:", "B:disp.a=1"])
    with pytest.raises(DataError, match="at least two"):
        run_abtest(m, df, ["A:"])
    with pytest.raises(DataError, match="used twice"):
        run_abtest(m, df, ["A:", "A:price.a=-1%"])
    with pytest.raises(DataError, match="<= 0"):
        run_abtest(m, df, ["A:", "B:price.a=-150%"])


def test_focal_needed_without_outside_option():
    df = _panel().query("choice != 'none'").drop(columns="price.none")
    m = MultinomialLogit().fit(choice_data(df, detect_spec(df)))
    r = run_abtest(m, df, ["A:", "B:price.a=-5%"], n_draws=0)
    assert r.outcome == "choice of 'a'"
    with pytest.raises(DataError, match="focal"):
        run_abtest(m, df, ["A:price.b=+1%", "B:price.a=-5%"])


def test_cli_abtest(fitted, tmp_path):
    from synthcust.cli import app

    m, df = fitted
    m.save(tmp_path / "m.json")
    df.to_csv(tmp_path / "pop.csv", index=False)
    res = CliRunner().invoke(app, [
        "abtest", str(tmp_path / "m.json"), str(tmp_path / "pop.csv"), "--variant", "A:",
        "--variant", "B:price.a=-30%", "--persona", "persona", "--training",
        str(tmp_path / "pop.csv"), "--draws", "20", "--report", str(tmp_path / "ab.html"),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    page = (tmp_path / "ab.html").read_text()
    assert "<svg" in page and "EXTRAPOLATION" in page and "Unvalidated assumptions" in page
    payload = json.loads((tmp_path / "ab.json").read_text())
    assert payload["extrapolated_variants"] == ["B"]
    assert {r["group"] for r in payload["conversion"]} == {"all", "loyal", "thrifty"}


def test_latent_class_personas_and_separated_membership():
    from synthcust.simulation.choice import LatentClassLogit

    rng = np.random.default_rng(4)
    hh = 300
    persona = rng.choice(["thrifty", "loyal"], hh)
    df = pd.DataFrame({"id": np.repeat(np.arange(hh), 8)})
    n = len(df)
    df["persona"] = persona[df["id"]]
    df["price.none"] = 1.0
    df["price.a"] = rng.uniform(1, 3, n)
    b = np.where(df["persona"] == "thrifty", -3.0, -0.5)
    V = np.column_stack([np.zeros(n), 1.0 + b * df["price.a"]])
    df["choice"] = np.array(["none", "a"])[(V + rng.gumbel(size=V.shape)).argmax(1)]
    spec = detect_spec(df, persona="persona")
    m = LatentClassLogit(2, n_init=1, random_state=0).fit(choice_data(df, spec))
    with np.errstate(all="ignore"):
        r = run_abtest(m, df, ["A:", "B:price.a=-3%"], persona="persona", n_draws=60)
    c = r.conversion.set_index(["variant", "group"])
    # the personas convert very differently (their classes have different price response)
    assert c.loc[("A", "loyal"), "conversion"] > 5 * c.loc[("A", "thrifty"), "conversion"]
    # persona perfectly decides the class: the membership s.e. explode; the draws hold them
    # at the estimate (and say so) instead of flipping classes into [0, 1] intervals
    assert any("held at their estimate" in n_ for n_ in r.notes)
    assert (c["high"] - c["low"]).max() < 0.1
    assert (r.lift["diff_low"] > 0).all()


def test_model_file_carries_attribute_ranges_and_provenance(tmp_path) -> None:
    """A fitted choice model records what it saw vary, so an A/B check needs no training data."""
    from synthcust.simulation.choice import (
        MultinomialLogit,
        choice_data,
        detect_spec,
        load_model,
    )

    rng = np.random.default_rng(0)
    n = 600
    price = rng.uniform(1, 3, (n, 2))
    y = (np.array([0.0, 0.3]) - 1.2 * price + rng.gumbel(size=(n, 2))).argmax(1)
    df = pd.DataFrame(price, columns=["price.a", "price.b"])
    df["choice"] = np.array(["a", "b"])[y]
    m = MultinomialLogit().fit(choice_data(df, detect_spec(df)))
    m.provenance = {"data": "test"}
    back = load_model(json.loads(json.dumps(m.to_dict())))
    lo, hi = back.attribute_ranges_["price"]["a"]
    assert lo == pytest.approx(price[:, 0].min()) and hi == pytest.approx(price[:, 0].max())
    assert back.provenance == {"data": "test"}


def test_report_is_one_escaped_page_with_its_json(fitted, tmp_path):
    """The A/B result is a reporting.Report: one page, data text escaped, JSON beside it."""
    from synthcust.workflows.experiments import write_outputs

    m, df = fitted
    df = df.assign(persona=df["persona"].replace({"loyal": "<script>x</script>"}))
    r = run_abtest(m, df, ["A:", "B:price.a=-3%"], persona="persona", training=df, n_draws=10)
    written = dict(write_outputs(r, tmp_path / "res.json", tmp_path / "ab.html"))
    page = written["report"].read_text()
    assert page.count("<html") == 1 and "<script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    twin = json.loads(written["figures"].read_text())
    assert twin.keys() == json.loads((tmp_path / "res.json").read_text()).keys()
    with pytest.raises(DataError, match="JSON"):
        write_outputs(r, tmp_path / "ab.json", tmp_path / "ab.html")
