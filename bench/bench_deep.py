#!/usr/bin/env python
"""Benchmark synthcust's autoregressive, CTGAN and TVAE models against SDV's, side by side.

For each dataset (Adult, Bank, Credit default; splits as in ``shared/BENCHMARKS.md``) every
model is fitted on the same train DataFrame, samples ``len(train)`` rows, and the sample is
scored with ``synthcust.evaluation.evaluate`` against real train and real holdout (accuracy
1 - TVD, KL, detection AUC, TSTR, DCR share), plus SDMetrics' QualityReport when installed.
Fit and sample are timed (``time.perf_counter``); a model's per-epoch time is its fit time
divided by the epochs it ran.

Models (``--models``):

* ``ar``: synthcust ``AutoregressiveSynthesizer`` with defaults (early stopping);
* ``copula``: synthcust ``GaussianCopulaSynthesizer``;
* ``ctgan`` / ``tvae``: synthcust's CTGAN / TVAE at ``--gan-epochs`` / ``--vae-epochs``;
* ``sdv-copula``, ``sdv-ctgan``, ``sdv-tvae``: SDV 2.x with default settings and the same epochs;
* ``mostly``: MOSTLY AI's TabularARGN through its local engine (``pip install mostlyai-engine``)
  with the engine's defaults (model ``MOSTLY_AI/Medium``, at most 100 epochs, early stopping on
  its own 80/20 train/validation split), in a temporary workspace; ``--mostly-time`` caps its
  training (minutes). Fit time covers split, analyze, encode and train; sample time covers
  generate and reading the generated parquet back.

Usage::

    python bench/bench_deep.py --datasets adult --models ar sdv-ctgan sdv-tvae
    python bench/bench_deep.py --quick --models ar copula     # smoke test (5,000 rows)
    python bench/bench_deep.py --datasets adult --models mostly --name mostly

Results: ``bench/results/deep_<date>.json`` / ``.md`` and one HTML report per model and dataset.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import gzip
import importlib.util
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, mod)
    spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


bc = _load("bench_copula")
CREDIT = bc.Dataset("credit_default", "default_payment_next_month", 1, (), 30_000)
DATASETS = {**bc.DATASETS, "credit_default": CREDIT}


def load(name: str, data_dir: Path) -> pd.DataFrame:
    if name != "credit_default":
        return bc.load_dataset(name, data_dir)
    with gzip.open(data_dir / "credit_default" / "credit_default.csv.gz", "rt") as fh:
        df = pd.read_csv(fh)
    return df.drop(columns=["ID"])  # a row id: nothing to learn


# --------------------------------------------------------------------------- models
class Model:
    def __init__(self, key: str, args: argparse.Namespace):
        self.key, self.args = key, args
        self.epochs: int | None = None

    def fit_sample(self, train: pd.DataFrame, n: int, table: str) -> pd.DataFrame:
        a = self.args
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.key.startswith("sdv-"):
                return self._sdv(train, n, table)
            if self.key == "mostly":
                return self._mostly(train, n)
            from synthcust.synthesizers import REGISTRY

            kw: dict[str, Any] = {"random_state": 0}
            name = {"ar": "autoregressive"}.get(self.key, self.key)
            if name == "ctgan":
                kw["epochs"] = a.gan_epochs
            if name == "tvae":
                kw["epochs"] = a.vae_epochs
            if name == "autoregressive" and a.ar_time:
                kw["max_training_time"] = a.ar_time
            t0 = time.perf_counter()
            m = REGISTRY[name](**kw).fit(train)
            self.fit_s = time.perf_counter() - t0
            log = getattr(m, "training_log_", None)
            self.epochs = getattr(log, "epochs_run", None) or kw.get("epochs")
            t0 = time.perf_counter()
            out = m.sample(n, random_state=0)
            self.sample_s = time.perf_counter() - t0
            return out

    def _sdv(self, train: pd.DataFrame, n: int, table: str) -> pd.DataFrame:
        from sdv.metadata import Metadata
        from sdv.single_table import (
            CTGANSynthesizer,
            GaussianCopulaSynthesizer,
            TVAESynthesizer,
        )

        t0 = time.perf_counter()
        md = Metadata.detect_from_dataframes({table: train})
        cls = {"sdv-copula": GaussianCopulaSynthesizer, "sdv-ctgan": CTGANSynthesizer,
               "sdv-tvae": TVAESynthesizer}[self.key]  # fmt: skip
        kw: dict[str, Any] = {}
        if self.key == "sdv-ctgan":
            kw["epochs"] = self.epochs = self.args.gan_epochs
        if self.key == "sdv-tvae":
            kw["epochs"] = self.epochs = self.args.vae_epochs
        m = cls(md, **kw)
        m.fit({table: train})
        self.fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = m.sample(n)
        self.sample_s = time.perf_counter() - t0
        return out[table] if isinstance(out, dict) else out

    def _mostly(self, train: pd.DataFrame, n: int) -> pd.DataFrame:
        """MOSTLY AI's TabularARGN (``mostlyai-engine``) with its defaults, in a temp workspace."""
        import tempfile

        from mostlyai import engine  # lazy: only this model needs the package

        engine.init_logging()
        minutes = self.args.mostly_time  # None: the engine's default cap
        with tempfile.TemporaryDirectory(prefix="mostly-ws-") as tmp:
            ws = Path(tmp)
            engine.set_random_state(0)
            t0 = time.perf_counter()
            engine.split(workspace_dir=ws, tgt_data=train)
            engine.analyze(workspace_dir=ws)
            engine.encode(workspace_dir=ws)
            engine.train(workspace_dir=ws, **({"max_training_time": minutes} if minutes else {}))
            self.fit_s = time.perf_counter() - t0
            log = ws / "ModelStore" / "model-data" / "progress-messages.csv"
            if log.is_file():
                ep = pd.read_csv(log)["epoch"].max()
                self.epochs = round(float(ep), 2) if pd.notna(ep) else None
            t0 = time.perf_counter()
            engine.generate(workspace_dir=ws, sample_size=n)
            out = pd.read_parquet(ws / "SyntheticData")
            self.sample_s = time.perf_counter() - t0
        # the engine hands back its own dtypes (e.g. strings for categories): match train's
        for c in train.columns:
            with contextlib.suppress(TypeError, ValueError):
                out[c] = out[c].astype(train[c].dtype)
        return out[list(train.columns)]


