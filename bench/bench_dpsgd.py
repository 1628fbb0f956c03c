#!/usr/bin/env python
"""DP-SGD synthesizers on Adult: each private model against its non-private twin, and
smartnoise-synth's DPCTGAN, side by side in one run.

What it measures, on the 80/20 stratified split of ``bench_copula.split`` (seed 0):

* for each model in ``--models`` (``ctgan``, ``tvae``, ``autoregressive``): a DP-SGD fit at
  ``--epsilon`` (delta ``--delta``, default 1e-9) and the same model without DP at the same
  ``--epochs`` (``random_state=0``); the epsilon actually spent, fit seconds, and on a sample of
  ``len(train)`` rows ``synthcust.evaluation.evaluate`` accuracy (1 - TVD, univariate and
  bivariate mean) and TSTR ROC AUC on the real holdout;
* with ``--smartnoise`` (needs smartnoise-synth in ``--sn-python``, default
  ``/work/venv-snsynth/bin/python``): smartnoise's ``DPCTGAN`` at the same epsilon, delta and
  epochs (its defaults otherwise: sigma 5, clipping 1, pac 1, cross-entropy loss; it stops
  early when its accountant reaches epsilon), with Adult's public bounds (``bench_dp``) for
  its min-max scaling, evaluated by the same code here.

DP-SGD computes one gradient per row: expect fits tens of times slower than without DP.

Usage::

    python bench/bench_dpsgd.py --models ctgan --epsilon 4 --epochs 3 --smartnoise
    python bench/bench_dpsgd.py --models ctgan --max-rows 4000 --epochs 1   # a minute

Results go to ``bench/results/dpsgd_<date>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_copula import DEFAULT_DATA_DIR, load_dataset, split  # noqa: E402
from bench_dp import ADULT_BOUNDS, DEFAULT_SN_PYTHON, score  # noqa: E402

DEFAULT_OUT_DIR = HERE / "results"


def sn_worker(args: argparse.Namespace) -> None:
    """Inside the smartnoise venv: fit DPCTGAN, write its sample, print one JSON line."""
    from snsynth.pytorch.nn import DPCTGAN
    from snsynth.transform import (
        ChainTransformer,
        LabelTransformer,
        MinMaxTransformer,
        OneHotEncoder,
        TableTransformer,
    )

    train = pd.read_parquet(args.sn_worker)
    tt = TableTransformer(
        [
            MinMaxTransformer(lower=ADULT_BOUNDS[c][0], upper=ADULT_BOUNDS[c][1], negative=True)
            if c in ADULT_BOUNDS
            else ChainTransformer([LabelTransformer(nullable=True), OneHotEncoder()])
            for c in train.columns
        ]
    )
    t0 = time.perf_counter()
    m = DPCTGAN(epsilon=args.epsilon, delta=args.delta, epochs=args.epochs, cuda=False,
                verbose=False)  # fmt: skip
    m.fit(train, transformer=tt, preprocessor_eps=0.0)
    fit_s = time.perf_counter() - t0
    syn = pd.DataFrame(m.sample(len(train)), columns=list(train.columns))
    for c in ADULT_BOUNDS:
        syn[c] = pd.to_numeric(syn[c], errors="coerce")
    out = Path(args.sn_worker).with_suffix(".syn.parquet")
    syn.to_parquet(out)
    print("SNJSON " + json.dumps({"fit_s": fit_s, "path": str(out)}), flush=True)


def run_model(name: str, train: pd.DataFrame, hold: pd.DataFrame, args, dp: bool) -> dict:
    from synthcust.synthesizers import REGISTRY

    kw: dict[str, Any] = {"epochs": args.epochs, "random_state": 0, "verbose": False}
    if dp:
        kw |= {"dp_epsilon": args.epsilon, "dp_delta": args.delta}
    t0 = time.perf_counter()
    m = REGISTRY[name](**kw).fit(train)
    fit_s = time.perf_counter() - t0
    syn = m.sample(len(train), random_state=1)
    rec = {"model": f"synthcust-{name}" + (" (DP-SGD)" if dp else ""), "fit_s": fit_s}
    if dp:
        rec |= {"epsilon_spent": m.privacy_["epsilon"], "noise_multiplier":
                m.privacy_["noise_multiplier"]}  # fmt: skip
    return rec | score(train, syn, hold)


def run_smartnoise(train: pd.DataFrame, hold: pd.DataFrame, args) -> dict:
    rec: dict[str, Any] = {"model": "smartnoise-DPCTGAN"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.parquet"
        train.to_parquet(path)
        cmd = [args.sn_python, __file__, "--sn-worker", str(path)]
        cmd += ["--epsilon", str(args.epsilon), "--delta", str(args.delta)]
        cmd += ["--epochs", str(args.epochs)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.sn_timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            return rec | {"error": repr(e)[:300]}
        line = next((x for x in out.stdout.splitlines() if x.startswith("SNJSON ")), None)
        if line is None:
            return rec | {"error": (out.stderr or out.stdout)[-400:]}
        got = json.loads(line[7:])
        syn = pd.read_parquet(got["path"])
    return rec | {"fit_s": got["fit_s"], "epsilon_spent": args.epsilon} | score(train, syn, hold)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--models", nargs="+", default=["ctgan"],
                    choices=["ctgan", "tvae", "autoregressive"])  # fmt: skip
    ap.add_argument("--epsilon", type=float, default=4.0)
    ap.add_argument("--delta", type=float, default=1e-9)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-rows", type=int, default=None)
    ap.add_argument("--smartnoise", action="store_true")
    ap.add_argument("--sn-python", default=DEFAULT_SN_PYTHON)
    ap.add_argument("--sn-timeout", type=float, default=3600)
    ap.add_argument("--sn-worker", help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = ap.parse_args(argv)
    if args.sn_worker:
        sn_worker(args)
        return 0
    train, hold = split(load_dataset("adult", args.data_dir), "income", args.max_rows)
    results = []
    for name in args.models:
        for dp in (True, False):
            results.append(run_model(name, train, hold, args, dp))
            print(json.dumps(results[-1]), flush=True)
    if args.smartnoise:
        results.append(run_smartnoise(train, hold, args))
        print(json.dumps(results[-1]), flush=True)
    meta = {"date": _dt.date.today().isoformat(), "rows": len(train), "epsilon": args.epsilon,
            "delta": args.delta, "epochs": args.epochs, "machine": platform.platform()}  # fmt: skip
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.out_dir / f"dpsgd_{meta['date']}"
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    lines = [f"# DP-SGD on Adult ({meta['rows']:,} training rows, epsilon {args.epsilon:g}, "
             f"delta {args.delta:g}, {args.epochs} epochs; {meta['date']})", "",
             "| model | epsilon spent | accuracy | TSTR AUC | fit s |",
             "|---|---|---|---|---|"]  # fmt: skip
    for r in results:
        if "error" in r:
            lines.append(f"| {r['model']} | error: {r['error'][:80]} | | | |")
            continue
        eps = f"{r['epsilon_spent']:.3f}" if "epsilon_spent" in r else "(none)"
        lines.append(f"| {r['model']} | {eps} | {r['accuracy']:.4f} | {r['tstr_auc']:.4f} | "
                     f"{r['fit_s']:.1f} |")  # fmt: skip
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
