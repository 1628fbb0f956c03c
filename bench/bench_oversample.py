#!/usr/bin/env python
"""Oversampling and small-data augmentation on real data (issue 6), measured with augment-study.

* **Full-data comparison** on Bank and Credit default (``shared/BENCHMARKS.md`` split: 80/20
  stratified, ``random_state=0``): minority-class F1 and ROC AUC on the real holdout of
  ``HistGradientBoostingClassifier`` trained on real train as is (``none``), with balanced class
  weights, after each SMOTE variant, generative (conditional copula) and hybrid oversampling to
  a 1:1 ratio, and with ``1 x len(train)`` unconditional copula rows added (``augment:copula``);
  differences to ``none`` with paired-bootstrap 95% CIs over holdout rows.
* **Small-data protocol** on Bank and Adult: 1,200 real rows drawn per seed, 960 / 240 split,
  synthesizer fit on the 960 only, 4,000 synthetic rows added; AUC on the 240 and on every real
  row never drawn; mean paired difference with a 95% t-interval over seeds.
* **Speed**: our ``rebalance(method="smote")`` (SMOTE-NC on Bank) vs imbalanced-learn's
  ``SMOTENC`` called directly on the same train rows (median of 3), and optionally the wall time
  of a whole ``augment-study`` with ``--time-study N`` repeats on Bank.

Usage::

    python bench/bench_oversample.py                       # 3 seeds full, 5 seeds small
    python bench/bench_oversample.py --repeats 5 --small-repeats 20 --time-study 20
    python bench/bench_oversample.py --quick               # smoke run (1 seed, subsamples)

Results: ``bench/results/oversample_<date>[_tag].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "src"))

from synthcust.io.atomic import atomic_write_text  # noqa: E402
from synthcust.studies.augment import DEFAULT_METHODS, augment_study  # noqa: E402

AR_SECONDS = 120  # training-time cap of an autoregressive fit in the benchmark
TARGETS = {"bank": "y", "credit_default": "default_payment_next_month", "adult": "income"}


def load(name: str) -> pd.DataFrame:
    if name == "bank":
        return pd.read_csv(DATA / "bank" / "bank_full.csv.gz")
    if name == "credit_default":
        return pd.read_csv(DATA / "credit_default" / "credit_default.csv.gz")
    if name == "adult":
        a = pd.read_csv(DATA / "adult" / "adult_train.csv.gz")
        b = pd.read_csv(DATA / "adult" / "adult_test.csv.gz")
        return pd.concat([a, b], ignore_index=True)
    raise SystemExit(f"unknown dataset {name}")


def _ci(r: pd.Series, col: str) -> str:
    return f"{r[col]:+.4f} [{r[col + '_lower']:+.4f}, {r[col + '_upper']:+.4f}]"


def full_comparison(
    name: str, repeats: int, n_boot: int, quick: bool, extra_synths: tuple[str, ...] = ()
) -> dict[str, Any]:
    df = load(name)
    if quick:
        df = df.sample(6000, random_state=0).reset_index(drop=True)
    t0 = time.perf_counter()
    methods = [*DEFAULT_METHODS, *(f"generative:{s}" for s in extra_synths)]
    r = augment_study(
        df, TARGETS[name], methods=methods, repeats=repeats, small=False, n_boot=n_boot,
        synthesizer_params={"autoregressive": {"max_training_time": AR_SECONDS, "verbose": False}},
    )  # fmt: skip
    secs = time.perf_counter() - t0
    tab = r.full
    smote_like = [m for m in ("smote", "borderline", "adasyn") if m in tab.index]
    best_smote = tab.loc[smote_like, "f1"].idxmax()
    gens = [m for m in tab.index if m.split(":")[0] == "generative"]
    best_gen = tab.loc[gens, "f1"].idxmax()
    gen = tab.loc[best_gen]
    return {
        "dataset": name,
        "rows": len(df),
        "target": TARGETS[name],
        "positive": r.positive,
        "repeats": repeats,
        "n_boot": n_boot,
        "seconds": secs,
        "table": json.loads(tab.reset_index().to_json(orient="records")),
        "verdict": r.verdict,
        "how": r.how["full-data comparison"],
        "notes": r.notes,
        "generative_vs_best_smote": {
            "best_generative": best_gen,
            "best_smote": best_smote,
            "best_smote_f1": float(tab.loc[best_smote, "f1"]),
            "generative_f1": float(gen["f1"]),
            "best_smote_auc": float(tab.loc[best_smote, "auc"]),
            "generative_auc": float(gen["auc"]),
            "generative_matches_f1": bool(gen["f1"] >= tab.loc[best_smote, "f1"]),
        },
    }


def small_protocol(name: str, repeats: int, quick: bool) -> dict[str, Any]:
    df = load(name)
    methods = ["none", "class_weight", "smote", "generative", "augment:copula"]
    t0 = time.perf_counter()
    r = augment_study(
        df,
        TARGETS[name],
        methods=methods,
        repeats=repeats,
        full=False,
        n_synthetic=1000 if quick else 4000,
    )
    return {
        "dataset": name,
        "rows": len(df),
        "repeats": repeats,
        "seconds": time.perf_counter() - t0,
        "table": json.loads(r.small.reset_index().to_json(orient="records")),
        "verdict": r.verdict,
        "how": r.how["small-data protocol"],
    }


def speed_vs_imblearn(quick: bool) -> dict[str, Any]:
    from imblearn.over_sampling import SMOTENC

    from synthcust.evaluation.splits import train_holdout_split
    from synthcust.synthesizers.oversampling.oversample import rebalance

    df = load("bank")
    if quick:
        df = df.sample(6000, random_state=0).reset_index(drop=True)
    train, _ = train_holdout_split(df, "y", 0.2, 0)
    X, y = train.drop(columns="y"), train["y"]
    cat = [i for i, c in enumerate(X.columns) if X[c].dtype.kind not in "iuf"]

    def ours() -> None:
        rebalance(train, "y", "smote", 1.0, random_state=0)

    def theirs() -> None:
        SMOTENC(categorical_features=cat, random_state=0).fit_resample(X, y)

    out = {}
    for label, fn in (("synthcust_rebalance_smote", ours), ("imblearn_SMOTENC", theirs)):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out[label] = float(np.median(times))
    out["ratio_ours_over_imblearn"] = out["synthcust_rebalance_smote"] / out["imblearn_SMOTENC"]
    out["rows"] = len(train)
    return out


def time_study(repeats: int, jobs: int) -> dict[str, Any]:
    df = load("bank")
    load0 = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    r = augment_study(df, "y", repeats=repeats, n_jobs=jobs)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0  # this process only: meaningful with jobs=1
    return {
        "repeats": repeats,
        "jobs": jobs,
        "seconds": secs,
        "cpu_seconds_main_process": cpu,
        "methods": list(r.full.index),
        "cpu_count": os.cpu_count(),
        "loadavg_before": load0,
        "loadavg_after": os.getloadavg(),
        "verdict": r.verdict,
        "full": json.loads(r.full.reset_index().to_json(orient="records")),
        "small": json.loads(r.small.reset_index().to_json(orient="records")),
    }


def to_markdown(res: dict[str, Any]) -> str:
    lines = [f"# Oversampling benchmark ({res['date']})", "", f"Command: `{res['command']}`", ""]
    for f in res["full"]:
        lines += [
            f"## Full data: {f['dataset']} ({f['rows']:,} rows, minority {f['positive']!r}, "
            f"{f['repeats']} seeds, {f['n_boot']} bootstrap resamples, {f['seconds']:.0f} s)",
            "",
            "| method | minority F1 | F1 vs none [95% CI] | AUC | AUC vs none [95% CI] | "
            "train rows |",
            "|---|---|---|---|---|---|",
        ]
        for r in f["table"]:
            lines.append(
                f"| {r['method']} | {r['f1']:.4f} | {_ci(pd.Series(r), 'f1_diff')} | "
                f"{r['auc']:.4f} | {_ci(pd.Series(r), 'auc_diff')} | {r['train_rows']:,.0f} |"
            )
        g = f["generative_vs_best_smote"]
        lines += [
            "",
            f"Best generative ({g.get('best_generative', 'generative')}) vs best SMOTE variant "
            f"({g['best_smote']}): F1 {g['generative_f1']:.4f} "
            f"vs {g['best_smote_f1']:.4f}, AUC {g['generative_auc']:.4f} vs "
            f"{g['best_smote_auc']:.4f}.",
            "",
            f"Verdict: {f['verdict']}",
            "",
        ]
    for s in res["small"]:
        lines += [
            f"## Small-data protocol: {s['dataset']} ({s['repeats']} seeds, {s['seconds']:.0f} s)",
            "",
            "| method | AUC (never drawn) | vs none [95% CI] | AUC (240 held out) | "
            "vs none [95% CI] |",
            "|---|---|---|---|---|",
        ]
        for r in s["table"]:
            sr = pd.Series(r)
            lines.append(
                f"| {r['method']} | {r['auc_rest']:.4f} | {_ci(sr, 'auc_diff_rest')} | "
                f"{r['auc_holdout']:.4f} | {_ci(sr, 'auc_diff_holdout')} |"
            )
        lines += ["", f"Verdict: {s['verdict']}", ""]
    if res.get("speed"):
        sp = res["speed"]
        lines += [
            "## Speed: SMOTE-NC on Bank train",
            "",
            f"synthcust rebalance(smote) {sp['synthcust_rebalance_smote']:.2f} s vs "
            f"imbalanced-learn SMOTENC {sp['imblearn_SMOTENC']:.2f} s on {sp['rows']:,} rows "
            f"(ratio {sp['ratio_ours_over_imblearn']:.2f}; median of 3, same run).",
            "",
        ]
    if res.get("time_study"):
        t = res["time_study"]
        lines += [
            f"## augment-study, {t['repeats']} repeats on Bank, {t['jobs']} process(es): "
            f"{t['seconds']:.0f} s",
            "",
            f"CPU time of the main process {t['cpu_seconds_main_process']:.0f} s (all of the work "
            "when jobs=1). "
            f"{t['cpu_count']} CPUs shared with other jobs; load average before "
            f"{t['loadavg_before'][0]:.1f}, after {t['loadavg_after'][0]:.1f}.",
            "",
            f"Verdict: {t['verdict']}",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="seeds, full-data comparison")
    ap.add_argument("--small-repeats", type=int, default=5, help="seeds, small-data protocol")
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--full-datasets", default="bank,credit_default")
    ap.add_argument("--small-datasets", default="bank,adult")
    ap.add_argument("--time-study", type=int, default=0, help="time augment-study with N repeats")
    ap.add_argument("--jobs", type=int, default=2, help="processes for --time-study")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 seed, subsamples")
    ap.add_argument("--tag", default="")
    ap.add_argument("--generative-synths", default="",
                    help="also run generative:<name> for these synthesizers (comma-separated), "
                    f"e.g. autoregressive (each fit capped at {AR_SECONDS} s)")  # fmt: skip
    ap.add_argument("--out-dir", type=Path, default=HERE / "results")
    a = ap.parse_args()
    if a.quick:
        a.repeats, a.small_repeats, a.n_boot = 1, 2, 30
    if not (DATA / "bank" / "bank_full.csv.gz").is_file():
        raise SystemExit(f"benchmark data not found under {DATA}")
    res: dict[str, Any] = {
        "date": _dt.date.today().isoformat(),
        "command": "python " + " ".join(sys.argv),
        "full": [],
        "small": [],
    }
    for name in filter(None, a.full_datasets.split(",")):
        print(f"full-data comparison: {name}", flush=True)
        extra = tuple(filter(None, a.generative_synths.split(",")))
        res["full"].append(full_comparison(name, a.repeats, a.n_boot, a.quick, extra))
        print(res["full"][-1]["verdict"], flush=True)
    for name in filter(None, a.small_datasets.split(",")):
        print(f"small-data protocol: {name}", flush=True)
        res["small"].append(small_protocol(name, a.small_repeats, a.quick))
        print(res["small"][-1]["verdict"], flush=True)
    if not a.no_speed:
        res["speed"] = speed_vs_imblearn(a.quick)
    if a.time_study:
        print(f"timing augment-study with {a.time_study} repeats on Bank", flush=True)
        res["time_study"] = time_study(a.time_study, a.jobs)
    stem = f"oversample_{res['date']}" + (f"_{a.tag}" if a.tag else "")
    a.out_dir.mkdir(exist_ok=True)
    atomic_write_text(a.out_dir / f"{stem}.json", json.dumps(res, indent=1, default=str) + "\n")
    md = to_markdown(res)
    atomic_write_text(a.out_dir / f"{stem}.md", md + "\n")
    print(md)


if __name__ == "__main__":
    main()
