"""Conditional generation benchmark (issue 19 item 1): are conditions exact in distribution?

For each dataset (Adult, Bank, Credit default) and synthesizer, random conditions are drawn
from the real data (1-3 columns; equality on categories, ranges on numbers, written as
``--where`` rules and compiled by the same parser the CLI uses; a share of them rare, with a
real support of 1-5%). Per condition the benchmark compares

(a) the **conditional** sample ``model.sample(n, conditions=...)``,
(b) the model's own **unconditional** sample filtered to the condition, and
(c) the **real** rows in the condition (real rows the model never saw: the holdout plus the
    training rows left out of the fitted subsample),

on the target rate and on the mean per-column KL of the other columns
(:func:`synthcust.evaluation.kl.kl_per_column`, KL(real segment || sample)).

Reported per synthesizer:

* **agreement**: share of conditions where (a) and (b) agree on the target rate within
  sampling noise: a two-proportion z-test with both sample sizes (for importance-resampled
  rows the conditional sample size is the effective one, ``1 / (1/n + 1/ESS)``). Read at 5% per
  condition (under exactness about 95% agree by chance alone), after Benjamini-Hochberg (FDR
  5%, the multiple-testing-aware reading the goal uses), plus a Kolmogorov-Smirnov test that the
  p-values are uniform (exactness predicts so) and Fisher's combined test.
* **target-rate error** against real: mean |rate - real rate| for (a), for (b), and for the
  useless baseline that predicts the overall (real training) target rate for every segment.
* **KL of the other columns** against the real segment, for (a) and (b).
* unconditional fidelity (mean per-column KL of the unconditional sample vs the real
  holdout) and fit time, so that changes to conditioning can be checked not to cost fidelity.

Goals (issue 19): agreement on >= 95% of conditions; mean conditional error <= filtered error.

Usage::

    python bench/bench_conditional.py                      # full: 3 datasets, 50 conditions
    python bench/bench_conditional.py --quick              # CI: Adult, 3k rows, 8 conditions
    python bench/bench_conditional.py --models copula --datasets bank --out res.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthcust.evaluation.kl import kl_per_column
from synthcust.evaluation.splits import train_holdout_split
from synthcust.exceptions import SynthcustError
from synthcust.rules.segments import Segment, segment_mask
from synthcust.synthesizers import REGISTRY

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE.parents[1] / "shared" / "data"


@dataclass(frozen=True)
class Dataset:
    name: str
    target: str
    positive: Any


DATASETS = {
    "adult": Dataset("adult", "income", ">50K"),
    "bank": Dataset("bank", "y", "yes"),
    "credit_default": Dataset("credit_default", "default_payment_next_month", 1),
}


def load(name: str, data_dir: Path) -> pd.DataFrame:
    """The real table as BENCHMARKS.md reads it (Adult: train + test, ``?`` a category)."""
    if name == "adult":
        parts = [data_dir / "adult" / f"adult_{p}.csv.gz" for p in ("train", "test")]
        df = pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)
        df["income"] = df["income"].astype(str).str.rstrip(".")
    elif name == "bank":
        df = pd.read_csv(data_dir / "bank" / "bank_full.csv.gz", sep=None, engine="python")
    elif name == "credit_default":
        df = pd.read_csv(data_dir / "credit_default" / "credit_default.csv.gz")
        df = df.drop(columns=["ID"])  # a row id: nothing to learn
    else:  # pragma: no cover - argparse restricts the choices
        raise ValueError(name)
    return df


def is_positive(s: pd.Series, positive: Any) -> np.ndarray:
    """Target == positive class, robust to the sample's dtype (``1`` vs ``"1"``)."""
    return (s.astype(str) == str(positive)).to_numpy()


# --------------------------------------------------------------------------- conditions
@dataclass
class Cond:
    rule: str  # the --where rule
    conditions: dict[str, Any] = field(default_factory=dict)  # as Segment.parse compiles it
    support: float = 0.0  # share of real rows in the condition

    @property
    def columns(self) -> list[str]:
        return list(self.conditions)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def _clause(df: pd.DataFrame, col: str, anchor: Any, rng: np.random.Generator) -> str:
    s = df[col]
    if pd.api.types.is_numeric_dtype(s) and s.nunique() > 12:
        x = s.dropna().to_numpy(dtype=float)
        u = float((x < float(anchor)).mean() + 0.5 * (x == float(anchor)).mean())
        w = rng.uniform(0.1, 0.5)
        lo, hi = np.quantile(x, [max(0.0, u - w / 2), min(1.0, u + w / 2)])
        if lo == hi:
            return f"{col} == {_fmt(lo)}"
        if lo <= x.min():
            return f"{col} <= {_fmt(hi)}"
        if hi >= x.max():
            return f"{col} >= {_fmt(lo)}"
        strict = rng.random() < 0.5  # exercise strict bounds of --where too
        return f"{col} {'>' if strict else '>='} {_fmt(lo)} and {col} <= {_fmt(hi)}"
    if pd.api.types.is_numeric_dtype(s):
        return f"{col} == {_fmt(float(anchor))}"
    return f"{col} == {str(anchor)!r}"


