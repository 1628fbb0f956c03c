#!/usr/bin/env python
"""Constraints: validity and fidelity with and without them, and the cost of enforcing them.

Two real tables:

* **OJ** (``shared/data/choice/oj.csv``): the derived columns obey exact identities
  (``SalePriceMM = PriceMM - DiscMM``, ``PctDiscMM = DiscMM / PriceMM`` ...), and
  ``StoreID`` decides ``Store7`` and ``STORE``. Constraints: the six identities and one fixed
  combination (``StoreID, Store7, STORE``).
* **Retail customers** built from ``shared/data/online_retail`` (one row per ``CustomerID``:
  country, first and last invoice time, number of invoices and lines, total spend). Constraint:
  ``last_invoice >= first_invoice``, ``n_lines >= n_invoices``.

For each table and model (``--models``, default copula and autoregressive) the model is fitted
on the same 80/20 train split without and with the constraints, samples ``len(train)`` rows,
and is scored by ``synthcust.evaluation.evaluate`` (accuracy 1 - TVD, related-pairs trend,
detection AUC; TSTR on OJ's ``Purchase``) plus the share of synthetic rows obeying each
constraint. Cost: sampling ``--big`` rows (default 1,000,000) with and without constraints,
median of ``--repeats``, ratio reported (the issue's bar: at most 2x slower).

Usage::

    python bench/bench_constraints.py
    python bench/bench_constraints.py --quick      # smoke test (small tables, 20,000 rows)

Results: ``bench/results/constraints_<date>[_<name>].json`` / ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import json
import platform
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent

OJ_RULES = [
    "SalePriceMM == PriceMM - DiscMM",
    "SalePriceCH == PriceCH - DiscCH",
    "PriceDiff == SalePriceMM - SalePriceCH",
    "PctDiscMM == DiscMM / PriceMM",
    "PctDiscCH == DiscCH / PriceCH",
    "ListPriceDiff == PriceMM - PriceCH",
]
RETAIL_RULES = ["last_invoice >= first_invoice", "n_lines >= n_invoices"]


def load_oj(data_dir: Path) -> tuple[pd.DataFrame, list[Any], str | None]:
    from synthcust.constraints import FixedCombinations

    df = pd.read_csv(data_dir / "choice" / "oj.csv")
    return df, [*OJ_RULES, FixedCombinations(("StoreID", "Store7", "STORE"))], "Purchase"


def load_retail(data_dir: Path, max_rows: int | None) -> tuple[pd.DataFrame, list[Any], None]:
    with gzip.open(data_dir / "online_retail" / "online_retail.csv.gz", "rt") as fh:
        lines = pd.read_csv(
            fh,
            dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
            parse_dates=["InvoiceDate"],
        )
    lines = lines[lines.CustomerID.notna()]
    lines = lines.assign(amount=lines.Quantity * lines.UnitPrice)
    g = lines.groupby("CustomerID")
    df = pd.DataFrame(
        {
            "country": g.Country.agg(lambda s: s.mode().iloc[0]),
            "first_invoice": g.InvoiceDate.min(),
            "last_invoice": g.InvoiceDate.max(),
            "n_invoices": g.InvoiceNo.nunique(),
            "n_lines": g.size(),
            "total_spend": g.amount.sum().round(2),
        }
    ).reset_index(drop=True)
    if max_rows:
        df = df.sample(min(max_rows, len(df)), random_state=0).reset_index(drop=True)
    return df, RETAIL_RULES, None


def split(df: pd.DataFrame, target: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    strat = df[target] if target else None
    tr, ho = train_test_split(df, test_size=0.2, stratify=strat, random_state=0)
    return tr.reset_index(drop=True), ho.reset_index(drop=True)


def model(name: str, quick: bool) -> Any:
    from synthcust.synthesizers import REGISTRY

    kw: dict[str, Any] = {"random_state": 0}
    if name == "autoregressive":
        kw["verbose"] = False
        if quick:
            kw["epochs"] = 5
    return REGISTRY[name](**kw)


def run_table(
    label: str, df: pd.DataFrame, rules: list[Any], target: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    from synthcust.constraints.plan import ConstraintPlan
    from synthcust.evaluation.evaluate import evaluate
    from synthcust.schema.infer import infer_schema

    train, holdout = split(df, target)
    base = infer_schema(train, detect_pii=False)
    schema = base.with_constraints(*rules)
    checker = ConstraintPlan(schema.constraints, schema).fit(train)
    res: dict[str, Any] = {"rows": [len(train), len(holdout)], "models": {}}
    print(f"\n== {label}: train {len(train):,}, holdout {len(holdout):,}", flush=True)
    for name in args.models:
        for with_c in (False, True):
            key = f"{name}{' + constraints' if with_c else ''}"
            m = model(name, args.quick)
            t0 = time.perf_counter()
            # the declared rules alone, against none (the data's own rules, discovered by
            # default, are measured by bench/bench_rules.py)
            m.fit(train, schema if with_c else base, rules="off")
            fit_s = time.perf_counter() - t0
            rows = []
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                synth = m.sample(len(train), random_state=seed)
                sample_s = time.perf_counter() - t0
                masks = checker.check(synth)
                rep = evaluate(train, synth, holdout, target=target, random_state=seed)

                def g(sec: str, k: str, rep: Any = rep) -> float | None:
                    s = rep.sections.get(sec)
                    try:
                        return None if s is None else s.metric(k).value
                    except KeyError:
                        return None

                rows.append(
                    {
                        "sample_s": sample_s,
                        "accuracy": g("fidelity", "accuracy"),
                        "pairs": g("fidelity", "pairs"),
                        "detection_auc": g("detection", "detection_auc"),
                        "tstr_auc": g("utility", "tstr_auc") if target else None,
                        "rows_obeying_all": float(pd.DataFrame(masks).all(axis=1).mean()),
                        "held": {k: float(v.mean()) for k, v in masks.items()},
                    }
                )
            row: dict[str, Any] = {"fit_s": fit_s, "per_seed": rows}
            for k in ("sample_s", "accuracy", "pairs", "detection_auc", "tstr_auc",
                      "rows_obeying_all"):  # fmt: skip
                vals = [r[k] for r in rows if r[k] is not None]
                row[k] = statistics.mean(vals) if vals else None
                row[k + "_sd"] = statistics.stdev(vals) if len(vals) > 1 else 0.0
            res["models"][key] = row
            print(
                f"  {key}: obeying all {row['rows_obeying_all']:.1%}, accuracy "
                f"{row['accuracy']:.3f}, pairs {row['pairs']:.3f}, detection "
                f"{row['detection_auc']:.3f}" + (f", TSTR {row['tstr_auc']:.3f}" if target else ""),
                flush=True,
            )
        # cost of constrained sampling at scale
        plain = model(name, args.quick).fit(train, base)
        cons = model(name, args.quick).fit(train, schema)
        n = args.big if name == "copula" else args.big_ar
        times: dict[str, list[float]] = {"plain": [], "constrained": []}
        for r in range(args.repeats):
            for k, m in (("plain", plain), ("constrained", cons)):
                t0 = time.perf_counter()
                m.sample(n, random_state=r)
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        big = {"n": n, "times": times, "median": med, "ratio": med["constrained"] / med["plain"]}
        res["models"][name]["big_sample"] = big
        print(
            f"  {name}: sample {n:,} rows: plain {med['plain']:.2f} s, constrained "
            f"{med['constrained']:.2f} s, ratio {med['constrained'] / med['plain']:.2f}x",
            flush=True,
        )
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["copula", "autoregressive"])
    ap.add_argument("--tables", nargs="+", choices=["oj", "retail"], default=["oj", "retail"])
    ap.add_argument("--big", type=int, default=1_000_000, help="rows for the copula cost test")
    ap.add_argument("--big-ar", type=int, default=200_000, help="rows for the AR cost test")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=3, help="samples (and scorings) per fitted model")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data-dir", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--name", default="")
    args = ap.parse_args(argv)
    if args.quick:
        args.big, args.big_ar, args.repeats, args.seeds = 20_000, 5_000, 1, 1
    warnings.simplefilter("ignore")
    result: dict[str, Any] = {
        "date": _dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, python {platform.python_version()}",
        "tables": {},
    }
    for t in args.tables:
        if t == "oj":
            df, rules, target = load_oj(args.data_dir)
        else:
            df, rules, target = load_retail(args.data_dir, 800 if args.quick else None)
        result["tables"][t] = run_table(t, df, rules, target, args)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"constraints_{result['date']}" + (f"_{args.name}" if args.name else "")
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2, default=str))
    md = [f"# Constraints ({result['date']})", "", f"Machine: {result['machine']}.", ""]
    for t, d in result["tables"].items():
        md += [
            f"## {t} (train {d['rows'][0]:,}, holdout {d['rows'][1]:,})",
            "",
            f"Mean ± sd over {args.seeds} samples of len(train) rows (seeds 0..{args.seeds - 1}).",
            "",
            "| model | rows obeying all | accuracy | pairs | detection | TSTR | fit (s) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]

        def pm(r: dict[str, Any], k: str) -> str:
            return "" if r[k] is None else f"{r[k]:.3f} ± {r[k + '_sd']:.3f}"

        for k, r in d["models"].items():
            md.append(
                f"| {k} | {r['rows_obeying_all']:.1%} | {pm(r, 'accuracy')} | {pm(r, 'pairs')} "
                f"| {pm(r, 'detection_auc')} | {pm(r, 'tstr_auc')} | {r['fit_s']:.1f} |"
            )
        md += ["", "| model | rows sampled | plain (s) | constrained (s) | ratio |",
               "|---|---:|---:|---:|---:|"]  # fmt: skip
        for k, r in d["models"].items():
            b = r.get("big_sample")
            if b:
                md.append(
                    f"| {k} | {b['n']:,} | {b['median']['plain']:.2f} | "
                    f"{b['median']['constrained']:.2f} | {b['ratio']:.2f}x |"
                )
        md.append("")
    (args.out / f"{stem}.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
