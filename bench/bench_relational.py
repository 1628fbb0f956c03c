"""Relational benchmark on UCI Online Retail: synthcust RelationalSynthesizer vs SDV HMA.

Tables built from ../shared/data/online_retail (541,909 invoice lines):

* ``customers``: CustomerID, Country (the first country a customer appears with);
* ``invoices``: InvoiceNo, CustomerID, InvoiceDate (the invoice's first timestamp), and with
  ``--levels 2`` also Amount (sum of Quantity x UnitPrice) and Items (lines on the invoice);
* ``lines`` (``--levels 3``): InvoiceNo, StockCode, Quantity, UnitPrice.

Kept: lines with a CustomerID, not a cancellation (``C``) or adjustment (``A``) invoice, with
Quantity > 0 and UnitPrice > 0 (397,884 lines, 4,338 customers, 18,532 invoices). Description
is left out (one-to-one with StockCode; a tabular model would pair them at random).

Customers are split 80/20 (``random_state=0``) into train and holdout, each with all its
invoices and lines. Both synthesizers fit on the same train tables, in the same process, and
generate as many customers as train has; the relational evaluation
(:mod:`synthcust.evaluation.relational`) compares each with real train, with real holdout as the
reference. Peak memory is the growth of this process's peak RSS (``ru_maxrss``) during the
phase, measured in a fresh child process per phase and synthesizer, so one phase cannot hide
another's peak.

HMA fits a copula per parent row and is slow on the full data: ``--customers N`` subsamples
customers (for both synthesizers). Run with the bench virtualenv (SDV 2.0)::

    .venv-bench/bin/python bench/bench_relational.py --customers 1000 --levels 2
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
RESULTS = ROOT / "bench" / "results"


def load_online_retail(
    path: Path = DATA, customers: int | None = None, levels: int = 2, random_state: int = 0
) -> dict[str, pd.DataFrame]:
    """The customers / invoices (/ lines) tables described in the module docstring."""
    df = pd.read_csv(
        path,
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
        parse_dates=["InvoiceDate"],
    )
    keep = (
        df["CustomerID"].notna()
        & ~df["InvoiceNo"].str.startswith(("C", "A"))
        & (df["Quantity"] > 0)
        & (df["UnitPrice"] > 0)
    )
    df = df.loc[keep].reset_index(drop=True)
    df["CustomerID"] = df["CustomerID"].astype("int64")
    if customers is not None:
        ids = np.sort(df["CustomerID"].unique())
        pick = np.random.default_rng(random_state).choice(ids, customers, replace=False)
        df = df.loc[df["CustomerID"].isin(pick)].reset_index(drop=True)
    cust = df.groupby("CustomerID", as_index=False, sort=True).agg(Country=("Country", "first"))
    cust["Country"] = cust["Country"].astype(object)
    df["Amount"] = df["Quantity"] * df["UnitPrice"]
    agg: dict[str, Any] = {
        "CustomerID": ("CustomerID", "first"),
        "InvoiceDate": ("InvoiceDate", "min"),
    }
    if levels == 2:
        agg |= {"Amount": ("Amount", "sum"), "Items": ("StockCode", "size")}
    inv = df.groupby("InvoiceNo", as_index=False, sort=True).agg(**agg)
    inv["InvoiceNo"] = inv["InvoiceNo"].astype(object)
    if levels == 2:
        inv["Amount"] = inv["Amount"].round(2)
        return {"customers": cust, "invoices": inv}
    lines = df[["InvoiceNo", "StockCode", "Quantity", "UnitPrice"]].astype(
        {"InvoiceNo": object, "StockCode": object}
    )
    return {"customers": cust, "invoices": inv, "lines": lines}


def split_customers(
    tables: dict[str, pd.DataFrame], frac: float = 0.2, random_state: int = 0
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Customers 80/20 into train and holdout, each with all its invoices and lines."""
    ids = tables["customers"]["CustomerID"].to_numpy()
    rng = np.random.default_rng(random_state)
    hold = set(rng.choice(ids, round(frac * len(ids)), replace=False).tolist())
    out: list[dict[str, pd.DataFrame]] = [{}, {}]
    for i, want in enumerate((False, True)):
        c = tables["customers"]
        out[i]["customers"] = c.loc[c["CustomerID"].isin(hold) == want].reset_index(drop=True)
        inv = tables["invoices"]
        out[i]["invoices"] = inv.loc[inv["CustomerID"].isin(hold) == want].reset_index(drop=True)
        if "lines" in tables:
            li = tables["lines"]
            ok = li["InvoiceNo"].isin(out[i]["invoices"]["InvoiceNo"])
            out[i]["lines"] = li.loc[ok].reset_index(drop=True)
    return out[0], out[1]