def draw_conditions(
    df: pd.DataFrame,
    target: str,
    k: int,
    rng: np.random.Generator,
    rare_share: float = 0.3,
    min_support: float = 0.01,
    max_support: float = 0.6,
) -> list[Cond]:
    """``k`` distinct random conditions on the non-target columns of ``df``.

    Each anchors on a random real row: 1-3 columns (40/35/25%), equality on categories and
    small integer domains, a random quantile window (10-50% of the rows) around the row's
    value on numbers. Support in [``min_support``, ``max_support``]; about ``rare_share`` of
    the conditions are rare (support below 5%).
    """
    cols = [c for c in df.columns if c != target]
    want_rare = round(k * rare_share)
    out: list[Cond] = []
    seen: set[str] = set()
    n_rare = 0
    for _ in range(200 * k):
        if len(out) == k:
            break
        ncols = int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
        chosen = sorted(rng.choice(len(cols), size=ncols, replace=False))
        row = df.iloc[int(rng.integers(len(df)))]
        if any(pd.isna(row[cols[j]]) for j in chosen):
            continue
        rule = " and ".join(_clause(df, cols[j], row[cols[j]], rng) for j in chosen)
        if rule in seen:
            continue
        conds = dict(Segment.parse("bench", rule).conditions)
        support = float(segment_mask(df, conds).mean())
        rare = support < 0.05
        if not min_support <= support <= max_support:
            continue
        # keep the mix: rare ones until the quota, common ones while room is left for it
        if rare and n_rare >= want_rare:
            continue
        if not rare and (len(out) - n_rare) >= k - want_rare:
            continue
        seen.add(rule)
        n_rare += rare
        out.append(Cond(rule, conds, support))
    return out


# --------------------------------------------------------------------------- models
def make_model(name: str, args: argparse.Namespace, data: pd.DataFrame) -> Any:
    kw: dict[str, Any] = {"random_state": 0}
    if name == "autoregressive-flexible":  # the conditions-first order's rows, not resampled
        model = make_model("autoregressive", args, data)
        model.condition_method = "flexible"
        return model
    if name == "autoregressive":
        kw.update(threads=1, verbose=False)
        if args.ar_time:
            kw["max_training_time"] = args.ar_time
    if name in ("ctgan", "tvae"):
        kw.update(epochs=args.nn_epochs)
    if name == "dp_marginal":
        # public bounds for every numeric column: the real table's min and max (this bench
        # measures conditioning, not privacy; the DP-estimated bounds are too noisy at 10k rows)
        # (0/1 columns are flags, categorical: no bounds)
        num = data.select_dtypes("number")
        flags = {c for c in num.columns if set(num[c].dropna().unique()) <= {0, 1}}
        bounds = {c: (float(num[c].min()), float(num[c].max())) for c in num if c not in flags}
        kw.update(epsilon=args.dp_epsilon, bounds=bounds)
    return REGISTRY[name](**kw)


def two_prop_p(p1: float, n1: float, p2: float, n2: float) -> float:
    """Two-sided p-value of the two-proportion z-test (pooled variance)."""
    if n1 <= 0 or n2 <= 0:
        return float("nan")
    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    var = p * (1 - p) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0 if p1 == p2 else 0.0
    z = (p1 - p2) / math.sqrt(var)
    return float(2 * stats.norm.sf(abs(z)))


def benjamini_hochberg(p: np.ndarray, q: float = 0.05) -> np.ndarray:
    """Rejections of the Benjamini-Hochberg procedure at FDR ``q`` (NaNs never rejected)."""
    ok = ~np.isnan(p)
    rej = np.zeros(len(p), dtype=bool)
    pv = p[ok]
    if not len(pv):
        return rej
    order = np.argsort(pv)
    thresh = q * np.arange(1, len(pv) + 1) / len(pv)
    below = np.flatnonzero(pv[order] <= thresh)
    if len(below):
        r = np.zeros(len(pv), dtype=bool)
        r[order[: below[-1] + 1]] = True
        rej[np.flatnonzero(ok)] = r
    return rej


