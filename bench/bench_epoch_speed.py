#!/usr/bin/env python
"""Per-epoch training speed of synthcust's CTGAN and TVAE against SDV's, interleaved.

A fit's time is ``fixed + epochs x per_epoch`` (fixed = schema/metadata, the mode-specific
transform, building the networks). Fitting each model at two epoch counts ``e1 < e2`` on the
same train frame gives the **marginal per-epoch time** ``(t(e2) - t(e1)) / (e2 - e1)``, which
is what "faster per epoch" means; the fixed part is reported separately. Runs alternate between
the libraries (ours float32, ours with the default ``precision="auto"``, SDV) and repeat
``--repeats`` times; the medians are reported, so slow spells of a shared machine hit every
library alike. Quality at equal epochs is measured by ``bench_deep.py``.

Usage::

    python bench/bench_epoch_speed.py --datasets adult --repeats 2
    python bench/bench_epoch_speed.py --quick          # smoke test: 3,000 rows, 1-2 epochs

Results: ``bench/results/epoch_speed_<date>[_<name>].json`` / ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, mod)
    spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


bd = _load("bench_deep")

#: (label, library, model, precision)
VARIANTS = {
    "ctgan": [
        ("synthcust CTGAN float32", "ours", "ctgan", "float32"),
        ("synthcust CTGAN auto", "ours", "ctgan", "auto"),
        ("SDV CTGAN", "sdv", "ctgan", None),
    ],
    "tvae": [
        ("synthcust TVAE float32", "ours", "tvae", "float32"),
        ("synthcust TVAE auto", "ours", "tvae", "auto"),
        ("SDV TVAE", "sdv", "tvae", None),
    ],
}


def fit_seconds(lib: str, model: str, precision: str | None, train: pd.DataFrame, e: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if lib == "ours":
            from synthcust.synthesizers import REGISTRY

            cls = REGISTRY[model]
            t0 = time.perf_counter()
            cls(epochs=e, precision=precision, random_state=0, verbose=False).fit(train)
            return time.perf_counter() - t0
        from sdv.metadata import Metadata
        from sdv.single_table import CTGANSynthesizer, TVAESynthesizer

        t0 = time.perf_counter()
        md = Metadata.detect_from_dataframes({"t": train})
        sdv_cls = {"ctgan": CTGANSynthesizer, "tvae": TVAESynthesizer}[model]
        sdv_cls(md, epochs=e).fit({"t": train})
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="+", choices=sorted(bd.DATASETS), default=["adult"])
    ap.add_argument("--models", nargs="+", choices=sorted(VARIANTS), default=["ctgan", "tvae"])
    ap.add_argument("--gan-epochs", nargs=2, type=int, default=[1, 4], metavar=("E1", "E2"))
    ap.add_argument("--vae-epochs", nargs=2, type=int, default=[2, 12], metavar=("E1", "E2"))
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--max-rows", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="3,000 rows, epochs 1 and 2, 1 repeat")
    ap.add_argument("--skip-sdv", action="store_true", help="only synthcust (no SDV installed)")
    ap.add_argument("--data-dir", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--name", default="")
    args = ap.parse_args(argv)
    if args.quick:
        args.max_rows, args.repeats = 3_000, 1
        args.gan_epochs = args.vae_epochs = [1, 2]
    import torch

    from synthcust.synthesizers.neural.torchutil import native_bf16

    result: dict[str, Any] = {
        "date": _dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, native bfloat16: {native_bf16()}",
        "datasets": {},
    }
    for name in args.datasets:
        ds = bd.DATASETS[name]
        train, _ = bd.bc.split(bd.load(name, args.data_dir), ds.target, args.max_rows)
        rows: dict[str, Any] = {}
        for model in args.models:
            e1, e2 = args.gan_epochs if model == "ctgan" else args.vae_epochs
            variants = [v for v in VARIANTS[model] if not (args.skip_sdv and v[1] == "sdv")]
            times: dict[str, dict[int, list[float]]] = {v[0]: {e1: [], e2: []} for v in variants}
            for _label, lib, mdl, prec in variants:  # warm-up: imports, first allocations
                fit_seconds(lib, mdl, prec, train.head(500), 1)
            for _ in range(args.repeats):
                for e in (e1, e2):
                    for label, lib, mdl, prec in variants:
                        s = fit_seconds(lib, mdl, prec, train, e)
                        times[label][e].append(s)
                        print(f"{name} {label} {e} epochs: {s:.2f} s", flush=True)
            for label, t in times.items():
                m1, m2 = statistics.median(t[e1]), statistics.median(t[e2])
                per = max(m2 - m1, 1e-9) / (e2 - e1)
                rows[label] = {
                    "epochs": [e1, e2],
                    "fit_s": {str(e1): t[e1], str(e2): t[e2]},
                    "per_epoch_s": per,
                    "fixed_s": max(m1 - e1 * per, 0.0),
                }
        result["datasets"][name] = {"rows": len(train), "models": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"epoch_speed_{result['date']}" + (f"_{args.name}" if args.name else "")
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2))
    md = [f"# Per-epoch speed ({result['date']})", "", f"Machine: {result['machine']}.", ""]
    for name, d in result["datasets"].items():
        md += [
            f"## {name} ({d['rows']:,} train rows)",
            "",
            "| model | per epoch (s) | ratio vs SDV | fixed (s) | fits (s) |",
            "|---|---:|---:|---:|---|",
        ]
        ms = d["models"]
        for label, r in ms.items():
            sdv = ms.get("SDV " + label.split()[1])
            ratio = f"{sdv['per_epoch_s'] / r['per_epoch_s']:.2f}x" if sdv and sdv is not r else ""
            fits = "; ".join(
                f"{e}: " + ", ".join(f"{x:.1f}" for x in v) for e, v in r["fit_s"].items()
            )
            md.append(
                f"| {label} | {r['per_epoch_s']:.3f} | {ratio} | {r['fixed_s']:.2f} | {fits} |"
            )
        md.append("")
    (args.out / f"{stem}.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
