#!/usr/bin/env python
"""Speed of the causal journey simulator (goal: 1M journeys in under a minute on 2 cores).

For each scenario, ``synthcust.simulation.journeys.simulate`` is timed on ``--users`` users
(default 1,000,000) twice: the journeys alone (``ground_truth=False``: touch log, users table)
and with the ground truth (every channel subset re-simulated with the same random draws, which
adds the 2^C value table). Wall-clock seconds from ``time.perf_counter``, best of ``--repeat``;
peak resident memory from ``resource.getrusage`` (the whole process, so an upper bound).
Threads: whatever NumPy/BLAS use by default; the run records ``os.cpu_count()`` and
``os.sched_getaffinity``.

Usage::

    python bench/bench_journeys.py                       # 1M users, all scenarios
    python bench/bench_journeys.py --users 50000 --quick # smoke test (one scenario)

Results: ``bench/results/journeys_<date>.json`` and ``.md`` (``--out-dir`` to change).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from synthcust.simulation.journeys import SCENARIOS, simulate  # noqa: E402


def run(users: int, scenarios: list[str], repeat: int) -> list[dict]:
    rows = []
    for sc in scenarios:
        for truth in (False, True):
            best, sim = float("inf"), None
            for r in range(repeat):
                t0 = time.perf_counter()
                sim = simulate(sc, users, random_state=r, ground_truth=truth)
                best = min(best, time.perf_counter() - t0)
            assert sim is not None
            rows.append(
                {
                    "scenario": sc,
                    "ground_truth": truth,
                    "users": users,
                    "seconds": round(best, 2),
                    "touch_rows": len(sim.touches),
                    "conversions": int(sim.users["converted"].sum()),
                    "users_per_second": round(users / best),
                }
            )
            print(
                f"{sc:22s} truth={truth!s:5s} {best:6.2f}s  {len(sim.touches):>10,} touches "
                f"{rows[-1]['conversions']:>9,} conversions",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="only the 'independent' scenario")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--tag", default="")
    a = ap.parse_args(argv)
    scen = ["independent"] if a.quick else list(SCENARIOS)
    rows = run(a.users, scen, a.repeat)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    env = {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "peak_rss_mb": round(peak_mb),
        "python": sys.version.split()[0],
    }
    stamp = _dt.date.today().isoformat() + (f"_{a.tag}" if a.tag else "")
    a.out_dir.mkdir(parents=True, exist_ok=True)
    (a.out_dir / f"journeys_{stamp}.json").write_text(json.dumps({"env": env, "rows": rows}))
    md = [
        f"# Journey simulator speed ({a.users:,} users)",
        "",
        f"cpu_count={env['cpu_count']}, affinity={env['affinity']}, peak RSS {env['peak_rss_mb']}"
        " MB (whole process); best of "
        f"{a.repeat}",
        "",
        "| scenario | ground truth | seconds | touches | conversions | users/s |",
        "|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['scenario']} | {r['ground_truth']} | {r['seconds']} | {r['touch_rows']:,} | "
        f"{r['conversions']:,} | {r['users_per_second']:,} |"
        for r in rows
    ]
    (a.out_dir / f"journeys_{stamp}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
