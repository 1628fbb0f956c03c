#!/usr/bin/env python
"""Peer check of our attribution models against the ChannelAttribution package, and the lab.

**Peer check.** On the same path tables (the real ``../shared/data/journeys/channel_paths.csv``,
ChannelAttribution's own example data, plus simulated path tables of two scenarios), our
Markov removal effects (``synthcust.simulation.attribution.markov_removal_effects``: exact
absorbing-chain solution) are compared with ``ChannelAttribution.markov_model`` (Monte Carlo
simulation of the chain, ``nsim_start`` paths) for orders 1..3: the largest absolute difference
of the raw removal effects and of the conversion shares, and wall-clock time of each. Our
first/last/linear touch are compared with ``ChannelAttribution.heuristic_models``.

ChannelAttribution is GPL and is NOT a synthcust dependency: it runs in its own virtualenv
(``--peer-python``, default ``/work/venv-chattr/bin/python``, created with
``python -m venv /work/venv-chattr && /work/venv-chattr/bin/pip install ChannelAttribution
matplotlib``) through a subprocess; if it is missing or does not import, the output says so and
the peer columns are empty.

**Lab** (``--lab``): ``synthcust.simulation.attribution_lab.evaluate`` over all scenarios,
``--seeds`` seeds x ``--users`` users; the HTML report (inline SVG plots) and its JSON go to
``bench/results/attribution_lab_<date>.html/.json``.

Usage::

    python bench/bench_attribution.py                        # peer check only
    python bench/bench_attribution.py --lab --seeds 10       # + the lab
    python bench/bench_attribution.py --quick                # small smoke run

Results: ``bench/results/attribution_<date>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from synthcust.simulation.attribution import (  # noqa: E402
    attribute,
    load_journeys,
    markov_removal_effects,
)
from synthcust.simulation.journeys import simulate  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "journeys" / "channel_paths.csv"

_PEER = r"""
import json, sys, time
import pandas as pd
import ChannelAttribution as ca
src, out, orders, nsim = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
d = pd.read_csv(src)
res = {"version": getattr(ca, "__version__", "?"), "markov": {}}
for k in orders:
    t = time.perf_counter()
    r = ca.markov_model(d, "path", "total_conversions", var_null="total_null", order=k,
                        out_more=True, verbose=False, flg_pro=False, nsim_start=nsim, seed=0)
    sec = time.perf_counter() - t
    re = r["removal_effects"].set_index("channel_name")["removal_effect"].to_dict()
    conv = r["result"].set_index("channel_name")["total_conversions"].to_dict()
    res["markov"][str(k)] = {"seconds": sec, "removal_effects": re, "conversions": conv}