def mean_kl(real_seg: pd.DataFrame, sample: pd.DataFrame, cols: list[str], m: int) -> float:
    """Mean KL(real segment || sample) over ``cols``, on ``m`` rows of the sample (KL's
    small-sample bias grows as rows shrink, so both samples are compared at the same size)."""
    if len(real_seg) == 0 or len(sample) == 0 or m == 0 or not cols:
        return float("nan")
    sample = sample.iloc[:m]  # rows come in random order
    return float(kl_per_column(real_seg[cols], sample[cols], columns=cols).mean())


def run_condition(
    model: Any,
    cond: Cond,
    unc: pd.DataFrame,
    ref: pd.DataFrame,
    ds: Dataset,
    n: int,
    seed: int,
) -> dict[str, Any]:
    real = ref[segment_mask(ref, cond.conditions)]
    filt = unc[segment_mask(unc, cond.conditions)]
    others = [c for c in ref.columns if c != ds.target and c not in cond.conditions]
    rec: dict[str, Any] = {"rule": cond.rule, "support": cond.support, "n_real": len(real)}
    rec["n_filtered"] = len(filt)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cs = model.sample(n, conditions=cond.conditions, random_state=seed)
        except SynthcustError as e:
            rec.update(error=str(e)[:300], seconds=time.perf_counter() - t0)
            return rec
    rec["seconds"] = time.perf_counter() - t0
    rec["warnings"] = [
        str(w.message)[:200] for w in caught if "ondition" in type(w.message).__name__
    ]
    ok = segment_mask(cs, cond.conditions)
    rec["violations"] = int((~ok).sum())
    ess = getattr(model, "last_condition_ess_", None)
    n_eff = float(n) if ess is None else 1.0 / (1.0 / n + 1.0 / max(ess, 1e-9))
    model.__dict__.pop("last_condition_ess_", None)  # one per call
    rec["n_cond_effective"] = n_eff
    r_real = float(is_positive(real[ds.target], ds.positive).mean())
    r_cond = float(is_positive(cs[ds.target], ds.positive).mean())
    r_filt = float(is_positive(filt[ds.target], ds.positive).mean()) if len(filt) else math.nan
    # the filtered rate again on as many rows as the conditional sample is worth, so that both
    # errors carry the same sampling noise
    k = min(round(n_eff), len(filt))
    r_same = float(is_positive(filt[ds.target].iloc[:k], ds.positive).mean()) if k else math.nan
    rec.update(rate_real=r_real, rate_cond=r_cond, rate_filtered=r_filt)
    rec["rate_filtered_same_n"] = r_same
    rec["p_agree"] = two_prop_p(r_cond, n_eff, r_filt, len(filt)) if len(filt) else math.nan
    m = min(len(cs), len(filt))
    rec["kl_cond"] = mean_kl(real, cs, others, m)
    rec["kl_filtered"] = mean_kl(real, filt, others, m)
    return rec


def summarize(recs: list[dict[str, Any]], baseline_rate: float, n: int) -> dict[str, Any]:
    ok = [r for r in recs if "error" not in r]
    p = np.array([r["p_agree"] for r in ok], dtype=float)
    tested = ~np.isnan(p)
    # the same test with the conditional sample's nominal size (no discount for resampled
    # rows): anti-conservative for importance-resampled rows, the same for the other models
    p_raw = np.array(
        [two_prop_p(r["rate_cond"], n, r["rate_filtered"], r["n_filtered"]) for r in ok]
    )
    rej_bh = benjamini_hochberg(p)
    both = [r for r in ok if r["n_filtered"] > 0]
    err_c = np.array([abs(r["rate_cond"] - r["rate_real"]) for r in both])
    err_f = np.array([abs(r["rate_filtered"] - r["rate_real"]) for r in both])
    err_s = np.array([abs(r["rate_filtered_same_n"] - r["rate_real"]) for r in both])
    err_b = np.array([abs(baseline_rate - r["rate_real"]) for r in both])
    pt = p[tested]
    # paired over conditions: conditional error minus the filtered one at the same n; an exact
    # sampler has expectation 0, so "no worse" reads as a CI that reaches 0 or below
    diff = err_c - err_s
    half = (
        float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff)))
        if len(diff) > 1
        else math.nan
    )
    out = {
        "err_diff_same_n": float(diff.mean()) if len(diff) else math.nan,
        "err_diff_ci95": [float(diff.mean()) - half, float(diff.mean()) + half]
        if len(diff)
        else [math.nan, math.nan],
        "conditions": len(recs),
        "failed": len(recs) - len(ok),
        "tested": int(tested.sum()),
        "agree_5pct": float((pt >= 0.05).mean()) if len(pt) else math.nan,
        "agree_bh": float(1 - rej_bh[tested].mean()) if len(pt) else math.nan,
        "agree_5pct_nominal_n": float((p_raw[tested] >= 0.05).mean()) if len(pt) else math.nan,
        "ks_uniform_p": float(stats.kstest(pt, "uniform").pvalue) if len(pt) > 1 else math.nan,
        "fisher_p": float(stats.combine_pvalues(np.clip(pt, 1e-300, 1))[1])
        if len(pt)
        else math.nan,
        "err_cond": float(err_c.mean()) if len(both) else math.nan,
        "err_filtered": float(err_f.mean()) if len(both) else math.nan,
        "err_filtered_same_n": float(err_s.mean()) if len(both) else math.nan,
        "err_baseline": float(err_b.mean()) if len(both) else math.nan,
        "kl_cond": float(np.nanmean([r["kl_cond"] for r in both])) if both else math.nan,
        "kl_filtered": float(np.nanmean([r["kl_filtered"] for r in both])) if both else math.nan,
        "violations": int(sum(r["violations"] for r in ok)),
        "warned": int(sum(bool(r["warnings"]) for r in ok)),
        "rare": int(sum(r["support"] < 0.05 for r in recs)),
        "seconds_per_condition": float(np.mean([r["seconds"] for r in recs])) if recs else 0.0,
    }
    return out


