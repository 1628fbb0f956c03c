#!/usr/bin/env python
"""Choice models and scenarios: our estimator against xlogit, scenario speed, validation.

1. **MNL estimates and speed, side by side**: ``synthcust.simulation.choice.MultinomialLogit``
   (vectorised Newton-Raphson, analytic gradient and Hessian) against ``xlogit``'s
   ``MultinomialLogit`` (BFGS, numerical Hessian for standard errors by default) on the real
   cracker and catsup panels (constants + price + display + feature). Each fit is repeated and
   the median wall time reported. Of the libraries the issue names, only xlogit installs
   cleanly next to our dependencies (biogeme 3.3 would downgrade pandas and pull jax/pymc;
   choice-learn pulls TensorFlow), so it is the one compared.
2. **Scenario speed**: 1,000,000 synthetic customers (catsup occasions resampled, two personas)
   through a +10% price scenario with the MNL and the 3-class latent-class model: shares,
   revenue, switching matrix (point estimate), then with 100 parameter draws for intervals
   (computed on 50,000 customers).
3. **Behaviour validation** (``synthcust validate-behaviour``) on cracker, catsup and OJ.
4. **Heterogeneity against a library**: xlogit's panel mixed logit (random constants and price)
   on the same holdout split as our 3-class latent-class logit.

Timings are wall-clock on a machine shared with other jobs (2 cores for several agents), so
they are upper bounds. Usage::

    python bench/bench_choice.py            # everything (a few minutes)
    python bench/bench_choice.py --quick    # 100k customers, fewer repeats

Results: ``bench/results/choice_<date>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust.simulation.choice import (
    LatentClassLogit,
    MultinomialLogit,
    choice_data,
    detect_spec,
    wide_to_long,
)
from synthcust.simulation.scenarios import Scenario, simulate
from synthcust.simulation.validation import validate_behaviour

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "choice"


def _median_time(fn, repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def bench_mnl(name: str, repeats: int) -> dict[str, Any]:
    df = pd.read_csv(DATA / f"{name}.csv")
    spec = detect_spec(df)
    d = choice_data(df, spec, bad_prices="drop")
    t_ours, m = _median_time(lambda: MultinomialLogit().fit(d), repeats)
    s = m.summary()
    out: dict[str, Any] = {
        "dataset": name,
        "occasions": d.n,
        "ours": {"seconds": t_ours, "loglik": m.loglik_,
                 "estimate": s["estimate"].to_dict(), "std_err": s["std_err"].to_dict()},
    }  # fmt: skip
    try:
        from xlogit import MultinomialLogit as XMNL
    except ImportError:
        out["xlogit"] = None
        return out
    keep = df.index.isin(d.rows)
    # xlogit names its intercepts after the sorted alternatives but takes the base from the
    # data order: sort each occasion's rows by alternative so the labels are right
    long = wide_to_long(df[keep], spec).sort_values(["occasion", "alternative"], kind="stable")
    varnames = spec.attribute_names

    def fit_x():
        x = XMNL()
        x.fit(X=long[varnames].to_numpy(float), y=long["chosen"].to_numpy(), varnames=varnames,
              alts=long["alternative"].to_numpy(), ids=long["occasion"].to_numpy(),
              fit_intercept=True, base_alt=spec.base_alt, verbose=0)  # fmt: skip
        return x

    t_x, x = _median_time(fit_x, repeats)
    xs = dict(zip(x.coeff_names, x.coeff_, strict=True))
    xse = dict(zip(x.coeff_names, x.stderr, strict=True))

    def ours_name(n: str) -> str:
        return n.replace("_intercept.", "asc:") if n.startswith("_intercept.") else n

    out["xlogit"] = {
        "seconds": t_x,
        "loglik": float(x.loglikelihood),
        "estimate": {ours_name(k): float(v) for k, v in xs.items()},
        "std_err": {ours_name(k): float(v) for k, v in xse.items()},
    }
    diffs = [abs(out["xlogit"]["estimate"][k] - v) for k, v in out["ours"]["estimate"].items()
             if k in out["xlogit"]["estimate"]]  # fmt: skip
    out["max_abs_estimate_diff"] = float(max(diffs)) if diffs else None
    return out


def bench_calibration(reps: int) -> dict[str, Any]:
    """z-scores (estimate - truth) / s.e. of our MNL over ``reps`` simulated data sets."""
    truth = {"asc:b": 0.5, "asc:c": -0.4, "price": -1.2, "disp": 0.8}
    zs = []
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        n = 4000
        price = rng.uniform(1, 3, (n, 3))
        disp = (rng.random((n, 3)) < 0.25).astype(int)
        V = np.array([0.0, 0.5, -0.4]) - 1.2 * price + 0.8 * disp
        y = (V + rng.gumbel(size=V.shape)).argmax(1)
        df = pd.DataFrame({f"price.{a}": price[:, j] for j, a in enumerate("abc")})
        for j, a in enumerate("abc"):
            df[f"disp.{a}"] = disp[:, j]
        df["choice"] = np.array(list("abc"))[y]
        s = MultinomialLogit().fit(choice_data(df, detect_spec(df))).summary()
        zs.append([(s.loc[k, "estimate"] - v) / s.loc[k, "std_err"] for k, v in truth.items()])
    z = np.array(zs)
    return {
        "reps": reps,
        "parameters": list(truth),
        "z_mean": z.mean(0).tolist(),
        "z_sd": z.std(0).tolist(),
        "coverage_95": (np.abs(z) < 1.96).mean(0).tolist(),
    }


def bench_scenario(n: int, draws: int) -> dict[str, Any]:
    df = pd.read_csv(DATA / "catsup.csv")
    d = choice_data(df, detect_spec(df))
    mnl = MultinomialLogit().fit(d)
    lc = LatentClassLogit(3, random_state=0).fit(d)
    pop = df.drop(columns="choice").sample(n, replace=True, random_state=0).reset_index(drop=True)
    pop["persona"] = np.where(np.arange(n) % 3 == 0, "deal seeker", "regular")
    sc = Scenario("heinz32 +10%", price={"heinz32": "+10%"})
    out: dict[str, Any] = {"customers": n, "scenario": sc.describe(), "cpu_count": os.cpu_count()}
    for label, model in (("mnl", mnl), ("latent_class_3", lc)):
        t0 = time.perf_counter()
        r = simulate(model, pop, sc, persona="persona", n_draws=0)
        t1 = time.perf_counter()
        r2 = simulate(model, pop, sc, persona="persona", n_draws=draws)
        t2 = time.perf_counter()
        s = r2.shares[r2.shares["group"] == "all"].set_index("alternative")
        out[label] = {
            "seconds_point": t1 - t0,
            "seconds_with_draws": t2 - t1,
            "draws": draws,
            "heinz32_change_pts": float(s.loc["heinz32", "change_pts"]),
            "heinz32_change_interval": [
                float(s.loc["heinz32", "change_low"]),
                float(s.loc["heinz32", "change_high"]),
            ],
            "revenue_change_pct": float(r.revenue.loc[0, "change_pct"]),
        }
    return out


def bench_mixed(name: str, bad: str) -> dict[str, Any] | None:
    """xlogit's panel mixed logit (normal random constants and price, 200 Halton draws) on the
    validation split, predicting the held-out occasions unconditionally (xlogit has no
    prediction conditional on a household's history), against our latent-class model."""
    try:
        from xlogit import MixedLogit
    except ImportError:
        return None
    from synthcust.simulation.validation import holdout_split

    df = pd.read_csv(DATA / f"{name}.csv")
    spec = detect_spec(df)
    d = choice_data(df, spec, bad_prices=bad)
    tr, te, _ = holdout_split(d)
    alts = list(spec.alternatives)
    varnames = [f"asc_{a}" for a in alts if a != spec.base_alt] + spec.attribute_names

    def to_long(mask: np.ndarray):
        sub = d.take(mask)
        n, J, _ = sub.X.shape
        long = pd.DataFrame({"occ": np.repeat(sub.rows, J), "alt": np.tile(alts, n),
                             "hh": np.repeat(sub.household, J)})  # fmt: skip
        for p, a in enumerate(spec.attribute_names):
            long[a] = sub.X[:, :, p].ravel()
        for a in alts:
            if a != spec.base_alt:
                long[f"asc_{a}"] = (long["alt"] == a).astype(float)
        long["chosen"] = (np.repeat(sub.y, J) == np.tile(np.arange(J), n)).astype(int)
        return long.sort_values(["hh", "occ", "alt"], kind="stable"), sub

    ltr, _ = to_long(tr)
    lte, test = to_long(te)
    rv = {v: "n" for v in varnames if v.startswith("asc_") or v == spec.price}
    t = time.perf_counter()
    m = MixedLogit()
    m.fit(X=ltr[varnames].to_numpy(), y=ltr["chosen"].to_numpy(), varnames=varnames,
          alts=ltr["alt"].to_numpy(), ids=ltr["occ"].to_numpy(), panels=ltr["hh"].to_numpy(),
          randvars=rv, n_draws=200, random_state=0, verbose=0)  # fmt: skip
    secs = time.perf_counter() - t
    _, P = m.predict(X=lte[varnames].to_numpy(), varnames=varnames, alts=lte["alt"].to_numpy(),
                     ids=lte["occ"].to_numpy(), panels=lte["hh"].to_numpy(), n_draws=200,
                     random_state=0, return_proba=True, verbose=0)  # fmt: skip
    P = pd.DataFrame(P, index=pd.unique(lte["occ"]), columns=sorted(alts))[alts]
    P = P.loc[test.rows].to_numpy()
    actual = np.bincount(test.y, minlength=len(alts)) / test.n
    t = time.perf_counter()
    lc = LatentClassLogit(3, random_state=0).fit(d.take(tr))
    lc_secs = time.perf_counter() - t

    def figures(Q: np.ndarray) -> dict[str, float]:
        return {
            "max_abs_share_diff_pts": float(100 * np.abs(Q.mean(0) - actual).max()),
            "hit_rate": float((Q.argmax(1) == test.y).mean()),
            "loglik_per_occasion": float(np.log(Q[np.arange(test.n), test.y]).mean()),
        }

    return {
        "dataset": name,
        "xlogit_mixed": {"train_loglik": float(m.loglikelihood), "parameters": len(m.coeff_),
                         "seconds": secs, **figures(P)},
        "ours_latent_class_3_prior": {"train_loglik": lc.loglik_, "parameters": len(lc.theta_),
                                      "seconds": lc_secs,
                                      **figures(lc.predict_proba(test, posterior=False))},
        "ours_latent_class_3_posterior": figures(lc.predict_proba(test, posterior=True)),
    }  # fmt: skip


def bench_validation() -> dict[str, Any]:
    setups = {
        "cracker": ({}, "drop", "synthcust validate-behaviour cracker.csv --drop-bad-prices"),
        "catsup": ({}, "error", "synthcust validate-behaviour catsup.csv"),
        "oj": (dict(choice="Purchase", price_prefix="SalePrice", attr_prefixes=["Special"],
                    covariates=["LoyalCH"], order="WeekofPurchase"), "error",
               "synthcust validate-behaviour oj.csv --choice Purchase --price-prefix SalePrice "
               "--attr-prefix Special --covariate LoyalCH --order WeekofPurchase"),
    }  # fmt: skip
    out = {}
    for name, (kw, bad, cmd) in setups.items():
        df = pd.read_csv(DATA / f"{name}.csv")
        d = choice_data(df, detect_spec(df, **kw), bad_prices=bad)
        t = time.perf_counter()
        v = validate_behaviour(d, n_classes=3, command=cmd)
        res = v.to_dict()
        res["seconds"] = time.perf_counter() - t
        out[name] = res
    return out


def to_markdown(res: dict[str, Any]) -> str:
    lines = [
        f"# Choice benchmark ({res['date']})",
        "",
        "Machine shared with other jobs (2 cores for several agents): times are upper bounds.",
        "",
        "## MNL: synthcust vs xlogit (constants + price + disp + feat)",
        "",
    ]
    for r in res["mnl"]:
        lines.append(f"### {r['dataset']} ({r['occasions']} occasions)")
        x = r.get("xlogit")
        lines.append("| parameter | ours | ours s.e. | xlogit | xlogit s.e. |")
        lines.append("|---|---|---|---|---|")
        for k, v in r["ours"]["estimate"].items():
            xv = x["estimate"].get(k, float("nan")) if x else float("nan")
            xse = x["std_err"].get(k, float("nan")) if x else float("nan")
            lines.append(f"| {k} | {v:.4f} | {r['ours']['std_err'][k]:.4f} | {xv:.4f} | "
                         f"{xse:.4f} |")  # fmt: skip
        lines.append(f"| log-likelihood | {r['ours']['loglik']:.3f} | | "
                     f"{x['loglik'] if x else float('nan'):.3f} | |")  # fmt: skip
        if r.get("max_abs_estimate_diff") is not None:
            d = r["max_abs_estimate_diff"]
            lines.append(f"| max abs estimate difference | {d:.2e} | | | |")
        lines.append(f"| seconds (median) | {r['ours']['seconds']:.4f} | | "
                     f"{x['seconds'] if x else float('nan'):.4f} | |")  # fmt: skip
        lines.append("")
    c = res["calibration"]
    lines += [f"## MNL calibration: {c['reps']} simulated data sets (n = 4000)", "",
              "| parameter | mean z | sd z | 95% coverage |", "|---|---|---|---|"]  # fmt: skip
    for i, p in enumerate(c["parameters"]):
        lines.append(f"| {p} | {c['z_mean'][i]:+.3f} | {c['z_sd'][i]:.3f} | "
                     f"{c['coverage_95'][i]:.3f} |")  # fmt: skip
    lines.append("")
    s = res["scenario"]
    lines += [f"## Scenario: {s['customers']:,} customers, {s['scenario']}", "",
              "| model | point (s) | with draws (s) | draws | heinz32 share change (pts) | "
              "revenue change (%) |", "|---|---|---|---|---|---|"]  # fmt: skip
    for k in ("mnl", "latent_class_3"):
        r = s[k]
        lo, hi = r["heinz32_change_interval"]
        lines.append(f"| {k} | {r['seconds_point']:.2f} | {r['seconds_with_draws']:.2f} | "
                     f"{r['draws']} | {r['heinz32_change_pts']:+.2f} [{lo:+.2f}, {hi:+.2f}] | "
                     f"{r['revenue_change_pct']:+.2f} |")  # fmt: skip
    lines += ["", "## Behaviour validation (last 20% of each household's occasions held out)",
              ""]  # fmt: skip
    for name, v in res["validation"].items():
        lines += [f"### {name}", "", f"`{v['command']}` ({v['seconds']:.1f} s; "
                  f"{v['split']['train_occasions']} train / {v['split']['test_occasions']} "
                  "held-out occasions)", "",
                  "| model | max abs share diff (pts) | noise 95% (pts) | hit rate | "
                  "loglik / occasion |", "|---|---|---|---|---|"]  # fmt: skip
        for sc in v["scores"]:
            lines.append(f"| {sc['name']} | {sc['max_abs_share_diff_pts']:.2f} | "
                         f"{sc['share_noise_pts']:.2f} | {sc['hit_rate']:.3f} | "
                         f"{sc['loglik_per_occasion']:.4f} |")  # fmt: skip
        lines += [""] + [f"- {x}" for x in v["verdict"]] + [""]
    if res.get("mixed"):
        lines += ["## Heterogeneity: xlogit panel mixed logit vs our latent classes (same split)",
                  "", "xlogit predicts held-out occasions unconditionally (random draws from the "
                  "population distribution); our latent-class model is shown both ways.", "",
                  "| data | model | train loglik | params | fit (s) | max share diff (pts) | "
                  "hit rate | loglik / occasion |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for r in res["mixed"]:
            for k in ("xlogit_mixed", "ours_latent_class_3_prior",
                      "ours_latent_class_3_posterior"):  # fmt: skip
                f = r[k]
                tl = f"{f['train_loglik']:.1f}" if "train_loglik" in f else ""
                pa = str(f.get("parameters", ""))
                sec = f"{f['seconds']:.2f}" if "seconds" in f else ""
                lines.append(f"| {r['dataset']} | {k} | {tl} | {pa} | {sec} | "
                             f"{f['max_abs_share_diff_pts']:.2f} | {f['hit_rate']:.3f} | "
                             f"{f['loglik_per_occasion']:.4f} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100k customers, 2 repeats")
    ap.add_argument("--out-dir", type=Path, default=HERE / "results")
    ap.add_argument("--tag", default="")
    a = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"needs {DATA} (the shared choice panels)")
        return 2
    repeats = 2 if a.quick else 5
    res: dict[str, Any] = {"date": _dt.date.today().isoformat()}
    res["mnl"] = [bench_mnl(n, repeats) for n in ("cracker", "catsup")]
    res["calibration"] = bench_calibration(20 if a.quick else 60)
    res["scenario"] = bench_scenario(100_000 if a.quick else 1_000_000, 100)
    res["validation"] = bench_validation()
    res["mixed"] = [r for r in (bench_mixed("cracker", "drop"), bench_mixed("catsup", "error"))
                    if r is not None]  # fmt: skip
    stem = f"choice_{res['date']}{'_' + a.tag if a.tag else ''}"
    from synthcust.io.atomic import atomic_write_text

    atomic_write_text(a.out_dir / f"{stem}.json", json.dumps(res, indent=1, default=float) + "\n")
    md = to_markdown(res)
    atomic_write_text(a.out_dir / f"{stem}.md", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