h = ca.heuristic_models(d, "path", "total_conversions", flg_pro=False).set_index("channel_name")
res["heuristics"] = {c: h[c].to_dict() for c in h.columns}
json.dump(res, open(out, "w"))
"""


def run_peer(python: str, df: pd.DataFrame, orders: list[int], nsim: float) -> dict:
    """ChannelAttribution's results on ``df`` via its own interpreter, or {"error": why}."""
    if not Path(python).exists():
        return {"error": f"ChannelAttribution interpreter {python} not found (not installed)"}
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "paths.csv", Path(tmp) / "out.json"
        df.to_csv(src, index=False)
        p = subprocess.run(
            [python, "-c", _PEER, str(src), str(out), json.dumps(orders), str(nsim)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if p.returncode != 0 or not out.exists():
            return {"error": "ChannelAttribution failed: " + (p.stderr or p.stdout)[-400:]}
        return json.loads(out.read_text())


def compare(name: str, df: pd.DataFrame, orders: list[int], peer_py: str, nsim: float) -> list:
    d = load_journeys(df)
    peer = run_peer(peer_py, df, orders, nsim)
    rows = []
    total = float(d.conversions.sum())
    for k in orders:
        t = time.perf_counter()
        ours = markov_removal_effects(d, k)
        sec = time.perf_counter() - t
        row = {"data": name, "model": f"markov_{k}", "ours_seconds": round(sec, 3)}
        if "error" in peer:
            row["peer"] = peer["error"]
        else:
            pk = peer["markov"][str(k)]
            pre = pd.Series(pk["removal_effects"]).reindex(ours.index).fillna(0)
            pconv = pd.Series(pk["conversions"]).reindex(ours.index).fillna(0) / total
            oshare = ours / ours.sum()
            row.update(
                {
                    "peer_seconds": round(pk["seconds"], 3),
                    "max_abs_diff_removal_effect": float((ours - pre).abs().max()),
                    "max_abs_diff_share": float((oshare - pconv).abs().max()),
                    "mae_share": float((oshare - pconv).abs().mean()),
                }
            )
        rows.append(row)
    ours_h = attribute(d, ["first_touch", "last_touch", "linear"]).credits
    for ours_name, peer_name in (
        ("first_touch", "first_touch"),
        ("last_touch", "last_touch"),
        ("linear", "linear_touch"),
    ):
        row = {"data": name, "model": ours_name}
        if "error" not in peer:
            ph = pd.Series(peer["heuristics"][peer_name]).reindex(ours_h.index).fillna(0)
            row["max_abs_diff_conversions"] = float((ours_h[ours_name] - ph).abs().max())
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peer-python", default="/work/venv-chattr/bin/python")
    ap.add_argument("--nsim", type=float, default=1e6, help="ChannelAttribution nsim_start")
    ap.add_argument("--orders", default="1,2,3")
    ap.add_argument("--sim-users", type=int, default=200_000)
    ap.add_argument("--lab", action="store_true")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--tag", default="")
    a = ap.parse_args(argv)
    orders = [int(x) for x in a.orders.split(",")]
    if a.quick:
        orders, a.sim_users, a.seeds, a.users, a.nsim = [1], 20_000, 1, 5_000, 1e5
    datasets: list[tuple[str, pd.DataFrame]] = []
    if REAL.exists():
        datasets.append(("channel_paths.csv (real)", pd.read_csv(REAL)))
    else:
        print(f"note: {REAL} not found; peer check on simulated paths only")
    for sc in ("independent", "upper_funnel_display"):
        datasets.append((f"simulated {sc}", simulate(sc, a.sim_users, 0).path_table()))
    rows = []
    for name, df in datasets:
        r = compare(name, df, orders, a.peer_python, a.nsim)
        rows += r
        for x in r:
            print(json.dumps(x), flush=True)
    stamp = _dt.date.today().isoformat() + (f"_{a.tag}" if a.tag else "")
    a.out_dir.mkdir(parents=True, exist_ok=True)
    result: dict = {"peer": rows, "nsim_start": a.nsim}
    md = [
        "# Attribution: peer check against ChannelAttribution",
        "",
        f"ChannelAttribution `markov_model` with nsim_start={a.nsim:g} (Monte Carlo) vs our exact "
        "absorbing-chain removal effects; heuristics vs `heuristic_models`.",
        "",
        "| data | model | ours s | peer s | max abs diff RE | max abs diff share | "
        "max abs diff conversions |",
        "|---|---|---|---|---|---|---|",
    ]

    def f(x, fmt="{:.4f}"):
        return "" if x is None else (fmt.format(x) if isinstance(x, float) else str(x))

    for r in rows:
        md.append(
            f"| {r['data']} | {r['model']} | {f(r.get('ours_seconds'), '{:.3f}')} | "
            f"{f(r.get('peer_seconds'), '{:.3f}')} | {f(r.get('max_abs_diff_removal_effect'))} | "
            f"{f(r.get('max_abs_diff_share'))} | {f(r.get('max_abs_diff_conversions'))} |"
        )
    errs = {r["peer"] for r in rows if "peer" in r}
    if errs:
        md += ["", "Peer not run: " + "; ".join(sorted(errs))]
    if a.lab:
        from synthcust.simulation.attribution_lab import evaluate

        t = time.perf_counter()
        lab = evaluate(seeds=a.seeds, n_users=a.users)
        sec = time.perf_counter() - t
        lab.write(a.out_dir / f"attribution_lab_{stamp}.html")
        tab = lab.table()
        summary = json.loads(lab.summary().to_json(orient="records"))
        result["lab"] = {"seconds": sec, "seeds": a.seeds, "users": a.users, "summary": summary}
        md += [
            "",
            f"# Attribution lab ({a.seeds} seeds x {a.users:,} users, {sec:.0f} s)",
            "",
            "| " + " | ".join(tab.columns) + " |",
            "|" + "---|" * len(tab.columns),
        ]
        md += ["| " + " | ".join(str(v) for v in r) + " |" for r in tab.itertuples(index=False)]
        print("\n".join(md[-len(tab) - 3 :]))
    (a.out_dir / f"attribution_{stamp}.json").write_text(json.dumps(result, default=float))
    (a.out_dir / f"attribution_{stamp}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md[: 8 + len(rows)]))
    return 0 if np.isfinite([r.get("ours_seconds", 0) for r in rows]).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
