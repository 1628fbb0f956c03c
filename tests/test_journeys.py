"""The causal journey simulator: journeys, common-random-number ground truth, scenarios."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from synthcust.exceptions import DataError
from synthcust.simulation.attribution import attribute, shapley_from_values
from synthcust.simulation.journeys import (
    SCENARIOS,
    Channel,
    Scenario,
    Upstream,
    get_scenario,
    simulate,
)


@pytest.fixture(scope="module")
def indep():
    return simulate("independent", 8_000, random_state=3)


def test_touch_log_shape_and_order(indep):
    t = indep.touches
    assert list(t.columns) == ["user_id", "timestamp", "channel", "converted"]
    assert set(t["channel"].cat.categories) == set(get_scenario("independent").channel_names)
    # sorted by user then time
    key = t[["user_id", "timestamp"]]
    assert key.equals(key.sort_values(["user_id", "timestamp"]).reset_index(drop=True))
    # inside the 28-day window
    days = (t["timestamp"] - pd.Timestamp("2026-01-01")).dt.total_seconds() / 86400
    assert days.min() >= 0 and days.max() < 28
    u = indep.users
    assert len(u) == 8_000 and u["touches"].sum() == len(t)
    # converted flag of the log agrees with the users table
    conv = t.groupby("user_id")["converted"].first()
    assert (u.set_index("user_id").loc[conv.index, "converted"] == conv).all()


def test_journey_ends_at_conversion(indep):
    t = indep.touches.merge(indep.users[["user_id", "conversion_time"]], on="user_id")
    conv = t[t["converted"]]
    assert len(conv) > 0
    assert (conv["timestamp"] <= conv["conversion_time"]).all()


def test_same_seed_same_world_and_different_seed_differs():
    a = simulate("synergy", 3_000, random_state=7)
    b = simulate("synergy", 3_000, random_state=7)
    c = simulate("synergy", 3_000, random_state=8)
    assert a.touches.equals(b.touches)
    np.testing.assert_array_equal(a.truth.values, b.truth.values)
    assert not a.touches.equals(c.touches)


def test_chunking_does_not_change_the_truth_definition():
    a = simulate("upper_funnel_display", 4_000, random_state=1, chunk_size=1_000)
    # the observed world is one of the re-simulated subsets: all channels on
    assert a.truth.total == a.users["converted"].sum()


def test_ground_truth_values_are_monotone_and_consistent(indep):
    v = indep.truth.values
    C = len(indep.truth.channels)
    assert v.size == 1 << C
    assert v[-1] == indep.users["converted"].sum()  # CRN: the all-on world is the observed one
    for c in range(C):  # effects are >= 0: switching a channel on never loses a conversion
        without = np.arange(v.size)[(np.arange(v.size) >> c & 1) == 0]
        assert (v[without | (1 << c)] >= v[without]).all()
    sh = indep.truth.shapley
    assert sh.sum() == pytest.approx(v[-1] - v[0])
    assert indep.truth.shares.sum() == pytest.approx(1.0)
    # the independent scenario's strongest per-user channel (search) beats the weakest
    assert sh["search"] > sh["affiliate"]


def test_zero_effect_channel_gets_zero_truth():
    sc = Scenario(
        "custom",
        "one useless channel",
        channels=(Channel("good", 0.5, 2.0, 0.02), Channel("useless", 0.5, 2.0, 0.0)),
    )
    sim = simulate(sc, 5_000, random_state=0)
    assert sim.truth.removal["useless"] == 0
    assert sim.truth.shapley["useless"] == pytest.approx(0.0)
    assert sim.truth.shapley["good"] > 50
    # yet the useless channel appears on converting paths and last-touch credits it
    res = attribute(sim.touches, ["last_touch"])
    assert res.shares.loc["useless", "last_touch"] > 0.1


def test_search_harvests_truth_is_zero_but_last_click_loves_it():
    sim = simulate("search_harvests", 10_000, random_state=2)
    assert sim.truth.shares["search"] == pytest.approx(0.0)
    res = attribute(sim.touches, ["last_touch"])
    assert res.shares.loc["search", "last_touch"] > 0.5


def test_upstream_display_value_comes_from_induced_touches():
    sim = simulate("upper_funnel_display", 10_000, random_state=4)
    truth = sim.truth.shares
    res = attribute(sim.touches, ["last_touch"])
    # last click sees the induced search/direct visits, not the display that caused them
    assert res.shares.loc["display", "last_touch"] < 0.6 * truth["display"]
    # switching display off removes more conversions than display's own tiny effect explains
    sc = get_scenario("upper_funnel_display")
    no_up = dataclasses.replace(sc, upstream=())
    sim2 = simulate(no_up, 10_000, random_state=4)
    assert sim.truth.removal["display"] > 3 * sim2.truth.removal["display"]


def test_targeting_reaches_likely_converters():
    sim = simulate("targeted", 10_000, random_state=5)
    t, u = sim.touches, sim.users
    reached = set(t.loc[t["channel"] == "retargeting", "user_id"])
    r = u["user_id"].isin(reached)
    # the high-baseline 'loyal' persona is over-represented among retargeted users
    loyal = u["persona"] == "loyal"
    assert loyal[r].mean() > 2 * loyal.mean()
    assert u.loc[r, "converted"].mean() > u.loc[~r, "converted"].mean()
    # ... though retargeting itself adds little
    assert sim.truth.shares["retargeting"] < 0.15


def test_personas_are_reported():
    sim = simulate("targeted", 3_000, random_state=0)
    shares = sim.users["persona"].value_counts(normalize=True)
    assert set(shares.index) == {"loyal", "persuadable", "indifferent"}
    assert shares["indifferent"] == pytest.approx(0.5, abs=0.05)


def test_path_table_matches_the_log(indep):
    p = indep.path_table()
    touched = (indep.users["touches"] > 0).sum()
    assert (p["total_conversions"] + p["total_null"]).sum() == touched
    conv = indep.touches.groupby("user_id")["converted"].first()
    assert p["total_conversions"].sum() == conv.sum()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_named_scenario_runs_and_documents_itself(name):
    sc = get_scenario(name)
    d = sc.to_dict()
    assert d["name"] == name and d["description"] and d["channels"]
    sim = simulate(name, 1_500, random_state=0)
    assert sim.truth.total > sim.truth.baseline >= 0


def test_bad_scenarios_are_named():
    with pytest.raises(DataError, match="unknown scenario 'nope'"):
        get_scenario("nope")
    bad = Scenario("x", "", channels=(Channel("a", 0.5),), upstream=(Upstream("a", "zz", 0.1),))
    with pytest.raises(DataError, match="upstream target names channel 'zz'"):
        simulate(bad, 10)
    many = Scenario("x", "", channels=tuple(Channel(f"c{i}", 0.1) for i in range(13)))
    with pytest.raises(DataError, match="at most 12"):
        simulate(many, 10)
    with pytest.raises(DataError, match="reach"):
        simulate(Scenario("x", "", channels=(Channel("a", 1.5),)), 10)
    with pytest.raises(DataError, match="n_users"):
        simulate("independent", 0)


def test_shapley_from_values_matches_hand_computation():
    # v(empty)=0, v(a)=1, v(b)=2, v(ab)=5 -> a: (1 + 3)/2 = 2, b: (2 + 4)/2 = 3
    assert shapley_from_values(np.array([0.0, 1.0, 2.0, 5.0])).tolist() == [2.0, 3.0]
    # additive game: Shapley = each player's own value
    rng = np.random.default_rng(0)
    w = rng.random(5)
    masks = np.arange(32)
    v = ((masks[:, None] >> np.arange(5)) & 1) @ w
    np.testing.assert_allclose(shapley_from_values(v), w)


def test_cli_lists_and_shows_scenarios():
    import json

    from typer.testing import CliRunner

    from synthcust.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["journeys", "scenarios"])
    assert r.exit_code == 0 and "search_harvests" in r.output
    r = runner.invoke(app, ["journeys", "scenarios", "--show", "upper_funnel_display"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["upstream"][0]["source"] == "display" and d["upstream"][0]["target"] == "search"


def test_scenario_json_round_trip_and_custom_scenario_cli(tmp_path):
    import json

    from typer.testing import CliRunner

    from synthcust.cli import app

    for name in SCENARIOS:
        sc = get_scenario(name)
        assert Scenario.from_dict(json.loads(json.dumps(sc.to_dict()))) == sc
    d = get_scenario("independent").to_dict()
    d["name"] = "ours"
    d["channels"] = d["channels"][:2]
    p = tmp_path / "ours.json"
    p.write_text(json.dumps(d))
    r = CliRunner().invoke(app, ["journeys", "simulate", "-s", str(p), "-n", "2000",
                                 "-o", str(tmp_path / "log.csv")])  # fmt: skip
    assert r.exit_code == 0, r.output
    truth = json.loads((tmp_path / "log.truth.json").read_text())
    assert truth["scenario"]["name"] == "ours" and truth["channels"] == ["display", "social"]
    with pytest.raises(DataError, match="unexpected keyword argument 'colour'"):
        Scenario.from_dict({**d, "channels": [{"name": "a", "reach": 0.3, "colour": 1}]})


def test_lab_accepts_custom_scenarios():
    from synthcust.simulation.attribution_lab import evaluate

    sc = Scenario("mine", "two channels", channels=(Channel("a", 0.4), Channel("b", 0.3, 2, 0.03)))
    lab = evaluate([sc], seeds=1, n_users=3_000, models=["last_touch"])
    assert lab.runs["scenario"].unique().tolist() == ["mine"]
    assert "two channels" in lab.to_html()