def spec_for(tables: dict[str, pd.DataFrame]):
    from synthcust.schema.relational import RelationalSpec, Relationship

    rels = [Relationship("customers", "invoices", "CustomerID", "CustomerID")]
    pks = {"customers": "CustomerID", "invoices": "InvoiceNo"}
    if "lines" in tables:
        rels.append(Relationship("invoices", "lines", "InvoiceNo", "InvoiceNo"))
    return RelationalSpec(tuple(rels), pks, {"invoices": "InvoiceDate", "lines": None})


# ---------------------------------------------------------------------------- one run each
def _run_synthcust(train: dict[str, pd.DataFrame], n: int, seed: int) -> dict[str, Any]:
    from synthcust.synthesizers.multi_table.relational import RelationalSynthesizer

    spec = spec_for(train)
    m = RelationalSynthesizer(
        relationships=list(spec.relationships),
        primary_keys=dict(spec.primary_keys),
        order_by=dict(spec.order_by),
        random_state=seed,
    )
    t0 = time.perf_counter()
    m.fit(train)
    fit_s = time.perf_counter() - t0
    rss_fit = _rss_mb()
    t0 = time.perf_counter()
    out = m.sample(n, random_state=seed + 1)
    return {"fit_s": fit_s, "sample_s": time.perf_counter() - t0, "rss_fit_mb": rss_fit,
            "tables": out}  # fmt: skip


def _run_hma(train: dict[str, pd.DataFrame], n: int, seed: int) -> dict[str, Any]:
    import warnings

    from sdv.metadata import Metadata
    from sdv.multi_table import HMASynthesizer

    warnings.filterwarnings("ignore")
    md = Metadata.detect_from_dataframes(train, infer_keys=None)
    md.update_column("CustomerID", "customers", sdtype="id")
    md.set_primary_key("CustomerID", "customers")
    md.update_column("CustomerID", "invoices", sdtype="id")
    md.update_column("InvoiceNo", "invoices", sdtype="id")
    md.set_primary_key("InvoiceNo", "invoices")
    md.update_column("InvoiceDate", "invoices", sdtype="datetime",
                     datetime_format="%Y-%m-%d %H:%M:%S")  # fmt: skip
    md.update_column("Country", "customers", sdtype="categorical")
    md.add_relationship("customers", "invoices", "CustomerID", "CustomerID")
    if "lines" in train:
        md.update_column("InvoiceNo", "lines", sdtype="id")
        md.update_column("StockCode", "lines", sdtype="categorical")
        md.add_relationship("invoices", "lines", "InvoiceNo", "InvoiceNo")
    np.random.seed(seed)
    syn = HMASynthesizer(md, verbose=False)
    t0 = time.perf_counter()
    syn.fit(train)
    fit_s = time.perf_counter() - t0
    rss_fit = _rss_mb()
    t0 = time.perf_counter()
    out = syn.sample(n, main_table_name="customers")
    return {"fit_s": fit_s, "sample_s": time.perf_counter() - t0, "rss_fit_mb": rss_fit,
            "tables": out}  # fmt: skip


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _child(which: str, train: dict[str, pd.DataFrame], n: int, seed: int, q: Any) -> None:
    try:
        base = _rss_mb()
        res = (_run_synthcust if which == "synthcust" else _run_hma)(train, n, seed)
        res["peak_rss_mb"] = _rss_mb()
        res["base_rss_mb"] = base
        q.put(("ok", res))
    except Exception as e:  # reported in the results, not a crash of the whole bench
        q.put(("error", f"{type(e).__name__}: {e}"))