def run_dataset(name: str, args: argparse.Namespace, on_model: Any = None) -> dict[str, Any]:
    ds = DATASETS[name]
    df = load(name, Path(args.data_dir))
    train, hold = train_holdout_split(df, ds.target, random_state=0)
    rng = np.random.default_rng(args.seed)
    fit_idx = np.sort(rng.choice(len(train), size=min(args.rows, len(train)), replace=False))
    fit_rows = train.iloc[fit_idx].reset_index(drop=True)
    unused = np.setdiff1d(np.arange(len(train)), fit_idx)
    # the yardstick: real rows the model never saw (holdout + train rows not in the subsample)
    ref = pd.concat([hold, train.iloc[unused]], ignore_index=True)
    conds = draw_conditions(ref, ds.target, args.conditions, np.random.default_rng(args.seed))
    baseline = float(is_positive(train[ds.target], ds.positive).mean())
    res: dict[str, Any] = {
        "rows_fit": len(fit_rows),
        "rows_reference": len(ref),
        "baseline_rate": baseline,
        "conditions": [c.rule for c in conds],
        "models": {},
    }
    rare = sum(c.support < 0.05 for c in conds)
    print(f"\n== {name}: fit on {len(fit_rows):,} train rows, {len(conds)} conditions "
          f"({rare} rare), reference {len(ref):,} real rows")  # fmt: skip
    for mname in args.models:
        model = make_model(mname, args, df)
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(fit_rows, rules=args.rules)
        except SynthcustError as e:  # recorded, and the other models still run
            print(f"{mname:>15}: fit failed: {e}", flush=True)
            res["models"][mname] = {"error": str(e)}
            continue
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        unc = model.sample(args.unconditional, random_state=args.seed + 1)
        unc_s = time.perf_counter() - t0
        cols = [c for c in hold.columns]
        unc_kl = float(kl_per_column(hold, unc[cols], columns=cols).mean())
        recs = [
            run_condition(model, c, unc, ref, ds, args.n, args.seed + 100 + i)
            for i, c in enumerate(conds)
        ]
        summ = summarize(recs, baseline, args.n)
        summ.update(fit_seconds=fit_s, unconditional_seconds=unc_s, unconditional_kl=unc_kl)
        res["models"][mname] = {"summary": summ, "per_condition": recs}
        if on_model is not None:  # save as we go: a long run keeps what it has
            on_model(res)
        print(
            f"{mname:>15}: agree {summ['agree_5pct']:.0%} (5%/cond), {summ['agree_bh']:.0%} (BH), "
            f"KS p {summ['ks_uniform_p']:.3f} | |rate err| cond {summ['err_cond']:.4f} "
            f"filtered {summ['err_filtered']:.4f} (same n {summ['err_filtered_same_n']:.4f}) "
            f"baseline {summ['err_baseline']:.4f} | KL cond "
            f"{summ['kl_cond']:.4f} filt {summ['kl_filtered']:.4f} | failed {summ['failed']} "
            f"warned {summ['warned']} | fit {fit_s:.0f}s, "
            f"{summ['seconds_per_condition']:.2f}s/cond, unconditional KL {unc_kl:.4f}",
            flush=True,
        )
    return res


