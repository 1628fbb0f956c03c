#!/usr/bin/env python
"""Speed of the causal journey simulator (goal: 1M journeys in under a minute on 2 cores).

For each scenario, ``synthcust.simulation.journeys.simulate`` is timed on ``--users`` users
(default 1,000,000) twice: the journeys alone (``ground_truth=False``: touch log, users table)
and with the ground truth (every channel subset re-simulated with the same random draws, which
adds the 2^C value table). Wall-clock seconds from ``time.perf_counter``, best of ``--repeat``;
peak resident memory from ``resource.getrusage`` (the whole process, so an upper bound).
Threads: whatever NumPy/BLAS use by default; the run records ``os.cpu_count()`` and
``os.sched_getaffinity``. Unless ``--no-attribution``, it then times ``load_journeys`` (checks
and indexing), ``path_table`` and each attribution model on the 1M-user touch log of
``upper_funnel_display``.

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

from synthcust.simulation.attribution import attribute, load_journeys  # noqa: E402
from synthcust.simulation.journeys import SCENARIOS, simulate  # noqa: E402

ATTR_MODELS = ["last_touch", "time_decay", "position", "markov_1", "markov_2", "markov_3",
               "shapley", "logistic"]  # fmt: skip


def run_attribution(users: int, scenario: str) -> list[dict]:
    """Time reading the simulated touch log and each attribution model on it."""
    sim = simulate(scenario, users, random_state=0, ground_truth=False)
    rows = []
    t0 = time.perf_counter()
    d = load_journeys(sim.touches)
    rows.append({"step": "load_journeys (validate + index the log)",
                 "seconds": round(time.perf_counter() - t0, 2)})  # fmt: skip
    t0 = time.perf_counter()
    sim.path_table()
    rows.append({"step": "path_table", "seconds": round(time.perf_counter() - t0, 2)})
    for m in ATTR_MODELS:
        t0 = time.perf_counter()
        attribute(d, [m])
        rows.append({"step": m, "seconds": round(time.perf_counter() - t0, 2)})
    for r in rows:
        print(f"{r['step']:45s} {r['seconds']:6.2f}s", flush=True)
    return [{**r, "touch_rows": len(sim.touches), "scenario": scenario} for r in rows]


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
    ap.add_argument(
        "--no-attribution", action="store_true", help="skip timing the models on the 1M log"
    )
    a = ap.parse_args(argv)
    scen = ["independent"] if a.quick else list(SCENARIOS)
    rows = run(a.users, scen, a.repeat)
    attr = [] if a.no_attribution else run_attribution(a.users, "upper_funnel_display")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    env = {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "peak_rss_mb": round(peak_mb),
        "python": sys.version.split()[0],
    }
    stamp = _dt.date.today().isoformat() + (f"_{a.tag}" if a.tag else "")
    a.out_dir.mkdir(parents=True, exist_ok=True)
    out = {"env": env, "rows": rows, "attribution": attr}
    (a.out_dir / f"journeys_{stamp}.json").write_text(json.dumps(out))
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
    if attr:
        md += [
            "",
            f"## Attribution on the simulated log ({attr[0]['scenario']}, {a.users:,} users, "
            f"{attr[0]['touch_rows']:,} touches)",
            "",
            "| step | seconds |",
            "|---|---|",
        ]
        md += [f"| {r['step']} | {r['seconds']} |" for r in attr]
    (a.out_dir / f"journeys_{stamp}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
