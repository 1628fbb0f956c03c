#!/usr/bin/env python
"""Cross-check synthcust's evaluation figures against peers and independent implementations.

For Adult and Bank (``shared/BENCHMARKS.md`` splits), synthetic data from our Gaussian copula
and from SDV's ``GaussianCopulaSynthesizer`` (``len(train)`` rows each) is scored three ways:

* **synthcust** (``synthcust.evaluation.evaluate``: the figures a user's report shows), timed;
* **SDMetrics' QualityReport** (``sdmetrics``, the figure SDV users know): Column Shapes and
  Column Pair Trends, overall and per column / pair, against ours (``shapes`` / ``pairs``);
* **a second, independent implementation** written here from the text of BENCHMARKS.md, sharing
  no code with ``synthcust.evaluation``: per-column KL (``numpy.quantile`` + ``scipy.stats``),
  TSTR and detection AUC (``bench_copula.utility_auc`` / ``detection_auc``: HistGradientBoosting
  on pandas categoricals), accuracy (``bench_copula.accuracy_tvd``), DCR share and exact copies
  (``sklearn.neighbors.NearestNeighbors`` on z-scored numbers + one-hot categories; a
  ``pandas.merge`` on all columns).

The HTML reports of both libraries go to ``bench/results/eval_<dataset>_<lib>.html``: the
report for SDV's copula against ours on the same split.

``--scale`` also times ``evaluate`` on a 100,000 x 30 mixed table (per section), the size the
evaluation issue asks to take seconds, not minutes.

Usage::

    python bench/bench_evaluation.py                     # Adult + Bank, ours and SDV
    python bench/bench_evaluation.py --quick --no-sdv    # smoke test (5,000 rows)

Results: ``bench/results/evaluation_<date>.json`` and ``.md`` (``--out-dir`` to change).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust.evaluation.evaluate import evaluate
from synthcust.reporting import write_report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _load_bench_copula() -> Any:  # bench/ is not a package
    spec = importlib.util.spec_from_file_location("bench_copula", HERE / "bench_copula.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_copula", mod)
    spec.loader.exec_module(sys.modules["bench_copula"])
    return sys.modules["bench_copula"]


bc = _load_bench_copula()


# --------------------------------------------------------------------------- independent figures
def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def kl_independent(real: pd.DataFrame, synth: pd.DataFrame, bins: int = 20) -> dict[str, float]:
    """KL(real || synthetic) per column, straight from the BENCHMARKS.md text."""
    from scipy.stats import entropy

    out = {}
    for c in real.columns:
        r, s = real[c], synth[c]
        if _numeric(r):
            rv = pd.to_numeric(r, errors="coerce").to_numpy(float)
            sv = pd.to_numeric(s, errors="coerce").to_numpy(float)
            edges = np.unique(np.nanquantile(rv, np.linspace(0, 1, bins + 1)))
            inner = edges[1:-1]  # values beyond the real range join the outer bins

            # bins half-open [a, b) as synthcust documents them; missing is a bin of its own
            # when either side has any
            any_miss = bool(np.isnan(rv).any() or np.isnan(sv).any())

            def hist(v: np.ndarray, inner: np.ndarray = inner, m: bool = any_miss) -> np.ndarray:
                ok = ~np.isnan(v)
                codes = np.searchsorted(inner, v[ok], side="right")
                h = np.bincount(codes, minlength=len(inner) + 1).astype(float)
                return np.append(h, (~ok).sum()) if m else h

            p, q = hist(rv), hist(sv)
        else:
            rc = r.astype(object).where(r.notna(), "<NA>").astype(str).value_counts()
            sc = s.astype(object).where(s.notna(), "<NA>").astype(str).value_counts()
            cats = rc.index.union(sc.index)
            p = rc.reindex(cats, fill_value=0).to_numpy(float)
            q = sc.reindex(cats, fill_value=0).to_numpy(float)
        p = p / p.sum() + 1e-6
        q = q / q.sum() + 1e-6
        out[str(c)] = float(entropy(p / p.sum(), q / q.sum()))
    return out


def accuracy_independent(real: pd.DataFrame, other: pd.DataFrame) -> float:
    """1 - TVD accuracy from the BENCHMARKS.md text, bins ``[a, b)`` as synthcust documents."""
    qs = np.linspace(0, 1, 11)[1:-1]
    codes_r, codes_o, ks = [], [], []
    for c in real.columns:
        if _numeric(real[c]):
            rv = pd.to_numeric(real[c], errors="coerce").to_numpy(float)
            ov = pd.to_numeric(other[c], errors="coerce").to_numpy(float)
            edges = np.unique(np.nanquantile(rv, qs))
            k = len(edges) + 2  # last = missing
            cr = np.where(np.isnan(rv), k - 1, np.searchsorted(edges, rv, side="right"))
            co = np.where(np.isnan(ov), k - 1, np.searchsorted(edges, ov, side="right"))
        else:
            rs = real[c].astype(object).where(real[c].notna(), "<NA>").astype(str)
            os_ = other[c].astype(object).where(other[c].notna(), "<NA>").astype(str)
            top = pd.Index(rs.value_counts().index[:10])
            k = len(top) + 1
            cr = np.where(top.get_indexer(rs) < 0, k - 1, top.get_indexer(rs))
            co = np.where(top.get_indexer(os_) < 0, k - 1, top.get_indexer(os_))
        codes_r.append(cr.astype(np.int64))
        codes_o.append(co.astype(np.int64))
        ks.append(k)

    def one_minus_tvd(a: np.ndarray, b: np.ndarray, k: int) -> float:
        pa = np.bincount(a, minlength=k) / len(a)
        pb = np.bincount(b, minlength=k) / len(b)
        return 1 - 0.5 * float(np.abs(pa - pb).sum())

    m = len(ks)
    uni = [one_minus_tvd(codes_r[i], codes_o[i], ks[i]) for i in range(m)]
    biv = [
        one_minus_tvd(codes_r[i] * ks[j] + codes_r[j], codes_o[i] * ks[j] + codes_o[j],
                      ks[i] * ks[j])
        for i in range(m)
        for j in range(i + 1, m)
    ]  # fmt: skip
    return (float(np.mean(uni)) + float(np.mean(biv))) / 2 if biv else float(np.mean(uni))


def _zscore_onehot(ref: pd.DataFrame, frames: list[pd.DataFrame]) -> list[np.ndarray]:
    """Numbers z-scored on ref (median-imputed, missing flag); categories one-hot / sqrt 2."""
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for c in ref.columns:
        if _numeric(ref[c]):
            rv = pd.to_numeric(ref[c], errors="coerce").to_numpy(float)
            mu, sd = np.nanmean(rv), np.nanstd(rv) or 1.0
            med = np.nanmedian(rv)
            for b, f in zip(blocks, frames, strict=True):
                v = pd.to_numeric(f[c], errors="coerce").to_numpy(float)
                miss = np.isnan(v)
                b.append(((np.where(miss, med, v) - mu) / sd)[:, None])
                if np.isnan(rv).any():
                    b.append(miss[:, None].astype(float))
        else:
            cats = pd.Index(ref[c].astype(str).unique())
            for b, f in zip(blocks, frames, strict=True):
                idx = cats.get_indexer(f[c].astype(str))
                oh = np.zeros((len(f), len(cats) + 1))
                oh[np.arange(len(f)), np.where(idx < 0, len(cats), idx)] = 1 / np.sqrt(2)
                b.append(oh)
    return [np.hstack(b) for b in blocks]


def dcr_independent(
    train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame, n: int = 5_000
) -> dict[str, float]:
    """DCR share (train cut to the holdout's size) and exact-copy rate, with scikit-learn."""
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(1)
    tr = train.iloc[rng.choice(len(train), min(len(train), len(holdout)), replace=False)]
    sy = synth.iloc[rng.choice(len(synth), min(n, len(synth)), replace=False)]
    e_tr, e_ho, e_sy = _zscore_onehot(train, [tr, holdout, sy])
    d_t = NearestNeighbors(n_neighbors=1).fit(e_tr).kneighbors(e_sy)[0][:, 0]
    d_h = NearestNeighbors(n_neighbors=1).fit(e_ho).kneighbors(e_sy)[0][:, 0]
    share = float(np.mean(d_t < d_h) + 0.5 * np.mean(np.isclose(d_t, d_h)))
    keys = [str(c) for c in train.columns]
    t_str = train.astype(str).drop_duplicates().set_axis(keys, axis=1)
    s_str = synth.astype(str).set_axis(keys, axis=1)
    copies = len(s_str.merge(t_str, on=keys, how="inner")) / len(synth)
    return {"dcr_share": share, "exact_copy_rate": float(copies), "queries": len(sy)}


def sdmetrics_details(real: pd.DataFrame, other: pd.DataFrame, metadata: dict) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        rep = QualityReport()
        rep.generate(real, other, metadata, verbose=False)
        props = rep.get_properties().set_index("Property")["Score"]
        shapes = rep.get_details("Column Shapes")
        pairs = rep.get_details("Column Pair Trends")
    return {
        "column_shapes": float(props["Column Shapes"]),
        "column_pair_trends": float(props["Column Pair Trends"]),
        "shape_per_column": dict(zip(shapes["Column"], shapes["Score"].astype(float), strict=True)),
        "pair_scores": {
            f"{a}|{b}": (float(s), m)
            for a, b, s, m in zip(
                pairs["Column 1"], pairs["Column 2"], pairs["Score"], pairs["Metric"], strict=True
            )
        },
    }


# --------------------------------------------------------------------------- one dataset
def _ours_figures(rep: Any) -> dict[str, Any]:
    def m(sec: str, key: str) -> float | None:
        s = rep.sections.get(sec)
        if s is None:
            return None
        try:
            return s.metric(key).value
        except KeyError:
            return None

    fid = rep.sections["fidelity"]
    pairs = fid.tables["pairs"]
    return {
        "accuracy": m("fidelity", "accuracy"),
        "shapes": m("fidelity", "shapes"),
        "pairs": m("fidelity", "pairs"),
        "pairs_associated": m("fidelity", "pairs_associated"),
        "kl": {str(k): float(v) for k, v in fid.tables["columns"]["kl"].items()},
        "shape_per_column": {str(k): float(v) for k, v in fid.tables["columns"]["shape"].items()},
        "pair_scores": {
            f"{a}|{b}": float(s)
            for a, b, s in zip(pairs["col_a"], pairs["col_b"], pairs["score"], strict=True)
        },
        "detection_auc": m("detection", "detection_auc"),
        "tstr_auc": m("utility", "tstr_auc"),
        "dcr_share": m("privacy", "dcr_share"),
        "exact_copy_rate": m("privacy", "exact_copy_rate"),
        "mia_auc": m("privacy", "mia_auc"),
    }


def _pair_diffs(ours: dict[str, float], theirs: dict[str, tuple[float, str]]) -> dict[str, Any]:
    rows = []
    for key, (score, metric) in theirs.items():
        a, b = key.split("|")
        o = ours.get(key, ours.get(f"{b}|{a}"))
        if o is not None and np.isfinite(score):
            rows.append((key, metric, o, score, abs(o - score)))
    df = pd.DataFrame(rows, columns=["pair", "metric", "ours", "sdmetrics", "diff"])
    by_metric = df.groupby("metric")["diff"].agg(["mean", "max", "count"]).round(4)
    worst = df.sort_values("diff", ascending=False).head(5)
    return {
        "by_metric": by_metric.reset_index().to_dict("records"),
        "worst": worst.round(4).to_dict("records"),
    }


def bench_dataset(name: str, libs: list[str], args: argparse.Namespace) -> dict[str, Any]:
    ds = bc.DATASETS[name]
    df = bc.load_dataset(name, args.data_dir)
    train, holdout = bc.split(df, ds.target, args.max_rows)
    train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
    print(f"\n== {name}: train {len(train):,}, holdout {len(holdout):,}", flush=True)
    metadata, sdm_note = bc.sdmetrics_setup(train) if not args.no_sdmetrics else (None, "off")
    out: dict[str, Any] = {"rows": [len(train), len(holdout)], "libs": {}, "sdmetrics": sdm_note}
    for key in libs:
        lib = bc.make_lib(key)
        t0 = time.perf_counter()
        synth = lib.sample(lib.fit(train, name), len(train), 0).reset_index(drop=True)
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep = evaluate(train, synth, holdout, target=ds.target, random_state=0)
        eval_s = time.perf_counter() - t0
        args.out_dir.mkdir(parents=True, exist_ok=True)
        html, _ = write_report(rep, args.out_dir / f"eval_{name}_{key}{args.tag}.html")
        ours = _ours_figures(rep)
        ind = {
            "kl": kl_independent(train, synth),
            "accuracy": accuracy_independent(
                train, synth.sample(n=min(len(holdout), len(synth)), random_state=0)
            ),
            "accuracy_right_closed": bc.accuracy_tvd(
                train, synth.sample(n=min(len(holdout), len(synth)), random_state=0)
            )["accuracy"],
            "tstr_auc": bc.utility_auc(synth, holdout, ds.target, ds.positive, train)["auc"],
            "detection_auc": bc.detection_auc(holdout, synth, train)["auc"],
            **dcr_independent(train, synth, holdout),
        }
        kl_diff = max(abs(ours["kl"][c] - ind["kl"][c]) for c in ours["kl"])
        res: dict[str, Any] = {
            "generate_s": gen_s,
            "evaluate_s": eval_s,
            "report": str(html),
            "ours": ours,
            "independent": ind,
            "kl_max_abs_diff": kl_diff,
        }
        if metadata is not None:
            sdm = sdmetrics_details(train, synth, metadata)
            shape_diff = {
                c: abs(ours["shape_per_column"][c] - v)
                for c, v in sdm["shape_per_column"].items()
                if c in ours["shape_per_column"]
            }
            res["sdmetrics"] = {
                "column_shapes": sdm["column_shapes"],
                "column_pair_trends": sdm["column_pair_trends"],
                "shape_max_abs_diff": max(shape_diff.values()),
                "shape_worst_column": max(shape_diff, key=shape_diff.get),
                "pairs": _pair_diffs(ours["pair_scores"], sdm["pair_scores"]),
            }
        out["libs"][key] = res
        print(
            f"  {key}: generated in {gen_s:.1f}s, evaluated in {eval_s:.1f}s -> {html}", flush=True
        )
    return out


# --------------------------------------------------------------------------- scale
def bench_scale(rows: int, cols: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)

    def make(n: int) -> pd.DataFrame:
        z = rng.normal(size=n)
        d: dict[str, Any] = {}
        n_num = (2 * (cols - 1)) // 3
        for i in range(n_num):
            d[f"x{i}"] = 0.5 * z + rng.normal(size=n)
        for i in range(cols - 1 - n_num):
            d[f"c{i}"] = rng.choice(list("abcdefgh"), n)
        d["y"] = np.where(z + rng.normal(size=n) > 1, "yes", "no")
        return pd.DataFrame(d)

    train, synth, hold = make(rows), make(rows), make(rows // 4)
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    evaluate(
        train, synth, hold, target="y", progress=lambda s: marks.append((s, time.perf_counter()))
    )
    end = time.perf_counter()
    sections = {
        s: (marks[i + 1][1] if i + 1 < len(marks) else end) - t for i, (s, t) in enumerate(marks)
    }
    return {"rows": rows, "columns": cols, "total_s": end - t0, "sections_s": sections}


# --------------------------------------------------------------------------- output
def _f(v: Any, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def render(res: dict[str, Any]) -> str:
    lines = [f"# Evaluation cross-check ({res['date']})", "", res["how"], ""]
    for name, d in res["datasets"].items():
        lines += [f"## {name} (train {d['rows'][0]:,}, holdout {d['rows'][1]:,})", ""]
        libs = list(d["libs"])
        head = "| figure | " + " | ".join(f"{k}: synthcust | {k}: second impl." for k in libs)
        lines += [head + " |", "|---" * (1 + 2 * len(libs)) + "|"]
        figs = [
            ("accuracy (1 - TVD)", "accuracy", "accuracy"),
            ("accuracy, right-closed bins (bench_copula)", "accuracy", "accuracy_right_closed"),
            ("max per-column KL", "kl_max", "kl_max"),
            ("detection AUC", "detection_auc", "detection_auc"),
            ("TSTR ROC AUC", "tstr_auc", "tstr_auc"),
            ("DCR share", "dcr_share", "dcr_share"),
            ("exact-copy rate", "exact_copy_rate", "exact_copy_rate"),
        ]
        for label, ok, ik in figs:
            cells = []
            for k in libs:
                r = d["libs"][k]
                o = max(r["ours"]["kl"].values()) if ok == "kl_max" else r["ours"][ok]
                i = max(r["independent"]["kl"].values()) if ik == "kl_max" else r["independent"][ik]
                cells += [_f(o), _f(i)]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(
            "Largest per-column KL difference (synthcust vs second implementation): "
            + ", ".join(f"{k} {d['libs'][k]['kl_max_abs_diff']:.2e}" for k in libs)
            + "."
        )
        lines.append("")
        if any("sdmetrics" in d["libs"][k] for k in libs):
            lines += [
                "| SDMetrics vs synthcust | " + " | ".join(f"{k}: synthcust | {k}: SDMetrics"
                                                         for k in libs) + " |",
                "|---" * (1 + 2 * len(libs)) + "|",
            ]  # fmt: skip
            for label, ok, sk in (
                ("Column Shapes", "shapes", "column_shapes"),
                ("Column Pair Trends (ours: related pairs)", "pairs_associated",
                 "column_pair_trends"),
                ("(ours: all pairs)", "pairs", None),
            ):  # fmt: skip
                cells = []
                for k in libs:
                    r = d["libs"][k]
                    theirs = r.get("sdmetrics", {}).get(sk) if sk else None
                    cells += [_f(r["ours"][ok]), _f(theirs)]
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
            lines.append("")
            for k in libs:
                s = d["libs"][k].get("sdmetrics")
                if not s:
                    continue
                lines.append(
                    f"- {k}: per-column shape differs by at most {s['shape_max_abs_diff']:.4f} "
                    f"({s['shape_worst_column']}); pair scores by metric (mean / max abs diff, "
                    "pairs): "
                    + "; ".join(
                        f"{m['metric']} {m['mean']:.4f} / {m['max']:.4f} ({m['count']})"
                        for m in s["pairs"]["by_metric"]
                    )
                )
            lines.append("")
        else:
            lines += [f"SDMetrics not run: {d['sdmetrics']}", ""]
        for k in libs:
            r = d["libs"][k]
            lines.append(f"- {k}: evaluate() took {r['evaluate_s']:.1f} s; report: `{r['report']}`")
        lines.append("")
    if res.get("scale"):
        s = res["scale"]
        secs = ", ".join(f"{k} {v:.1f} s" for k, v in s["sections_s"].items())
        lines += [
            f"## Scale: evaluate() on {s['rows']:,} x {s['columns']}"
            f" (+ holdout {s['rows'] // 4:,})",
            "",
            f"Total {s['total_s']:.1f} s ({secs}).",
            "",
        ]
    return "\n".join(lines)


HOW = (
    "Same 80/20 split as BENCHMARKS.md (stratified on the target, random_state=0); each "
    "library's synthetic sample has len(train) rows. 'synthcust' = "
    "synthcust.evaluation.evaluate (what the report shows); 'second impl.' = code in bench/ "
    "written from BENCHMARKS.md and sharing none of synthcust.evaluation's code (KL: numpy "
    "quantile bins + scipy entropy; TSTR and detection: bench_copula's helpers; accuracy "
    "rewritten here with bins [a, b) as synthcust documents them, and bench_copula's right-"
    "closed bins shown too: on data with spikes the bin convention alone moves the figure; DCR:"
    " scikit-learn NearestNeighbors on z-scores + one-hot, 5,000 synthetic queries; copies: "
    "pandas merge). Known, intended differences: our DCR uses robust (IQR) scales and hash-"
    "ordered subsamples; detection and TSTR differ in fold and subsample draws; SDMetrics bins "
    "numeric columns of mixed pairs into 10 equal-width bins where we use 10 real-quantile "
    "bins, and SDMetrics >= 0.32 averages Column Pair Trends over related pairs only (real |r| "
    "> 0.5 or Cramer's V > 0.3): compare it with our 'related pairs' figure."
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=bc.DEFAULT_DATA_DIR)
    ap.add_argument("--datasets", nargs="+", choices=sorted(bc.DATASETS), default=["adult", "bank"])
    ap.add_argument("--max-rows", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="5,000 rows, smaller scale test")
    ap.add_argument("--no-sdv", action="store_true", help="score our copula only")
    ap.add_argument("--no-sdmetrics", action="store_true")
    ap.add_argument("--scale", action="store_true", help="also time evaluate() on 100k x 30")
    ap.add_argument("--out-dir", type=Path, default=bc.DEFAULT_OUT_DIR)
    args = ap.parse_args(argv)
    args.tag = "_quick" if args.quick else ""
    if args.quick and args.max_rows is None:
        args.max_rows = 5_000
    bc.check_data_dir(args.data_dir, args.datasets)
    libs = ["ours"]
    if not args.no_sdv:
        ok, why = bc.sdv_importable()
        if ok:
            libs.append("sdv")
        else:
            print(f"SDV not run: {why}", flush=True)
    res: dict[str, Any] = {
        "date": _dt.date.today().isoformat(),
        "how": HOW,
        "datasets": {n: bench_dataset(n, libs, args) for n in args.datasets},
    }
    if args.scale:
        res["scale"] = bench_scale(20_000 if args.quick else 100_000, 30)
    md = render(res)
    print("\n" + md)
    stem = args.out_dir / f"evaluation_{res['date']}{args.tag}"
    stem.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    stem.with_suffix(".md").write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