def table(results: dict[str, Any]) -> str:
    """The docs' Markdown table."""
    lines = [
        "| dataset | model | agree (5% each) | agree (BH) | agree (5%, nominal n) | KS p "
        "| err cond | err filtered | err filtered, same n | cond - filtered (95% CI) "
        "| err baseline | KL cond | KL filtered | failed | fit s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dname, d in results["datasets"].items():
        for mname, m in d["models"].items():
            if "summary" not in m:
                lines.append(f"| {dname} | {mname} | fit failed: {m['error'][:80]} |")
                continue
            s = m["summary"]
            lines.append(
                f"| {dname} | {mname} | {s['agree_5pct']:.0%} | {s['agree_bh']:.0%} | "
                f"{s.get('agree_5pct_nominal_n', math.nan):.0%} | "
                f"{s['ks_uniform_p']:.2f} | {s['err_cond']:.4f} | {s['err_filtered']:.4f} | "
                f"{s['err_filtered_same_n']:.4f} | {s['err_diff_same_n']:+.4f} "
                f"({s['err_diff_ci95'][0]:+.4f}, {s['err_diff_ci95'][1]:+.4f}) | "
                f"{s['err_baseline']:.4f} | {s['kl_cond']:.3f} | {s['kl_filtered']:.3f} | "
                f"{s['failed']} | {s['fit_seconds']:.0f} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", choices=sorted(DATASETS),
                    default=["adult", "bank", "credit_default"])  # fmt: skip
    ap.add_argument("--models", nargs="+", default=["autoregressive", "copula"])
    ap.add_argument("--rows", type=int, default=10_000, help="training rows (subsample)")
    ap.add_argument("--conditions", type=int, default=50, help="conditions per dataset")
    ap.add_argument("-n", type=int, default=2_000, help="conditional rows per condition")
    ap.add_argument("--unconditional", type=int, default=200_000, help="unconditional rows")
    ap.add_argument("--ar-time", type=float, default=None, help="autoregressive time budget (s)")
    ap.add_argument("--nn-epochs", type=int, default=30, help="ctgan/tvae epochs")
    ap.add_argument("--dp-epsilon", type=float, default=10.0, help="dp_marginal epsilon")
    ap.add_argument("--rules", choices=["auto", "off"], default="auto",
                    help="the data's own rules: discovered and enforced (the default of fit) "
                    "or off (the synthesizer's conditioning alone)")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=str(DATA_DIR))
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--quick", action="store_true",
                    help="CI settings: Adult, 3,000 rows, 8 conditions, 500 rows each")  # fmt: skip
    args = ap.parse_args(argv)
    if args.quick:
        args.datasets = ["adult"]
        args.rows, args.conditions, args.n, args.unconditional = 3_000, 8, 500, 30_000
        args.ar_time = args.ar_time or 15.0
        args.nn_epochs = min(args.nn_epochs, 3)
    return args


def report(paths: list[str]) -> dict[str, Any]:
    """Merge result files (one per dataset, say) and print the table, summaries recomputed
    from the per-condition records."""
    merged: dict[str, Any] = {"datasets": {}}
    for path in paths:
        res = json.loads(Path(path).read_text())
        n = int(res["settings"]["n"])
        for dname, d in res["datasets"].items():
            into = merged["datasets"].setdefault(dname, {**d, "models": {}})
            for mname, m in d["models"].items():
                if "summary" not in m:
                    into["models"][mname] = m
                    continue
                s = {**m["summary"], **summarize(m["per_condition"], d["baseline_rate"], n)}
                off = res["settings"].get("rules", "auto") == "off"
                tag = f"{mname} (rules off)" if off else mname
                into["models"][tag] = {"summary": s, "per_condition": m["per_condition"]}
    print(table(merged))
    return merged


def main(argv: list[str] | None = None) -> dict[str, Any]:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--report":
        return report(argv[1:])
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "settings": {k: v for k, v in vars(args).items() if k != "data_dir"},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}",
        "datasets": {},
    }

    def save(name: str, res: dict[str, Any]) -> None:
        results["datasets"][name] = res
        results["seconds"] = time.perf_counter() - t0
        if args.out:  # atomically, after each model
            tmp = Path(args.out).with_suffix(".tmp")
            tmp.write_text(json.dumps(results, indent=1, default=float))
            tmp.replace(args.out)

    for name in args.datasets:
        save(name, run_dataset(name, args, lambda res, name=name: save(name, res)))
    print("\n" + table(results))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
