#!/usr/bin/env python
"""Peak memory of a synthesizer on a large generated table (the issue's 1M x 30 bar: < 4 GB).

Generates ``--rows`` x ``--cols`` mixed columns (two thirds numeric with spikes and missing
values, one third categorical up to 200 levels), fits ``--model`` with a training-time budget,
samples ``--rows`` rows, and prints the process's peak RSS (``VmHWM``) after each phase. Run it
in a fresh process per model: the peak is the process's high-water mark.

    python bench/bench_memory.py --model autoregressive --rows 1000000 --cols 30 --budget 120
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make(rows: int, cols: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=rows)
    d: dict[str, object] = {}
    n_num = (2 * cols) // 3
    for i in range(n_num):
        x = 0.6 * z + rng.normal(size=rows)
        if i % 3 == 0:
            x = np.where(rng.random(rows) < 0.3, 0.0, np.exp(x))  # a spike at 0
        if i % 4 == 0:
            x[rng.random(rows) < 0.05] = np.nan
        d[f"x{i}"] = x
    for i in range(cols - n_num):
        k = [3, 12, 200][i % 3]
        d[f"c{i}"] = pd.Categorical.from_codes(
            np.clip((z * k / 4 + k / 2 + rng.normal(size=rows)).astype(int), 0, k - 1),
            [f"v{j}" for j in range(k)],
        ).astype(str)
    return pd.DataFrame(d)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="autoregressive")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=30)
    ap.add_argument("--budget", type=float, default=120.0, help="max_training_time (s)")
    a = ap.parse_args()
    from synthcust.synthesizers import REGISTRY

    out: dict[str, object] = {"model": a.model, "rows": a.rows, "cols": a.cols}
    df = make(a.rows, a.cols)
    out["peak_after_data_mb"] = vm_hwm_mb()
    kw = {"random_state": 0}
    if a.model != "copula":
        kw["max_training_time"] = a.budget
    t0 = time.perf_counter()
    m = REGISTRY[a.model](**kw).fit(df)
    out["fit_s"] = time.perf_counter() - t0
    out["peak_after_fit_mb"] = vm_hwm_mb()
    t0 = time.perf_counter()
    s = m.sample(a.rows, random_state=0)
    out["sample_s"] = time.perf_counter() - t0
    out["peak_after_sample_mb"] = vm_hwm_mb()
    out["sampled_rows"] = len(s)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
