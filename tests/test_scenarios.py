"""What-if scenarios: prices, promotions, removed and new alternatives, personas, switching."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from _cli import run
from synthcust.exceptions import DataError
from synthcust.simulation.choice import (
    LatentClassLogit,
    MultinomialLogit,
    choice_data,
    detect_spec,
)
from synthcust.simulation.scenarios import Scenario, parse_change, parse_new_alternative, simulate
from test_choice import simulate_mnl, simulate_two_classes


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return simulate_mnl(n=3000, seed=3)


@pytest.fixture(scope="module")
def model(df) -> MultinomialLogit:
    return MultinomialLogit().fit(choice_data(df, detect_spec(df)))


def shares(res, group="all"):
    return res.shares[res.shares["group"] == group].set_index("alternative")


def test_parse_change():
    assert parse_change("+10%") == ("pct", 10.0)
    assert parse_change("-5%") == ("pct", -5.0)
    assert parse_change("+0.3") == ("add", 0.3)
    assert parse_change("=2.5") == ("set", 2.5)
    assert parse_change("*1.1") == ("mul", 1.1)
    with pytest.raises(DataError, match="cannot read the change"):
        parse_change("ten percent")
    assert parse_new_alternative("x:price=2,like=a") == ("x", {"price": 2.0, "like": "a"})
    with pytest.raises(DataError, match="not a number"):
        parse_new_alternative("x:price=cheap")


def test_price_rise_matches_direct_prediction(df, model):
    sc = Scenario(price={"b": "+10%"})
    r = simulate(model, df, sc, n_draws=40)
    s = shares(r)
    after = df.assign(**{"price.b": df["price.b"] * 1.1})
    direct = model.predict_proba(choice_data(after, detect_spec(df))).mean(0)
    np.testing.assert_allclose(s["scenario"].to_numpy(), direct, rtol=1e-10)
    assert s.loc["b", "change_pts"] < 0 and (s.loc[["a", "c"], "change_pts"] > 0).all()
    assert s.loc["b", "change_high"] < 0 < s.loc["a", "change_low"]  # intervals exclude 0
    assert (s["low"] <= s["scenario"]).all() and (s["scenario"] <= s["high"]).all()
    # revenue = sum of probability x price
    base = model.predict_proba(choice_data(df, detect_spec(df)))
    rev = (base * df[["price.a", "price.b", "price.c"]].to_numpy()).sum(1).mean()
    assert r.revenue.loc[0, "base"] == pytest.approx(rev)


def test_switching_matrix_common_random_numbers(df, model):
    r = simulate(model, df, Scenario(price={"b": "+20%"}), n_draws=0)
    sw = r.switching["all"]
    assert sw.to_numpy().sum() == pytest.approx(1.0)
    # only b got worse: nobody switches to b, nobody moves between a and c
    assert sw.loc["a", "b"] == 0 and sw.loc["c", "b"] == 0
    assert sw.loc["a", "c"] == 0 and sw.loc["c", "a"] == 0
    assert sw.loc["b", "a"] > 0 and sw.loc["b", "c"] > 0
    s = shares(r)
    # simulated marginals agree with the expected shares (3000 customers)
    np.testing.assert_allclose(sw.sum(axis=1).to_numpy(), s["base"].to_numpy(), atol=0.03)
    np.testing.assert_allclose(sw.sum(axis=0).to_numpy(), s["scenario"].to_numpy(), atol=0.03)


def test_promotion_removal_and_new_alternative(df, model):
    r = simulate(model, df, Scenario(attributes={"disp": {"c": 1}}), n_draws=0)
    assert shares(r).loc["c", "change_pts"] > 0
    r = simulate(model, df, Scenario(remove=["c"]), n_draws=0)
    s = shares(r)
    assert s.loc["c", "scenario"] == 0
    # IIA: removing c scales a and b up in proportion
    assert s.loc["a", "scenario"] / s.loc["b", "scenario"] == pytest.approx(
        s.loc["a", "base"] / s.loc["b", "base"], rel=0.05
    )
    # a clone of b at b's price: takes share from every alternative, mostly from b
    r = simulate(model, df, Scenario(add={"b2": {"like": "b"}}), n_draws=20)
    s = shares(r)
    assert s.loc["b2", "base"] == 0 and s.loc["b2", "scenario"] == pytest.approx(
        s.loc["b", "scenario"], rel=1e-9
    )
    assert r.switching["all"].loc["b", "b2"] > r.switching["all"].loc["a", "b2"] * 0.5
    r = simulate(model, df, Scenario(add={"n": {"price": 2.0, "disp": 0}}), n_draws=0)
    assert any("mean of the existing constants" in n for n in r.notes)


def test_missing_attribute_columns_use_training_means(df, model):
    pop = df[["price.a", "price.b", "price.c"]].head(500)
    r = simulate(model, pop, Scenario(price={"a": "-10%"}), n_draws=0)
    assert any("training mean" in n for n in r.notes)
    assert shares(r).loc["a", "change_pts"] > 0


def test_per_persona_with_latent_classes():
    data, _ = simulate_two_classes(h=200, t=10, persona=True)
    spec = detect_spec(data, persona="persona")
    lc = LatentClassLogit(2, n_init=1).fit(choice_data(data, spec))
    pop = data.drop(columns="choice")
    r = simulate(lc, pop, Scenario(price={"a": "+15%"}), persona="persona", n_draws=20)
    assert set(r.shares["group"]) == {"all", "bargain", "loyal"}
    drop = r.shares.set_index(["group", "alternative"])["change_pts"]
    # the price-sensitive (bargain) persona reacts more to a's price rise than the loyal one
    assert drop[("bargain", "a")] < drop[("loyal", "a")] - 1
    assert set(r.switching) == {"all", "bargain", "loyal"}
    html = r.to_html()
    assert html.count("<svg") == 3
    json.dumps(r.to_dict())


def test_scenario_bad_input(df, model):
    with pytest.raises(DataError, match=r"alternative 'zzz'.*known"):
        simulate(model, df, Scenario(price={"zzz": "+10%"}))
    with pytest.raises(DataError, match="alternative 'zzz'"):
        simulate(model, df, Scenario(remove=["zzz"]))
    with pytest.raises(DataError, match="attribute 'shelf'"):
        simulate(model, df, Scenario(attributes={"shelf": {"a": 1}}))
    with pytest.raises(DataError, match="price of 'a' <= 0"):
        simulate(model, df, Scenario(price={"a": "-100%"}))
    with pytest.raises(DataError, match="needs a value for 'price'"):
        simulate(model, df, Scenario(add={"n": {"disp": 1}}))
    with pytest.raises(DataError, match="persona column 'segment'"):
        simulate(model, df, Scenario(), persona="segment")




def test_cli_fit_and_scenario(tmp_path, df, capsys, monkeypatch):
    data = tmp_path / "panel.csv"
    df.to_csv(data, index=False)
    model = tmp_path / "m.json"
    code, out, err = run(["choice", "fit", data, "-o", model, "--report", tmp_path / "fit.html",
                          "--draws", "20"], capsys, monkeypatch)  # fmt: skip
    assert code == 0, err
    assert "price" in out and model.exists() and "<svg" in (tmp_path / "fit.html").read_text()
    code, out, err = run(["scenario", model, data, "--price", "b=+10%", "--on", "disp:c",
                          "--add", "n:price=2,disp=0,like=a", "--remove", "a", "--draws", "20",
                          "-o", tmp_path / "result.json", "--report", tmp_path / "r.html"],
                         capsys, monkeypatch)  # fmt: skip
    assert code == 0, err
    res = json.loads((tmp_path / "result.json").read_text())
    assert {r["alternative"] for r in res["shares"]} == {"a", "b", "c", "n"}
    code, out, err = run(["scenario", model, data, "--price", "heinz=+10%"], capsys, monkeypatch)
    assert code == 1 and "alternative 'heinz'" in err and "Traceback" not in err
    code, out, err = run(["scenario", model, data, "--price", "b=lots"], capsys, monkeypatch)
    assert code == 1 and "cannot read the change" in err
