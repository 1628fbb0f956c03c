"""The variable-order Markov journey model: fit, order choice, sampling, JSON, fidelity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import shared_data
from synthcust._utils.persist import peek_kind
from synthcust.exceptions import ModelFileError, NotFittedError
from synthcust.simulation.journey_model import JourneyMarkovModel, fidelity
from synthcust.synthesizers.checks import ModelCase, parametrize_with_checks

REAL = pd.DataFrame(
    {
        # order matters here: after "a > b" comes conversion, after "b > a" never
        "path": ["a > b", "b > a", "a > b > c", "c", "b > a > c"],
        "total_conversions": [300, 0, 100, 20, 0],
        "total_null": [100, 400, 100, 300, 200],
    }
)


def test_fit_sample_and_fidelity():
    m = JourneyMarkovModel(order=2).fit(REAL)
    assert m.order_ == 2 and m.channels_ == ("a", "b", "c")
    syn = m.sample(20_000, random_state=0)
    assert set(syn.columns) == {"path", "total_conversions", "total_null"}
    assert (syn["total_conversions"] + syn["total_null"]).sum() <= 20_000
    f = fidelity(REAL, syn)
    assert f["length_tv"] < 0.05
    assert f["transition_tv"] < 0.05
    assert abs(f["conversion_rate"]["real"] - f["conversion_rate"]["synthetic"]) < 0.02
    # order 2 knows "a > b" converts and "b > a" does not
    by = syn.set_index("path")
    rate = by["total_conversions"] / (by["total_conversions"] + by["total_null"])
    assert rate["a > b"] > 0.6 and rate["b > a"] < 0.05


def test_order_one_cannot_tell_the_order_apart_and_loses_fidelity():
    m1 = JourneyMarkovModel(order=1).fit(REAL)
    m3 = JourneyMarkovModel(order=3).fit(REAL)
    f1 = fidelity(REAL, m1.sample(20_000, random_state=1))
    f3 = fidelity(REAL, m3.sample(20_000, random_state=1))
    assert f3["conv_rate_mae"] < f1["conv_rate_mae"]
    assert f3["length_tv"] < f1["length_tv"]


def test_order_is_chosen_by_heldout_likelihood():
    m = JourneyMarkovModel(max_order=3, random_state=0).fit(REAL)
    ll = m.heldout_loglik_
    assert set(ll) == {0, 1, 2, 3}
    assert m.order_ == max(ll, key=ll.get)
    assert m.order_ >= 2 and ll[m.order_] > ll[0]


def test_seeded_sampling_and_json_round_trip(tmp_path):
    m = JourneyMarkovModel(order=2).fit(REAL)
    a = m.sample(500, random_state=3)
    assert a.equals(m.sample(500, random_state=3))
    p = m.save(tmp_path / "m.synthcust")
    assert peek_kind(p) == "journey_markov"  # the one model file format
    m2 = JourneyMarkovModel.load(p)
    assert m2.sample(500, random_state=3).equals(a)
    # files of the first format (JSON tagged synthcust.journey_markov) still load
    old = tmp_path / "m.json"
    old.write_text(json.dumps(m.to_dict()))
    obj = json.loads(old.read_text())
    assert obj["format"] == "synthcust.journey_markov"
    assert JourneyMarkovModel.load(old).sample(500, random_state=3).equals(a)


def test_max_length_is_honoured():
    loop = pd.DataFrame({"path": [" > ".join(["a"] * 30)], "conversions": [5], "nulls": [5]})
    m = JourneyMarkovModel(order=1, max_length=8).fit(loop)
    j = m.sample_journeys(200, random_state=0)
    assert j["path"].str.count(">").max() <= 7


def test_errors():
    with pytest.raises(NotFittedError, match="fit"):
        JourneyMarkovModel().sample(3)
    with pytest.raises(ModelFileError, match="not a synthcust journey model"):
        JourneyMarkovModel.from_dict({"format": "x"})
    with pytest.raises(ModelFileError, match="newer"):
        JourneyMarkovModel.from_dict({"format": "synthcust.journey_markov", "version": 99})


@pytest.mark.shared_data
def test_fit_on_channel_attribution_paths():
    path = shared_data("journeys", "channel_paths.csv")
    real = pd.read_csv(path)
    m = JourneyMarkovModel(max_order=3, random_state=0).fit(real)
    assert len(m.channels_) == 12
    ll = m.heldout_loglik_
    assert m.order_ >= 2 and ll[m.order_] > ll[1] > ll[0]
    n = int((real["total_conversions"] + real["total_null"]).sum())
    f = fidelity(real, m.sample(n, random_state=0))
    f1 = fidelity(real, JourneyMarkovModel(order=1).fit(real).sample(n, random_state=0))
    # a longer memory reproduces the odd length distribution of this data much better
    assert f["length_tv"] < 0.7 * f1["length_tv"]
    assert f["transition_tv"] < 0.02
    assert f["conv_rate_mae"] < 0.02
    assert abs(f["conversion_rate"]["synthetic"] - f["conversion_rate"]["real"]) < 0.01
    assert 0 < f["novel_path_share"] < 1
    assert np.isfinite(f["by_length"].to_numpy(float)).all()


def test_cli_fit_and_generate(tmp_path):
    from typer.testing import CliRunner

    from synthcust.cli import app

    src = tmp_path / "paths.csv"
    REAL.to_csv(src, index=False)
    runner = CliRunner()
    r = runner.invoke(app, ["journeys", "fit", str(src), "-o", str(tmp_path / "m.json"),
                            "--max-order", "2"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "held-out log-likelihood" in r.output
    r = runner.invoke(app, ["journeys", "generate", str(tmp_path / "m.json"), "-n", "3000",
                            "--seed", "1", "-o", str(tmp_path / "syn.csv"),
                            "--compare", str(src)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "path-length TV" in r.output
    syn = pd.read_csv(tmp_path / "syn.csv")
    assert (syn["total_conversions"] + syn["total_null"]).sum() == 3000


@parametrize_with_checks(
    [
        ModelCase(
            name="journey-markov",
            make=lambda random_state: JourneyMarkovModel(max_order=3, random_state=random_state),
            fit_args=(REAL,),
            # order chosen on a held-out split drawn from random_state
            use=lambda m: (m.sample(300, random_state=0), m.heldout_loglik_),
            kind="journey_markov",
        )
    ]
)
def test_journey_model_passes_the_shared_checks(case, check):
    check(case)
