"""Behaviour validation: the holdout protocol, the verdicts, the report, the CLI, real panels."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from _cli import run
from conftest import shared_data
from synthcust.exceptions import DataError
from synthcust.simulation.choice import choice_data, detect_spec
from synthcust.simulation.validation import (
    holdout_split,
    validate_behaviour,
    write_behaviour_report,
)
from test_choice import simulate_mnl, simulate_two_classes


def test_holdout_split_last_occasions_per_household():
    df = pd.DataFrame({
        "id": [1] * 10 + [2] * 2 + [3] + [4] * 5,
        "price.a": 1.0, "price.b": 2.0, "choice": "a",
    })  # fmt: skip
    d = choice_data(df, detect_spec(df))
    _, test, info = holdout_split(d, 0.2)
    assert test.tolist() == [False] * 8 + [True] * 2 + [False, True] + [False] + [False] * 4 + [
        True
    ]
    assert info["single_occasion_households"] == 1 and info["held_out_households"] == 3
    # interleaved households: order within a household is the data order
    d2 = choice_data(df.sample(frac=1, random_state=0), detect_spec(df))
    _, test2, _ = holdout_split(d2, 0.2)
    assert test2.sum() == 4
    ranks = pd.Series(d2.occasion_rank()).groupby(d2.household).max()
    assert ranks.loc[1] == 9


def test_single_occasion_households_cannot_be_held_out():
    df = simulate_mnl(n=200, seed=0).assign(id=np.arange(200))
    with pytest.raises(DataError, match=r"single occasion.*>= 2 purchase occasions"):
        validate_behaviour(choice_data(df, detect_spec(df)), bootstrap=10)


def test_latent_class_beats_pooled_on_heterogeneous_panel(tmp_path):
    df, _ = simulate_two_classes(h=200, t=10)
    d = choice_data(df, detect_spec(df))
    v = validate_behaviour(d, n_classes=2, n_init=1, bootstrap=200)
    lc, pooled, base = v.score("latent class (2)"), v.score("pooled MNL"), v.score("baseline")
    assert lc.hit_rate > pooled.hit_rate + 0.05 and lc.hit_rate > base.hit_rate
    assert lc.loglik_per_occasion > pooled.loglik_per_occasion
    assert any(line.startswith("latent class (2) BEATS the pooled MNL") for line in v.verdict)
    assert v.split["test_occasions"] == 400  # 2 of 10 per household
    # sampling noise of shares on 400 occasions: a few points, never zero
    assert all(1 < s.share_noise_pts < 10 for s in v.scores)
    html, js = write_behaviour_report(v, tmp_path / "v.html")
    page = html.read_text()
    assert "<svg" in page and "BEATS" in page
    assert json.loads(js.read_text())["scores"][0]["name"] == "baseline"


def test_verdict_says_when_the_richer_model_does_not_beat_pooled():
    # homogeneous customers: latent classes have nothing to find
    df = simulate_mnl(n=2000, seed=5, households=100)
    v = validate_behaviour(choice_data(df, detect_spec(df)), n_classes=2, n_init=1, bootstrap=200)
    line = next(x for x in v.verdict if x.startswith("latent class (2) "))
    assert "does NOT beat" in line or "not significantly" in line


def test_no_household_column_holds_out_the_last_occasions():
    df = simulate_mnl(n=500, seed=2)
    v = validate_behaviour(choice_data(df, detect_spec(df, household=None)), n_classes=0,
                           bootstrap=50)  # fmt: skip
    assert v.split["test_occasions"] == 100
    assert any("no household column" in n for n in v.notes)
    assert any("persona-awareness untested" in x for x in v.verdict)




def test_cli_validate_behaviour(tmp_path, capsys, monkeypatch):
    df, _ = simulate_two_classes(h=80, t=8)
    df.loc[3, "price.b"] = 0.0
    p = tmp_path / "panel.csv"
    df.to_csv(p, index=False)
    code, _, err = run(["validate-behaviour", p], capsys, monkeypatch)
    assert code == 1 and "row 3 column 'price.b' = 0" in err and "--drop-bad-prices" in err
    code, out, err = run(["validate-behaviour", p, "--drop-bad-prices", "--classes", "2",
                          "--bootstrap", "50", "--report", tmp_path / "r.html"],
                         capsys, monkeypatch)  # fmt: skip
    assert code == 0, err
    assert "hit rate" in out and "dropped 1 occasion" in out
    assert "<svg" in (tmp_path / "r.html").read_text()
    df.loc[3, "price.b"] = np.nan  # b not on offer at that occasion
    df.loc[3, "choice"] = "a"
    df.to_csv(p, index=False)
    code, out, err = run(["validate-behaviour", p, "--missing-price-unavailable", "--classes",
                          "0", "--bootstrap", "20"], capsys, monkeypatch)  # fmt: skip
    assert code == 0, err
    for cmd in (["choice", "fit"], ["scenario"], ["validate-behaviour"]):
        code, out, _ = run([*cmd, "--help"], capsys, monkeypatch)
        assert code == 0 and "Usage" in out


@pytest.mark.shared_data
def test_catsup_validation_bounded():
    path = shared_data("choice", "catsup.csv")
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    d = choice_data(df, detect_spec(df))
    v = validate_behaviour(d, n_classes=3, n_init=2, bootstrap=300)
    assert time.perf_counter() - t0 < 60
    base, pooled = v.score("baseline"), v.score("pooled MNL")
    lc = v.score("latent class (3)")
    assert v.split["households"] == 300 and v.split["test_occasions"] > 500
    assert 0.5 < base.hit_rate < 0.75  # a plain MNL on catsup: ~0.6
    # the household classes predict the next purchases much better than one pooled model
    assert lc.hit_rate > base.hit_rate + 0.05
    assert lc.loglik_per_occasion > pooled.loglik_per_occasion + 0.05
    assert max(s.max_abs_share_diff_pts for s in (base, pooled, lc)) < 8
