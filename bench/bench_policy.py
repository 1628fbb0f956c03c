#!/usr/bin/env python
"""Policies on synthetic customers, and how honest the experiment intervals are.

1. **Pricing policies in ``synthcust/Pricing-v0``** (:class:`synthcust.simulation.env.PricingEnv`)
   on a simulated market whose truth is known: two personas (thrifty: price coefficient -3,
   loyal: -0.6), a no-purchase option, a competitor; a 2-class latent-class logit with
   persona-driven membership is fitted on 400 households x 8 occasions and drives the
   environment (reward: margin, unit cost 1.0). Compared: the constant baseline (today's mean
   price), an epsilon-greedy bandit over a 9-point price grid for everyone, the same bandit per
   persona, and the oracle (the best grid price per persona, by exact expected reward under the
   fitted model). Each policy learns online for ``--steps`` customers; reported: the mean
   reward while learning, and the exact expected margin per customer of the learned (greedy)
   rule over the whole population, also under the **true** simulation parameters (does the
   policy learned on the model pay off in the "real" market?).
2. **Real panel** (``shared/data/choice/catsup.csv``, when present): an MNL (price, display,
   feature) drives the environment; the policy prices heinz32 (revenue of heinz32, inside its
   5th-95th percentile price range), baseline vs bandit vs oracle.
3. **Calibration of the A/B intervals**: ``--reps`` simulated data sets from a known MNL with a
   no-purchase option; fit, simulate a -5% price test, and count how often the 95% interval of
   the lift contains the true lift (computed with the true parameters on the same customers).
4. **Calibration of the funnel intervals**: ``--reps`` simulated session data sets (3 personas,
   3 steps); share of the 95% posterior intervals of the step-through probabilities that
   contain the planted ones.

Usage::

    python bench/bench_policy.py            # everything (about a minute)
    python bench/bench_policy.py --quick    # fewer steps and repetitions

Results: ``bench/results/policy_<date>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust.simulation.abtest import run_abtest
from synthcust.simulation.choice import (
    LatentClassLogit,
    MultinomialLogit,
    choice_data,
    detect_spec,
)
from synthcust.simulation.env import (
    ConstantPolicy,
    EpsilonGreedyPricing,
    PricingEnv,
    expected_reward,
    run_policy,
)
from synthcust.simulation.funnel import fit_funnel

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "choice"


# --------------------------------------------------------------------------- 1. simulated market
def _market(hh: int, occ: int, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    rng = np.random.default_rng(seed)
    persona = rng.choice(["thrifty", "loyal"], hh, p=[0.6, 0.4])
    df = pd.DataFrame({"id": np.repeat(np.arange(hh), occ)})
    n = len(df)
    df["persona"] = persona[df["id"]]
    df["price.none"] = 1.0
    df["price.a"] = rng.uniform(1.5, 4.0, n).round(2)
    df["price.b"] = rng.uniform(1.5, 4.0, n).round(2)
    truth = {"thrifty": -3.0, "loyal": -0.6}
    b = df["persona"].map(truth).to_numpy()
    V = np.column_stack([np.zeros(n), 3.0 + b * df["price.a"], 2.5 + b * df["price.b"]])
    df["choice"] = np.array(["none", "a", "b"])[(V + rng.gumbel(size=V.shape)).argmax(1)]
    return df, truth


def _true_margin(df: pd.DataFrame, truth: dict[str, float], rule: Any, cost: float) -> float:
    """Expected margin of ``rule`` (persona -> price array, or one array) under the truth."""
    b = df["persona"].map(truth).to_numpy()
    price = np.array([
        float(np.asarray(rule[p] if isinstance(rule, dict) else rule).ravel()[0])
        for p in df["persona"]
    ])  # fmt: skip
    V = np.column_stack([np.zeros(len(df)), 3.0 + b * price, 2.5 + b * df["price.b"]])
    P = np.exp(V - V.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    return float((P[:, 1] * (price - cost)).mean())


def bench_market(steps: int, seed: int = 0) -> dict[str, Any]:
    df, truth = _market(400, 8, seed)
    spec = detect_spec(df, persona="persona")
    t = time.perf_counter()
    m = LatentClassLogit(2, n_init=2, random_state=0).fit(choice_data(df, spec))
    fit_s = time.perf_counter() - t
    cost = 1.0
    env = PricingEnv(m, df, controlled=["a"], cost={"a": cost}, reward="margin",
                     price_range={"a": (1.5, 4.0)}, horizon=100)  # fmt: skip
    grid = np.linspace(1.5, 4.0, 9)
    rows = []
    base = ConstantPolicy(env)
    pols = {
        "constant (mean price)": base,
        "epsilon-greedy, one price": EpsilonGreedyPricing(env, grid_points=9, epsilon=0.1,
                                                          per_persona=False, random_state=0),
        "epsilon-greedy per persona": EpsilonGreedyPricing(env, grid_points=9, epsilon=0.1,
                                                           random_state=0),
    }  # fmt: skip
    for name, pol in pols.items():
        t = time.perf_counter()
        online = run_policy(env, pol, steps, seed=1)
        secs = time.perf_counter() - t
        rule = pol.rule()
        er = expected_reward(env, rule)
        rows.append({"policy": name, "online_mean_reward": online["mean_reward"],
                     "online_se": online["se"], "steps_per_s": steps / secs,
                     "model_expected": er["all"], "model_thrifty": er["thrifty"],
                     "model_loyal": er["loyal"],
                     "true_expected": _true_margin(df, truth, rule, cost),
                     "rule": _rule_str(rule)})  # fmt: skip
    # oracle: the best grid price per persona under the fitted model
    by = {p: max(grid, key=lambda g, p=p: expected_reward(env, np.array([g]))[p])
          for p in env.personas}  # fmt: skip
    oracle = {p: np.array([v]) for p, v in by.items()}
    er = expected_reward(env, oracle)
    rows.append({"policy": "oracle (best grid price per persona)", "online_mean_reward": None,
                 "online_se": None, "steps_per_s": None, "model_expected": er["all"],
                 "model_thrifty": er["thrifty"], "model_loyal": er["loyal"],
                 "true_expected": _true_margin(df, truth, oracle, cost),
                 "rule": _rule_str(oracle)})  # fmt: skip
    return {"households": 400, "occasions": len(df), "fit_seconds": fit_s, "steps": steps,
            "class_table": m.class_table().round(3).to_dict(), "policies": rows}  # fmt: skip


def _rule_str(rule: Any) -> str:
    if isinstance(rule, dict):
        return ", ".join(f"{k}: {float(np.asarray(v).ravel()[0]):.2f}" for k, v in rule.items())
    return f"{float(np.asarray(rule).ravel()[0]):.2f}"


# --------------------------------------------------------------------------- 2. real panel
def bench_catsup(steps: int) -> dict[str, Any] | None:
    path = DATA / "catsup.csv"
    if not path.is_file():
        return None
    df = pd.read_csv(path)
    d = choice_data(df, detect_spec(df), bad_prices="drop")
    m = MultinomialLogit().fit(d)
    q = np.quantile(df["price.heinz32"], [0.05, 0.95])
    env = PricingEnv(m, df, controlled=["heinz32"], price_range={"heinz32": tuple(q)},
                     horizon=100)  # fmt: skip
    base = ConstantPolicy(env)
    bandit = EpsilonGreedyPricing(env, grid_points=9, epsilon=0.1, per_persona=False)
    on_b = run_policy(env, bandit, steps, seed=1)
    on_0 = run_policy(env, base, steps, seed=1)
    grid = np.linspace(q[0], q[1], 9)
    curve = {f"{g:.2f}": expected_reward(env, np.array([g]))["all"] for g in grid}
    return {"occasions": d.n, "price_range": [float(q[0]), float(q[1])],
            "baseline_price": float(base.prices[0]),
            "baseline_expected": expected_reward(env, base.rule())["all"],
            "bandit_rule": _rule_str(bandit.rule()),
            "bandit_expected": expected_reward(env, bandit.rule())["all"],
            "online_bandit": on_b["mean_reward"], "online_baseline": on_0["mean_reward"],
            "revenue_curve": curve}  # fmt: skip


# --------------------------------------------------------------------------- 3./4. calibration
def calib_abtest(reps: int) -> dict[str, Any]:
    hits, widths = 0, []
    theta = np.array([0.8, 0.3, -2.0])
    for r in range(reps):
        rng = np.random.default_rng(100 + r)
        n = 1500
        pr = rng.uniform(1, 2, (n, 2))
        V = np.column_stack([np.zeros(n), theta[0] + theta[2] * pr[:, 0],
                             theta[1] + theta[2] * pr[:, 1]])  # fmt: skip
        y = (V + rng.gumbel(size=V.shape)).argmax(1)
        df = pd.DataFrame({"price.none": 1.0, "price.a": pr[:, 0], "price.b": pr[:, 1]})
        df["choice"] = np.array(["none", "a", "b"])[y]
        m = MultinomialLogit().fit(choice_data(df, detect_spec(df)))
        res = run_abtest(m, df, ["A:", "B:price.a=-5%"], n_draws=200, random_state=r)
        lift = res.lift.iloc[0]

        def conv(pa: np.ndarray, pb: np.ndarray = pr[:, 1]) -> float:
            U = np.column_stack([np.zeros(len(pa)), theta[0] + theta[2] * pa,
                                 theta[1] + theta[2] * pb])  # fmt: skip
            P = np.exp(U - U.max(1, keepdims=True))
            P /= P.sum(1, keepdims=True)
            return float(1 - P[:, 0].mean())

        true = 100 * (conv(pr[:, 0] * 0.95) - conv(pr[:, 0]))
        hits += lift["diff_low"] <= true <= lift["diff_high"]
        widths.append(lift["diff_high"] - lift["diff_low"])
    return {"reps": reps, "coverage_95": hits / reps, "mean_width_pts": float(np.mean(widths))}


def calib_funnel(reps: int) -> dict[str, Any]:
    true = {"p1": [0.7, 0.3, 0.5], "p2": [0.65, 0.45, 0.7], "p3": [0.6, 0.35, 0.55]}
    steps = ["landing", "product", "cart", "checkout"]
    out: dict[str, Any] = {"reps": reps}
    for prior in ("eb", "uniform"):
        hits = total = 0
        for r in range(reps):
            rng = np.random.default_rng(500 + r)
            S = 2000
            pers = rng.choice(list(true), S, p=[0.6, 0.35, 0.05])
            P = np.array([true[p] for p in pers])
            furthest = np.cumprod(rng.random((S, 3)) < P, axis=1).sum(1)
            sess = np.repeat(np.arange(S), furthest + 1)
            code = np.concatenate([np.arange(f + 1) for f in furthest])
            ev = pd.DataFrame({"session": sess, "step": np.array(steps)[code],
                               "persona": pers[sess]})  # fmt: skip
            t = fit_funnel(ev, steps, persona="persona", prior=prior).step_table()
            pairs = zip(t["group"], t["to_step"], strict=True)
            tv = np.array([true[g][steps.index(s) - 1] for g, s in pairs])
            hits += int(((t["low"] <= tv) & (tv <= t["high"])).sum())
            total += len(t)
        out[f"coverage_95_{prior}"] = hits / total
    return out


# --------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out-dir", type=Path, default=HERE / "results")
    a = ap.parse_args()
    steps = 5000 if a.quick else 20000
    reps = 20 if a.quick else 100
    t0 = time.perf_counter()
    res: dict[str, Any] = {"date": _dt.date.today().isoformat(), "quick": a.quick}
    res["market"] = bench_market(steps)
    res["catsup"] = bench_catsup(steps)
    res["abtest_calibration"] = calib_abtest(reps)
    res["funnel_calibration"] = calib_funnel(reps)
    res["seconds"] = time.perf_counter() - t0
    md = [f"# Policies and experiment calibration ({res['date']}{', quick' if a.quick else ''})",
          "", f"## Simulated market ({res['market']['occasions']:,} occasions, LC fit "
          f"{res['market']['fit_seconds']:.1f} s, {steps:,} learning steps per policy)", "",
          "| policy | learned rule | online reward | expected margin (model) | thrifty | loyal "
          "| expected margin (truth) |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in res["market"]["policies"]:
        on = "" if r["online_mean_reward"] is None else (
            f"{r['online_mean_reward']:.4f} +- {r['online_se']:.4f}")  # fmt: skip
        md.append(f"| {r['policy']} | {r['rule']} | {on} | {r['model_expected']:.4f} | "
                  f"{r['model_thrifty']:.4f} | {r['model_loyal']:.4f} | "
                  f"{r['true_expected']:.4f} |")  # fmt: skip
    c = res["catsup"]
    if c:
        md += ["", f"## catsup (MNL, heinz32 priced in [{c['price_range'][0]:.2f}, "
               f"{c['price_range'][1]:.2f}])", "",
               f"baseline {c['baseline_price']:.2f}: expected revenue {c['baseline_expected']:.4f}"
               f"; bandit {c['bandit_rule']}: {c['bandit_expected']:.4f} (online "
               f"{c['online_bandit']:.4f} vs {c['online_baseline']:.4f})"]  # fmt: skip
    ab, fn = res["abtest_calibration"], res["funnel_calibration"]
    md += ["", "## Calibration", "",
           f"A/B lift 95% interval coverage: {ab['coverage_95']:.3f} over {ab['reps']} data "
           f"sets (mean width {ab['mean_width_pts']:.2f} pts)",
           f"Funnel 95% interval coverage: hierarchical {fn['coverage_95_eb']:.3f}, uniform "
           f"{fn['coverage_95_uniform']:.3f} over {fn['reps']} data sets x 9 probabilities",
           "", f"Total {res['seconds']:.0f} s"]  # fmt: skip
    text = "\n".join(md) + "\n"
    print(text)
    from synthcust.io.atomic import atomic_write_text

    stem = f"policy_{res['date']}" + ("_quick" if a.quick else "")
    a.out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out_dir / f"{stem}.json", json.dumps(res, indent=1, default=float) + "\n")
    atomic_write_text(a.out_dir / f"{stem}.md", text)


if __name__ == "__main__":
    main()