# --------------------------------------------------------------------------- one dataset
def figures(rep: Any) -> dict[str, Any]:
    def g(sec: str, key: str) -> float | None:
        s = rep.sections.get(sec)
        if s is None:
            return None
        try:
            return s.metric(key).value
        except KeyError:
            return None

    kl = rep.sections["fidelity"].tables["columns"]["kl"]
    return {
        "accuracy": g("fidelity", "accuracy"),
        "accuracy_ceiling": rep.sections["fidelity"].metric("accuracy").reference,
        "shapes": g("fidelity", "shapes"),
        "pairs": g("fidelity", "pairs"),
        "kl_max": float(kl.max()),
        "kl_over_bar": int((kl >= 0.12).sum()),
        "detection_auc": g("detection", "detection_auc"),
        "tstr_auc": g("utility", "tstr_auc"),
        "trtr_auc": rep.sections["utility"].metric("tstr_auc").reference,
        "dcr_share": g("privacy", "dcr_share"),
        "exact_copy_rate": g("privacy", "exact_copy_rate"),
        "mia_auc": g("privacy", "mia_auc"),
    }


def run_dataset(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from synthcust.evaluation.evaluate import evaluate
    from synthcust.reporting import write_report

    ds = DATASETS[name]
    df = load(name, args.data_dir)
    train, holdout = bc.split(df, ds.target, args.max_rows)
    train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
    print(f"\n== {name}: train {len(train):,}, holdout {len(holdout):,}", flush=True)
    metadata, sdm_note = bc.sdmetrics_setup(train)
    out: dict[str, Any] = {"rows": [len(train), len(holdout)], "models": {}, "errors": {}}
    for key in args.models:
        model = Model(key, args)
        try:
            synth = model.fit_sample(train, len(train), name)
        except Exception as e:  # a peer failing must not lose the others' figures
            out["errors"][key] = f"{type(e).__name__}: {e}"
            print(f"  {key}: FAILED {out['errors'][key]}", flush=True)
            continue
        rep = evaluate(train, synth, holdout, target=ds.target, random_state=0)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        write_report(rep, args.out_dir / f"deep_{name}_{key}{args.tag}.html")
        res = {"fit_s": model.fit_s, "sample_s": model.sample_s, "epochs": model.epochs,
               **figures(rep)}  # fmt: skip
        if model.epochs:
            res["s_per_epoch"] = model.fit_s / model.epochs
        if metadata is not None:
            res["sdmetrics"] = bc.sdmetrics_quality(train, synth, metadata)["overall"]
        out["models"][key] = res
        print(
            f"  {key}: fit {model.fit_s:.1f}s ({model.epochs or '-'} epochs), "
            f"accuracy {_f(res['accuracy'])}, detection {_f(res['detection_auc'])}, "
            f"TSTR {_f(res['tstr_auc'])}, max KL {_f(res['kl_max'])}, "
            f"DCR share {_f(res['dcr_share'])}",
            flush=True,
        )
    out["sdmetrics_note"] = sdm_note
    return out


# --------------------------------------------------------------------------- output
LABELS = {
    "ar": "synthcust autoregressive",
    "copula": "synthcust copula",
    "ctgan": "synthcust CTGAN",
    "tvae": "synthcust TVAE",
    "sdv-copula": "SDV GaussianCopula",
    "sdv-ctgan": "SDV CTGAN",
    "sdv-tvae": "SDV TVAE",
    "mostly": "MOSTLY AI TabularARGN",
}


def _f(v: Any, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def render(res: dict[str, Any]) -> str:
    lines = [f"# Deep and autoregressive synthesizers ({res['date']})", "", res["how"], ""]
    for name, d in res["datasets"].items():
        ceil = next(iter(d["models"].values()), {})
        lines += [
            f"## {name} (train {d['rows'][0]:,}, holdout {d['rows'][1]:,}; accuracy ceiling "
            f"{_f(ceil.get('accuracy_ceiling'))}, TRTR {_f(ceil.get('trtr_auc'))})",
            "",
            "| model | fit (s) | epochs | s/epoch | accuracy | SDMetrics | detection | TSTR | "
            "max KL | cols KL >= 0.12 | DCR share |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key, r in d["models"].items():
            lines.append(
                f"| {LABELS.get(key, key)} | {r['fit_s']:.1f} | {r.get('epochs') or '-'} | "
                f"{_f(r.get('s_per_epoch'), '.2f')} | {_f(r['accuracy'])} | "
                f"{_f(r.get('sdmetrics'))} | {_f(r['detection_auc'])} | {_f(r['tstr_auc'])} | "
                f"{_f(r['kl_max'])} | {r['kl_over_bar']} | {_f(r['dcr_share'])} |"
            )
        for key, err in d["errors"].items():
            lines.append(f"| {LABELS.get(key, key)} | failed: {err} |" + " |" * 9)
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=bc.DEFAULT_DATA_DIR)
    ap.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=["adult"])
    ap.add_argument("--models", nargs="+", choices=sorted(LABELS), default=["ar", "copula"])
    ap.add_argument("--gan-epochs", type=int, default=100)
    ap.add_argument("--vae-epochs", type=int, default=300)
    ap.add_argument("--ar-time", type=float, default=None, help="AR max_training_time (s)")
    ap.add_argument(
        "--mostly-time", type=float, default=None, help="MOSTLY max_training_time (minutes)"
    )
    ap.add_argument("--max-rows", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="5,000 rows, 2 GAN/VAE epochs")
    ap.add_argument("--out-dir", type=Path, default=bc.DEFAULT_OUT_DIR)
    ap.add_argument("--name", default="", help="suffix of the result files (several runs a day)")
    args = ap.parse_args(argv)
    args.tag = ("_quick" if args.quick else "") + (f"_{args.name}" if args.name else "")
    if args.quick:
        args.max_rows = args.max_rows or 5_000
        args.gan_epochs, args.vae_epochs = 2, 2
    missing = [d for d in args.datasets if not (args.data_dir / d).is_dir()]
    if missing:
        print(f"data not found for {missing} under {args.data_dir}", file=sys.stderr)
        return 2
    import torch

    res = {
        "date": _dt.date.today().isoformat(),
        "how": (
            f"Same 80/20 split as BENCHMARKS.md (stratified, random_state=0), each model fitted "
            f"on the same train frame and sampled len(train) rows, scored by "
            f"synthcust.evaluation.evaluate against real data (accuracy on a holdout-sized cut, "
            f"ceiling = real holdout vs train; detection = 5-fold C2ST; TSTR on the real holdout; "
            f"DCR share vs holdout) and SDMetrics QualityReport overall. Machine: "
            f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads; one run, timed with perf_counter; the machine "
            f"is shared, so compare ratios within this run."
        ),
        "args": {k: str(v) for k, v in vars(args).items()},
        "datasets": {n: run_dataset(n, args) for n in args.datasets},
    }
    md = render(res)
    print("\n" + md)
    stem = args.out_dir / f"deep_{res['date']}{args.tag}"
    stem.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    stem.with_suffix(".md").write_text(md)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
