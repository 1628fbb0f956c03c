"""Funnel simulation: planted drop-off recovered, what-ifs, bad step graphs and probabilities."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthcust.exceptions import DataError
from synthcust.simulation.funnel import check_steps, fit_funnel, funnel_from_probabilities

STEPS = ["landing", "product", "cart", "checkout"]
TRUE = {"mobile": [0.7, 0.3, 0.5], "desktop": [0.7, 0.5, 0.7], "tablet": [0.65, 0.4, 0.6]}


def _sessions(S: int = 6000, seed: int = 0, shares=(0.5, 0.4, 0.1)) -> pd.DataFrame:
    """One row per session x step reached, with planted per-persona step-through rates."""
    rng = np.random.default_rng(seed)
    pers = rng.choice(list(TRUE), S, p=list(shares))
    P = np.array([TRUE[p] for p in pers])
    furthest = np.cumprod(rng.random((S, 3)) < P, axis=1).sum(1)
    sess = np.repeat(np.arange(S), furthest + 1)
    code = np.concatenate([np.arange(f + 1) for f in furthest])
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(sess * 100 + code, unit="s")
    return pd.DataFrame({"session": sess, "step": np.array(STEPS)[code],
                         "persona": pers[sess], "ts": ts})  # fmt: skip


def test_posterior_recovers_planted_dropoff():
    f = fit_funnel(_sessions(), STEPS, persona="persona", timestamp="ts")
    t = f.step_table().set_index(["group", "to_step"])
    err, inside = [], 0
    for g, ps in TRUE.items():
        for s, p in zip(STEPS[1:], ps, strict=True):
            row = t.loc[(g, s)]
            err.append(abs(row["p_through"] - p))
            inside += row["low"] <= p <= row["high"]
    assert max(err) < 0.05
    assert inside >= 8  # 95% intervals: at most one of nine misses
    assert f.notes == []  # data in order, no skipped steps


def test_where_each_persona_is_lost_and_what_if():
    f = fit_funnel(_sessions(), STEPS, persona="persona")
    r = f.what_if({"cart": "odds*1.5"}, n_draws=500)
    # drop-off shares (lost at each step + completed) sum to 1 for every group
    tot = r.table.groupby("group")["share"].sum()
    assert np.allclose(tot, 1)
    comp = r.completion.set_index("group")
    # less friction at cart raises completion for everyone, interval above zero
    assert (comp["change_low"] > 0).all()
    # mobile's low product->cart rate (0.3) makes 'product' its biggest loss
    assert comp.loc["mobile", "most_lost_at"] == "product"
    # the odds change is exactly the odds-multiplier formula on the posterior mean
    p = f.mean[f.groups.index("desktop"), 1]
    p1 = 1.5 * p / (1 - p + 1.5 * p)
    assert comp.loc["desktop", "completion_after"] == pytest.approx(
        comp.loc["desktop", "completion"] * p1 / p, rel=1e-9
    )
    assert any("assumption" in a for a in r.rests_on["assumptions"])
    page = r.to_html()
    assert "<svg" in page and "Unvalidated assumptions" in page
    assert json.dumps(r.to_dict())  # JSON-able


def test_empirical_bayes_shrinks_a_tiny_persona():
    df = _sessions(S=3000, shares=(0.49, 0.49, 0.02))
    eb = fit_funnel(df, STEPS, persona="persona", prior="eb")
    flat = fit_funnel(df, STEPS, persona="persona", prior="uniform")
    k = eb.groups.index("tablet")
    pooled = eb.mean[[eb.groups.index("mobile"), eb.groups.index("desktop")]].mean(0)
    # the EB estimate of the 60-session persona lies closer to the others than the flat one
    assert np.abs(eb.mean[k] - pooled).sum() < np.abs(flat.mean[k] - pooled).sum()


def test_given_probabilities():
    f = funnel_from_probabilities({"a": {"product": 0.5, "cart": 0.4, "checkout": 0.5},
                                   "b": {"product": 0.8, "cart": 0.5, "checkout": 0.5}},
                                  STEPS, weights={"a": 3, "b": 1})  # fmt: skip
    r = f.what_if({"checkout": "+0.1"})
    c = r.completion.set_index("group")
    assert c.loc["a", "completion"] == pytest.approx(0.1)
    assert c.loc["all", "completion"] == pytest.approx(0.75 * 0.1 + 0.25 * 0.2)
    assert c.loc["a", "completion_after"] == pytest.approx(0.5 * 0.4 * 0.6)
    assert r.n_draws == 0 and "given" in r.rests_on["assumptions"][0]


def test_bad_input():
    with pytest.raises(DataError, match="cycle: cart -> checkout -> cart"):
        check_steps("landing>cart,cart>checkout,checkout>cart")
    with pytest.raises(DataError, match="cycle"):
        check_steps(["landing", "cart", "landing"])
    with pytest.raises(DataError, match="branches"):
        check_steps("landing>product,landing>search")
    with pytest.raises(DataError, match="outside \\[0, 1\\]"):
        funnel_from_probabilities({"product": 1.2, "cart": 0.3, "checkout": 0.5}, STEPS)
    with pytest.raises(DataError, match="outside \\[0, 1\\]"):
        funnel_from_probabilities({"product": 0.5, "cart": 0.5, "checkout": 0.5},
                                  STEPS).what_if({"cart": "+0.6"})  # fmt: skip
    with pytest.raises(DataError, match="unknown step"):
        funnel_from_probabilities({"product": 0.5, "basket": 0.3, "checkout": 0.5}, STEPS)
    df = _sessions(S=300)
    with pytest.raises(DataError, match="'basket'"):
        fit_funnel(df.replace({"step": {"cart": "basket"}}), STEPS)
    f = fit_funnel(df.replace({"step": {"cart": "basket"}}), STEPS, unknown="ignore")
    assert any("ignored" in n for n in f.notes) and any("skip a step" in n for n in f.notes)
    with pytest.raises(DataError, match="entry step"):
        f.what_if({"landing": "odds*2"})
    with pytest.raises(DataError, match="'sess'"):
        fit_funnel(df, STEPS, session="sess")


def test_cli_funnel(tmp_path):
    from synthcust.cli import app

    _sessions(S=1000).to_csv(tmp_path / "ev.csv", index=False)
    r = CliRunner().invoke(app, [
        "funnel", str(tmp_path / "ev.csv"), "--steps", ",".join(STEPS), "--persona", "persona",
        "--change", "cart=odds*1.2", "--report", str(tmp_path / "f.html"),
    ])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "<svg" in (tmp_path / "f.html").read_text()
    d = json.loads((tmp_path / "f.json").read_text())
    assert d["changes"] == {"cart": "odds*1.2"} and len(d["completion"]) == 4
    (tmp_path / "p.json").write_text(json.dumps({"product": 0.5, "cart": 0.4, "checkout": 0.5}))
    g = CliRunner().invoke(app, ["funnel", "--given", str(tmp_path / "p.json"), "--steps",
                                 ",".join(STEPS), "-o", str(tmp_path / "g.json")])  # fmt: skip
    assert g.exit_code == 0, g.output
    comp = json.loads((tmp_path / "g.json").read_text())["completion"][0]["completion"]
    assert comp == pytest.approx(0.1)
    bad = CliRunner().invoke(app, ["funnel", str(tmp_path / "ev.csv"), "--steps",
                                   "landing>product,product>landing"])  # fmt: skip
    assert bad.exit_code != 0 and "cycle" in str(bad.exception)
