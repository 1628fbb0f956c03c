"""Attribution models (hand-checked values), input checks, the lab and the CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthcust.cli import app
from synthcust.exceptions import DataError
from synthcust.simulation.attribution import (
    attribute,
    from_log,
    load_journeys,
    logistic,
    markov,
    shapley,
)
from synthcust.simulation.attribution_lab import budget_regret, evaluate, score_shares
from synthcust.simulation.journeys import simulate

PATHS = pd.DataFrame(
    {
        "path": ["a > b > c", "b", "c > a", "a > b > c"],  # a repeated path is summed
        "total_conversions": [2, 1, 3, 1],
        "total_null": [5, 9, 0, 1],
    }
)


def credits(df, model, **kw):
    return attribute(df, [model], **kw).credits[model].to_dict()


def test_rule_based_models_by_hand():
    assert credits(PATHS, "first_touch") == {"a": 3.0, "b": 1.0, "c": 3.0}
    assert credits(PATHS, "last_touch") == {"a": 3.0, "b": 1.0, "c": 3.0}
    lin = credits(PATHS, "linear")
    assert lin == pytest.approx({"a": 1 + 1.5, "b": 1 + 1, "c": 1 + 1.5})
    pos = credits(PATHS, "position")  # 40/20/40 on a > b > c; 50/50 on c > a
    assert pos == pytest.approx({"a": 3 * 0.4 + 1.5, "b": 3 * 0.2 + 1, "c": 3 * 0.4 + 1.5})
    td = credits(PATHS, "time_decay", half_life=1.0)  # weights 1/4, 1/2, 1 on a > b > c
    assert td["c"] == pytest.approx(3 * 4 / 7 + 3 * 1 / 3)
    # every rule hands out exactly the conversions
    for m in ("first_touch", "last_touch", "linear", "position", "time_decay"):
        assert sum(credits(PATHS, m).values()) == pytest.approx(7.0)


def test_markov_removal_effect_by_hand():
    # START->a .5, START->b .5, a->b 1, b->conv .5, b->null .5: P(conv) = .5
    # without a: .25 (RE .5); without b: 0 (RE 1) -> a gets 1/3, b 2/3 of 1 conversion
    df = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 0], "total_null": [0, 1]})
    m = markov(load_journeys(df), order=1)
    assert m.to_dict() == pytest.approx({"a": 1 / 3, "b": 2 / 3})
    # a channel that never converts gets nothing
    df2 = pd.DataFrame({"path": ["a", "b"], "total_conversions": [1, 0], "total_null": [1, 2]})
    assert markov(load_journeys(df2)).to_dict() == pytest.approx({"a": 1.0, "b": 0.0})


def test_markov_higher_orders_run_and_sum_to_conversions():
    for k in (1, 2, 3):
        m = markov(load_journeys(PATHS), order=k)
        assert m.sum() == pytest.approx(7.0)
        assert (m >= 0).all()
    with pytest.raises(DataError, match="order"):
        markov(load_journeys(PATHS), order=0)


def test_shapley_exact_by_hand():
    # rates: {a} .1, {b} .2, {a,b} .4 with 100 journeys each; r(empty) = 0
    # v(a)=20, v(b)=40, v(ab)=70 -> a = (20 + 30)/2 = 25, b = (40 + 50)/2 = 45
    df = pd.DataFrame(
        {"path": ["a", "b", "a > b"], "total_conversions": [10, 20, 40], "total_null": [90, 80, 60]}
    )
    s = shapley(load_journeys(df), prior_strength=0.0)
    assert s.to_dict() == pytest.approx({"a": 25.0, "b": 45.0})
    # a known baseline is not credited to any channel: v(empty) = 300 * .05 = 15
    s2 = shapley(load_journeys(df), prior_strength=0.0, baseline_rate=0.05)
    assert s2.sum() == pytest.approx(70 - 15)


def test_shapley_sampled_agrees_with_exact():
    sim = simulate("independent", 6_000, random_state=1)
    d = load_journeys(sim.touches)
    ex = shapley(d, method="exact")
    sa = shapley(d, method="sampled", n_permutations=4000, random_state=0)
    np.testing.assert_allclose(sa / sa.sum(), ex / ex.sum(), atol=0.01)


def _many_channel_paths(C: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"ch{i:02d}" for i in range(C)]
    rows = []
    for _ in range(300):
        k = rng.integers(1, 4)
        rows.append(" > ".join(rng.choice(names, k)))
    return pd.DataFrame(
        {"path": rows, "conversions": rng.integers(0, 5, 300), "nulls": rng.integers(1, 9, 300)}
    )


def test_more_than_20_channels_switch_to_sampling_with_a_warning():
    df = _many_channel_paths(22)
    with pytest.warns(UserWarning, match="more than 20 channels.*sampled permutations"):
        s = shapley(load_journeys(df), method="exact", n_permutations=200)
    assert len(s) == 22 and np.isfinite(s).all()
    with pytest.warns(UserWarning, match="sampled"):
        res = attribute(df, ["shapley"], shapley_method="exact", shapley_permutations=200)
    assert res.notes and "sampled" in res.notes[0]
    # auto: exact up to 12, sampled (and said so) beyond
    with pytest.warns(UserWarning, match="13 channels > 12"):
        shapley(load_journeys(_many_channel_paths(13)), n_permutations=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shapley(load_journeys(_many_channel_paths(12)))


def test_logistic_credits_the_stronger_channel():
    df = pd.DataFrame(
        {
            "path": ["a", "b", "a > b", "c"],
            "total_conversions": [50, 5, 60, 4],
            "total_null": [450, 495, 440, 496],
        }
    )
    lg = logistic(load_journeys(df), baseline_rate=0.01)
    assert lg["a"] > 3 * lg["b"] and (lg >= 0).all()


def test_log_and_path_table_give_the_same_credits():
    sim = simulate("synergy", 4_000, random_state=0)
    models = ["first_touch", "last_touch", "linear", "position", "markov_1", "markov_2"]
    a = attribute(sim.touches, models).credits
    b = attribute(sim.path_table(), models).credits
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-6)


def _log():
    return pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u2", "u3"],
            "timestamp": [
                "2026-01-01 10:00",
                "2026-01-02 10:00",
                "2026-01-03",
                "2026-01-01",
                "2026-01-05",
            ],
            "channel": ["email", "search", "display", "search", "email"],
            "converted": [1, 1, 0, 0, "1"],
        }
    )


def test_log_out_of_order_timestamps_name_the_user():
    with pytest.raises(DataError, match=r"timestamps go backwards within user 'u2'.*sort"):
        load_journeys(_log())
    d = from_log(_log(), sort=True)
    assert d.n_journeys == 3
    assert d.conversions.tolist() == [1.0, 0.0, 1.0]
    lt = attribute(d, ["last_touch"]).credits["last_touch"]
    assert lt.to_dict() == {"display": 0.0, "email": 1.0, "search": 1.0}


def test_bad_inputs_have_clear_errors():
    with pytest.raises(DataError, match=r"unknown channel\(s\) \['c'\]"):
        attribute(PATHS, ["linear"], channels=["a", "b"])
    bad = PATHS.assign(path=["a > b", "  ", "c", "a"])
    with pytest.raises(DataError, match=r"empty paths \(rows \[1\]\)"):
        load_journeys(bad)
    with pytest.raises(DataError, match="empty step"):
        load_journeys(PATHS.assign(path=["a >  > b", "b", "c", "a"]))
    with pytest.raises(DataError, match="negative counts"):
        load_journeys(PATHS.assign(total_null=[1, -2, 0, 1]))
    with pytest.raises(DataError, match="cannot tell what this table is"):
        load_journeys(pd.DataFrame({"x": [1], "y": [2]}))
    with pytest.raises(DataError, match="unknown attribution model 'magic'"):
        attribute(PATHS, ["magic"])
    with pytest.raises(DataError, match=r"channel.*missing in row 1"):
        load_journeys(_log().assign(channel=["a", None, "b", "c", "d"]))
    with pytest.raises(DataError, match="'converted' has 'maybe'"):
        from_log(_log().assign(converted=["1", "maybe", "0", "0", "1"]), sort=True)
    with pytest.raises(DataError, match="unknown channel"):
        from_log(_log(), channels=["email", "search"], sort=True)


def test_budget_regret_and_scores():
    t = np.array([0.5, 0.3, 0.2])
    assert budget_regret(t, t) == pytest.approx(0.0)
    assert budget_regret(np.array([1.0, 0, 0]), t) == pytest.approx(1 - np.sqrt(0.5))
    assert budget_regret(np.array([0.4, 0.3, 0.3]), t) < budget_regret(np.array([0.1, 0.1, 0.8]), t)
    s = score_shares(pd.Series(t, index=list("abc")), pd.Series(t, index=list("abc")))
    assert s["mae"] == 0 and s["kendall_tau"] == pytest.approx(1.0)


def test_lab_shows_where_models_fail(tmp_path):
    lab = evaluate(
        ["independent", "search_harvests"],
        seeds=2,
        n_users=8_000,
        models=["last_touch", "markov_1", "shapley"],
    )
    s = lab.summary().set_index(["scenario", "model"])
    assert s.loc[("independent", "shapley"), "mae_mean"] < 0.03
    # search only harvests: last-click gives it the lion's share of a zero truth
    assert s.loc[("search_harvests", "last_touch"), "mae_mean"] > 0.2
    assert s.loc[("search_harvests", "last_touch"), "regret_mean"] > 0.2
    assert len(lab.runs) == 2 * 2 * 3
    p = lab.write(tmp_path / "lab.html")
    text = p.read_text()
    assert "<svg" in text and "Budget regret" in text and "search_harvests" in text
    js = json.loads(p.with_suffix(".json").read_text())
    assert js["seeds"] == [0, 1] and js["summary"]


runner = CliRunner()


def test_cli_simulate_run_and_evaluate(tmp_path):
    out = tmp_path / "log.csv"
    r = runner.invoke(app, ["journeys", "simulate", "-s", "search_harvests", "-n", "3000",
                            "--seed", "1", "-o", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert out.exists() and (tmp_path / "log.truth.json").exists()
    truth = json.loads((tmp_path / "log.truth.json").read_text())
    assert truth["shares"]["search"] == 0
    r = runner.invoke(app, ["attribution", "run", str(out), "--models", "last_touch,markov_2",
                            "-o", str(tmp_path / "cred.csv")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "markov_2" in r.output
    cred = pd.read_csv(tmp_path / "cred.csv")
    assert set(cred.columns) == {"channel", "last_touch", "markov_2"}
    paths = tmp_path / "paths.csv"
    r = runner.invoke(app, ["journeys", "simulate", "-n", "2000", "--paths", "-o", str(paths)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["attribution", "run", str(paths), "--models", "linear"])
    assert r.exit_code == 0, r.output
    rep = tmp_path / "lab.html"
    cmd = ["attribution", "evaluate", "--scenarios", "independent", "--seeds", "1", "-n", "2000",
           "--models", "last_touch", "--report", str(rep)]  # fmt: skip
    r = runner.invoke(app, cmd)
    assert r.exit_code == 0, r.output
    assert rep.exists()


def test_cli_errors_are_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"x": [1], "y": [2]}).to_csv(bad, index=False)
    exe = Path(sys.executable).with_name("synthcust")
    r = subprocess.run([str(exe), "attribution", "run", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "cannot tell what this table is" in r.stderr
    cmd = [str(exe), "journeys", "simulate", "-s", "nope", "-o", str(tmp_path / "o.csv")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 1 and "unknown scenario 'nope'" in r.stderr


def test_bench_scripts_smoke(tmp_path):
    """The benchmarks run end to end; a missing ChannelAttribution is said, not hidden."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run(
        [sys.executable, str(root / "bench" / "bench_attribution.py"), "--quick",
         "--peer-python", str(tmp_path / "no-such-python"), "--out-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    md = next(tmp_path.glob("attribution_*.md")).read_text()
    assert "Peer not run" in md and "not installed" in md
    r = subprocess.run(
        [sys.executable, str(root / "bench" / "bench_journeys.py"), "--quick", "--users", "20000",
         "--no-attribution", "--out-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    js = json.loads(next(tmp_path.glob("journeys_*.json")).read_text())
    assert js["rows"][0]["users"] == 20000 and js["rows"][0]["touch_rows"] > 0
