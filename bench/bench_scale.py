"""Partitioned sampling on Dask: rows/s for 1 vs 2 workers, and time/memory from 1M rows up.

The model is a Gaussian copula fitted on a 10-column mixed customer table (numbers with
spikes and missing values, categories, a date). Every run starts a fresh ``LocalCluster``
(worker processes, one thread each) and calls :func:`synthcust.scale.sample_partitioned`,
which writes Parquet partitions to a temporary folder (deleted after the run).

Memory: each task reports its worker process's peak RSS (``ru_maxrss``) after writing its
partition; the figure is the largest over all tasks of the run. With a fresh cluster per run
this is the peak of any worker during that run, so "flat" means it does not grow with the total
number of rows (it depends on ``partition_rows`` only). The driver's own peak RSS growth is
reported too (it only gathers a few numbers per partition).

Default sizes 1M, 3M, 10M rows; ``--max-rows 100000000`` adds 30M and 100M (about 3 GB of
Parquet per 100M rows on disk). Figures on a shared 2-core machine are noisy: compare the
shape, not the seconds.

    .venv/bin/python bench/bench_scale.py            # 1 vs 2 workers at 2M, curve to 10M
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def training_table(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 85, n)
    plan = rng.choice(["basic", "pro", "team", "enterprise"], n, p=[0.55, 0.3, 0.1, 0.05])
    spend = np.where(rng.random(n) < 0.3, 0.0, np.round(rng.lognormal(3 + 0.02 * age, 0.5), 2))
    income = rng.normal(30_000 + 500 * age, 6000)
    income[rng.random(n) < 0.08] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "plan": plan,
            "spend": spend,
            "income": income,
            "visits": rng.poisson(3 + (plan == "pro") * 2, n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "churned": rng.random(n) < 0.2,
            "tenure_days": rng.integers(0, 3000, n),
            "signup": pd.Timestamp("2019-01-01")
            + pd.to_timedelta(rng.integers(0, 1800, n), unit="D"),
            "channel": rng.choice(["web", "app", "store"], n),
        }
    )


def run(model_path: Path, n: int, workers: int, partition_rows: int, tmp: Path) -> dict[str, Any]:
    from synthcust.scale import sample_partitioned

    out = tmp / f"out_{n}_{workers}"
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = sample_partitioned(
        str(model_path), n, out, scheduler="local", workers=workers,
        partition_rows=partition_rows, seed=0,
    )  # fmt: skip
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    shutil.rmtree(out, ignore_errors=True)
    row = {
        "rows": n,
        "workers": workers,
        "partition_rows": partition_rows,
        "seconds": res.seconds,
        "startup_s": res.startup_seconds,
        "rows_per_s": res.rows_per_second,
        "worker_peak_rss_mb": res.worker_peak_rss_mb,
        "driver_rss_growth_mb": round(driver, 1),
        "parquet_mb": round(res.bytes_written / 2**20, 1),
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-rows", type=int, default=10_000_000)
    ap.add_argument("--throughput-rows", type=int, default=2_000_000)
    ap.add_argument("--partition-rows", type=int, default=500_000)
    ap.add_argument("--sizes", default="", help="comma-separated row counts (overrides)")
    ap.add_argument("--no-throughput", action="store_true", help="skip the 1 vs 2 workers run")
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)
    from synthcust.synthesizers import GaussianCopulaSynthesizer

    tmp = Path(tempfile.mkdtemp(prefix="synthcust_scale_"))
    try:
        model = GaussianCopulaSynthesizer(random_state=0).fit(training_table())
        path = model.save(tmp / "model.synthcust")
        thr = (
            []
            if args.no_throughput
            else [run(path, args.throughput_rows, w, args.partition_rows, tmp) for w in (1, 2)]
        )
        sizes = [s for s in (1_000_000, 3_000_000, 10_000_000, 30_000_000, 100_000_000)
                 if s <= args.max_rows]  # fmt: skip
        if args.sizes:
            sizes = [int(float(x)) for x in args.sizes.split(",")]
        curve = [run(path, s, 2, args.partition_rows, tmp) for s in sizes]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    speedup = thr[1]["rows_per_s"] / thr[0]["rows_per_s"] if thr else float("nan")
    results = {"throughput": thr, "speedup_2_vs_1": round(speedup, 2), "curve": curve,
               "config": vars(args)}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    from synthcust.io.atomic import atomic_write_text

    stem = RESULTS / f"scale_{time.strftime('%Y-%m-%d')}{args.tag}"
    atomic_write_text(stem.with_suffix(".json"), json.dumps(results, indent=1))
    lines = [
        "# Partitioned sampling on Dask (LocalCluster, worker processes, 1 thread each)",
        "",
        f"Command: `python bench/bench_scale.py {' '.join(sys.argv[1:])}`",
        "",
        "| rows | workers | seconds (all) | cluster start s | rows/s (after start) | "
        "worker peak RSS MB | driver RSS growth MB | Parquet MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in thr + curve:
        lines.append(
            f"| {r['rows']:,} | {r['workers']} | {r['seconds']:.1f} | {r['startup_s']:.1f} | "
            f"{r['rows_per_s']:,.0f} | "
            f"{r['worker_peak_rss_mb']:.0f} | {r['driver_rss_growth_mb']:.0f} | "
            f"{r['parquet_mb']:.0f} |"
        )
    lines.append(f"\n2 workers vs 1: {speedup:.2f}x rows/s")
    atomic_write_text(stem.with_suffix(".md"), "\n".join(lines) + "\n")
    print(f"wrote {stem}.json / .md")
    return results


if __name__ == "__main__":
    main()