def run_one(which: str, train: dict[str, pd.DataFrame], n: int, seed: int, timeout: float):
    """Fit + sample in a fresh process: its peak RSS is this synthesizer's alone."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(which, train, n, seed, q))
    p.start()
    try:
        status, res = q.get(timeout=timeout)
    except Exception:
        p.kill()
        return {"error": f"did not finish within {timeout:.0f} s"}
    p.join()
    return res if status == "ok" else {"error": res}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=1000, help="subsample (0 = all 4,338)")
    ap.add_argument("--levels", type=int, choices=(2, 3), default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-sdv", action="store_true", help="synthcust only")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per synthesizer")
    ap.add_argument("--tag", default="")
    ap.add_argument("--html", action="store_true", help="also write the HTML report (synthcust)")
    args = ap.parse_args(argv)
    from synthcust.evaluation.relational import evaluate_relational
    from synthcust.reporting.relational import write_relational_report

    t0 = time.perf_counter()
    tables = load_online_retail(customers=args.customers or None, levels=args.levels)
    train, hold = split_customers(tables, random_state=args.seed)
    n = len(train["customers"])
    print(
        "tables:",
        {k: len(v) for k, v in tables.items()},
        f"train customers {n}, holdout {len(hold['customers'])}",
        f"(read {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    spec = spec_for(train)
    amount = "Amount" if args.levels == 2 else "Quantity*UnitPrice"
    product = "StockCode" if args.levels == 3 else None
    runs = ["synthcust"] + ([] if args.no_sdv else ["sdv_hma"])
    results: dict[str, Any] = {
        "config": vars(args) | {"tables": {k: len(v) for k, v in tables.items()}},
    }
    for which in runs:
        res = run_one(which, train, n, args.seed, args.timeout)
        if "error" in res:
            print(f"{which}: {res['error']}", flush=True)
            results[which] = {"error": res["error"]}
            continue
        out = res.pop("tables")
        if which == "sdv_hma":
            out = {k: v for k, v in out.items()}
        rep = evaluate_relational(train, out, spec, holdout=hold, amount=amount, product=product)
        figs = {m.key: m.value for s in rep.sections.values() for m in s.metrics}
        refs = {m.key: m.reference for s in rep.sections.values() for m in s.metrics}
        integrity = _integrity(out, spec)
        results[which] = {
            "fit_s": round(res["fit_s"], 2),
            "sample_s": round(res["sample_s"], 2),
            "peak_rss_mb": round(res["peak_rss_mb"], 1),
            "rss_growth_mb": round(res["peak_rss_mb"] - res["base_rss_mb"], 1),
            "rows": {k: len(v) for k, v in out.items()},
            "orphans": integrity,
            "metrics": figs,
        }
        results["real_holdout_reference"] = refs
        print(which, json.dumps(results[which], default=str), flush=True)
        if args.html and which == "synthcust":
            RESULTS.mkdir(exist_ok=True)
            write_relational_report(rep, RESULTS / f"relational_report{args.tag}.html")
    _write(results, args)
    return results


def _integrity(out: dict[str, pd.DataFrame], spec: Any) -> dict[str, int]:
    bad = {}
    for r in spec.relationships:
        bad[str(r)] = int((~out[r.child][r.child_key].isin(out[r.parent][r.parent_key])).sum())
    return bad


def _write(results: dict[str, Any], args: argparse.Namespace) -> None:
    RESULTS.mkdir(exist_ok=True)
    from synthcust.io.atomic import atomic_write_text

    stem = RESULTS / f"relational_{time.strftime('%Y-%m-%d')}{args.tag}"
    atomic_write_text(stem.with_suffix(".json"), json.dumps(results, indent=1, default=str))
    keys = list(results.get("real_holdout_reference", {}))
    runs = [k for k in ("synthcust", "sdv_hma") if k in results]
    lines = [
        f"# Relational benchmark: Online Retail, {args.customers or 'all'} customers, "
        f"{args.levels} levels",
        "",
        f"Command: `python bench/bench_relational.py {' '.join(sys.argv[1:])}`",
        "",
        "| figure | " + " | ".join(runs) + " | real holdout (reference) |",
        "|---|" + "---|" * (len(runs) + 1),
    ]
    for k in ("fit_s", "sample_s", "peak_rss_mb", "rss_growth_mb"):
        lines.append(f"| {k} | " + " | ".join(str(results[r].get(k, "-")) for r in runs) + " | |")
    for k in keys:
        cells = []
        for r in runs:
            v = results[r].get("metrics", {}).get(k)
            cells.append("-" if v is None else f"{v:.3f}")
        ref = results["real_holdout_reference"].get(k)
        shown = "-" if ref is None else f"{ref:.3f}"
        lines.append(f"| {k} | " + " | ".join(cells) + f" | {shown} |")
    for r in runs:
        if "error" in results[r]:
            lines.append(f"\n{r}: {results[r]['error']}")
    atomic_write_text(stem.with_suffix(".md"), "\n".join(lines) + "\n")
    print(f"wrote {stem}.json / .md")


if __name__ == "__main__":
    main()
