#!/usr/bin/env python
"""Benchmark synthcust's Gaussian copula against SDV's GaussianCopulaSynthesizer.

What it measures (definitions in ``shared/BENCHMARKS.md``), for Adult and Bank:

* **speed**, in one process and on the same split for both libraries: fit time on train
  (SDV: metadata detection + synthesizer fit; ours: schema inference + fit) and the time to
  sample ``len(train)`` rows; each repeated ``--repeats`` times (the order of the two
  libraries alternates between repeats), median reported, and the ratio SDV / ours;
* **memory**, in a fresh subprocess per library and repeat (this script's hidden
  ``--memory-probe LIB DATASET`` mode): RSS after fit, and peak RSS (``ru_maxrss``) after
  sampling ``--big-n`` rows; the sampling increment is the peak minus the RSS after fit;
* **fidelity**: per-column KL(real train || synthetic sample of len(train)), 20 bins at the
  real train quantiles (``synthcust.evaluation.fidelity.kl_per_column``), median over the
  repeats, side by side with KL(train || real holdout) as the sampling-noise floor; plus the
  share of rows on the spikes SDV is known to miss (Adult ``capital_gain == 0``, Bank
  ``pdays == -1`` and ``campaign == 1``);
* **quality**, not timed, on each library's synthetic sample of ``len(train)`` rows from the
  first repeat (per-column KL is saturated for a marginal-exact model, these are where models
  differ): SDMetrics QualityReport (overall, Column Shapes, Column Pair Trends), detection AUC
  (C2ST, 5-fold HistGradientBoosting, real holdout vs as many synthetic rows), TSTR ROC AUC on
  the real holdout (TRTR as the ceiling), accuracy (1 - TVD, univariate and bivariate; real
  holdout vs train as the ceiling), and on Bank the near-deterministic relations between
  ``pdays``, ``previous`` and ``poutcome`` (and ``P(y == yes | poutcome == success)``).
  SDMetrics is skipped with a note where ``sdmetrics`` / SDV metadata detection is missing;
  ``--no-quality`` skips the section.

Both libraries get the very same ``train`` DataFrame (checked by hashing it before and after).
Absolute times on shared machines are noise; the ratios measured in one run are the figures.

Usage::

    python bench/bench_copula.py                       # full run: 3 repeats, 1,000,000 rows
    python bench/bench_copula.py --quick --no-sdv      # smoke test, ours only (seconds)

Results go to ``bench/results/copula_<date>.json`` and ``.md`` (``--out-dir`` to change).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from importlib import metadata as _im
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE.parents[1] / "shared" / "data"  # /work/main/bench -> /work/shared/data
DEFAULT_OUT_DIR = HERE / "results"
KL_BAR = 0.12
PROBE_MARK = "MEMPROBE_JSON "
LIB_LABEL = {"ours": "synthcust", "sdv": "SDV"}


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Dataset:
    name: str
    target: str
    positive: Any  # the target's positive class (TSTR / TRTR)
    spikes: tuple[tuple[str, Any], ...]  # (column, value): share of rows equal to value
    expected_rows: int


DATASETS = {
    "adult": Dataset("adult", "income", ">50K", (("capital_gain", 0), ("capital_loss", 0)), 48_842),
    "bank": Dataset("bank", "y", "yes", (("pdays", -1), ("campaign", 1), ("previous", 0)), 45_211),
}


def _sniff_sep(path: Path) -> str:
    """The delimiter of a (gzipped) CSV, from its header line: ',' or ';' (UCI original)."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        header = fh.readline()
    return ";" if header.count(";") > header.count(",") else ","


def load_dataset(name: str, data_dir: Path) -> pd.DataFrame:
    """Load as BENCHMARKS.md says. Adult's ``?`` stays the raw string ``"?"`` (a category)."""
    if name == "adult":
        d = data_dir / "adult"
        parts = [d / "adult_train.csv.gz", d / "adult_test.csv.gz"]
        frames = [pd.read_csv(p, sep=_sniff_sep(p)) for p in parts]
        df = pd.concat(frames, ignore_index=True)
    elif name == "bank":
        p = data_dir / "bank" / "bank_full.csv.gz"
        df = pd.read_csv(p, sep=_sniff_sep(p))
    else:  # pragma: no cover - argparse restricts the choices
        raise ValueError(name)
    ds = DATASETS[name]
    if ds.target not in df.columns:
        raise SystemExit(
            f"{name}: target column {ds.target!r} not found; columns: {list(df.columns)}"
        )
    if len(df) != ds.expected_rows:
        print(
            f"warning: {name} has {len(df):,} rows, expected {ds.expected_rows:,}", file=sys.stderr
        )
    return df


def split(df: pd.DataFrame, target: str, max_rows: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Optional stratified subsample (quick mode), then the 80/20 stratified split, seed 0."""
    from sklearn.model_selection import train_test_split

    if max_rows is not None and max_rows < len(df):
        df, _ = train_test_split(df, train_size=max_rows, stratify=df[target], random_state=0)
    train, holdout = train_test_split(df, test_size=0.2, stratify=df[target], random_state=0)
    return train, holdout


def check_data_dir(data_dir: Path, names: list[str]) -> None:
    needed = {
        "adult": ["adult/adult_train.csv.gz", "adult/adult_test.csv.gz"],
        "bank": ["bank/bank_full.csv.gz"],
    }
    missing = [str(data_dir / f) for n in names for f in needed[n] if not (data_dir / f).is_file()]
    if missing:
        raise SystemExit(
            "error: benchmark data not found:\n  " + "\n  ".join(missing) + "\n"
            f"Point --data-dir at the folder holding adult/ and bank/ (default {DEFAULT_DATA_DIR})."
        )


# --------------------------------------------------------------------------- libraries
class Ours:
    key = "ours"

    def __init__(self) -> None:  # import here so that no import lands inside a timed region
        from synthcust.synthesizers import GaussianCopulaSynthesizer

        self.cls = GaussianCopulaSynthesizer

    def fit(self, train: pd.DataFrame, table: str) -> Any:
        return self.cls(random_state=0).fit(train)

    def sample(self, model: Any, n: int, seed: int) -> pd.DataFrame:
        return model.sample(n, random_state=seed)


class SDV:
    """SDV's GaussianCopulaSynthesizer with default settings (as PEERS.md measured it).

    SDV 2.x takes and returns ``{table_name: DataFrame}`` and has no public
    ``Metadata.detect_from_dataframe``; this adapter handles both 1.x and 2.x.
    """

    key = "sdv"

    def __init__(self) -> None:  # import here so that no import lands inside a timed region
        import sdv
        from sdv.metadata import Metadata
        from sdv.single_table import GaussianCopulaSynthesizer

        self.major = int(sdv.__version__.split(".")[0])
        self.detect_s: list[float] = []
        self.Metadata, self.cls = Metadata, GaussianCopulaSynthesizer

    def fit(self, train: pd.DataFrame, table: str) -> Any:
        Metadata, GaussianCopulaSynthesizer = self.Metadata, self.cls
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            if hasattr(Metadata, "detect_from_dataframe"):
                md = Metadata.detect_from_dataframe(train, table_name=table)
            else:
                md = Metadata.detect_from_dataframes({table: train})
            self.detect_s.append(time.perf_counter() - t0)
            model = GaussianCopulaSynthesizer(md)
            model.fit({table: train} if self.major >= 2 else train)
        model._bench_table = table
        return model

    def sample(self, model: Any, n: int, seed: int) -> pd.DataFrame:
        # SDV's sample() takes no seed: it seeds itself on the first sample after fit.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model.sample(n)
        return out[model._bench_table] if isinstance(out, dict) else out


def sdv_importable() -> tuple[bool, str]:
    try:
        import sdv  # noqa: F401
        from sdv.single_table import GaussianCopulaSynthesizer  # noqa: F401
    except Exception as e:  # ImportError or a broken install
        return False, f"{type(e).__name__}: {e}"
    return True, ""


def make_lib(key: str) -> Ours | SDV:
    return Ours() if key == "ours" else SDV()


# --------------------------------------------------------------------------- memory probe
def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _current_rss_mb() -> float:
    v = _proc_status_mb("VmRSS")
    return float("nan") if v is None else v


def _ru_maxrss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 / 1024 if sys.platform == "darwin" else r / 1024  # macOS: bytes


def _peak_rss_mb() -> float:
    """Peak RSS of this process image.

    Linux keeps ``ru_maxrss`` across ``execve``: a child started from a big parent (this
    harness holds SDV, torch and the data) inherits the parent's high-water mark, so
    ``getrusage`` would report the parent's size. ``VmHWM`` belongs to the new address space
    only; use it where there is a /proc, ``ru_maxrss`` elsewhere.
    """
    v = _proc_status_mb("VmHWM")
    return _ru_maxrss_mb() if v is None else v


def memory_probe(
    lib_key: str,
    dataset: str,
    data_dir: Path,
    max_rows: int | None,
    big_n: int,
    blas_threads: int | None = None,
) -> None:
    """Child-process mode: import, load, fit, sample big_n rows; print RSS figures as JSON."""
    rss_start = _current_rss_mb()
    lib = make_lib(lib_key)  # imports the library
    import sklearn.model_selection  # noqa: F401  (load every BLAS user before limiting)

    apply_blas_threads(blas_threads)
    ds = DATASETS[dataset]
    train, _ = split(load_dataset(dataset, data_dir), ds.target, max_rows)
    gc.collect()
    rss_loaded = _current_rss_mb()
    t0 = time.perf_counter()
    model = lib.fit(train, dataset)
    fit_s = time.perf_counter() - t0
    gc.collect()
    rss_after_fit = _current_rss_mb()
    peak_until_fit = _peak_rss_mb()
    t0 = time.perf_counter()
    out = lib.sample(model, big_n, seed=12345)
    sample_s = time.perf_counter() - t0
    peak = _peak_rss_mb()
    ru_maxrss = _ru_maxrss_mb()
    rss_after_sample = _current_rss_mb()
    assert len(out) == big_n, (len(out), big_n)
    res = {
        "lib": lib_key,
        "dataset": dataset,
        "n_train": len(train),
        "big_n": big_n,
        "rss_start_mb": rss_start,
        "rss_after_import_and_load_mb": rss_loaded,
        "rss_after_fit_mb": rss_after_fit,
        "peak_until_fit_mb": peak_until_fit,
        "peak_mb": peak,
        "ru_maxrss_mb": ru_maxrss,
        "rss_after_sample_mb": rss_after_sample,
        "sampling_increment_mb": peak - rss_after_fit,
        "fit_s": fit_s,
        "big_sample_s": sample_s,
        "output_mb": float(out.memory_usage(deep=True).sum()) / 2**20,
    }
    print(PROBE_MARK + json.dumps(res), flush=True)


def run_probe(lib_key: str, dataset: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable, str(Path(__file__).resolve()),
        "--memory-probe", lib_key, dataset,
        "--data-dir", str(args.data_dir),
        "--big-n", str(args.big_n),
    ]  # fmt: skip
    if args.max_rows is not None:
        cmd += ["--max-rows", str(args.max_rows)]
    if args.blas_threads is not None:
        cmd += ["--blas-threads", str(args.blas_threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith(PROBE_MARK):
            return json.loads(line[len(PROBE_MARK) :])
    tail = (proc.stderr or proc.stdout)[-3000:]
    return {"lib": lib_key, "dataset": dataset, "error": f"exit {proc.returncode}: {tail}"}


# --------------------------------------------------------------------------- checks
def output_checks(real: pd.DataFrame, synth: pd.DataFrame) -> dict[str, Any]:
    """Cheap, vectorised sanity checks of a synthetic frame against the real train frame."""
    checks: dict[str, Any] = {
        "rows": len(synth),
        "same_columns_in_order": list(real.columns) == list(synth.columns),
        "missing_columns": [c for c in real.columns if c not in synth.columns],
        "extra_columns": [c for c in synth.columns if c not in real.columns],
        "dtype_mismatches": {},
        "nan_where_real_has_none": {},
        "unseen_categories": {},
        "out_of_real_range_share": {},
        "non_integer_share": {},
    }
    for c in real.columns:
        if c not in synth.columns:
            continue
        r, s = real[c], synth[c]
        if str(r.dtype) != str(s.dtype):
            checks["dtype_mismatches"][c] = f"{r.dtype} -> {s.dtype}"
        n_nan = int(s.isna().sum())
        if n_nan and not r.isna().any():
            checks["nan_where_real_has_none"][c] = n_nan
        if pd.api.types.is_numeric_dtype(r.dtype) and pd.api.types.is_numeric_dtype(s.dtype):
            sv = s.to_numpy(dtype=float, na_value=np.nan)
            out = np.mean((sv < r.min()) | (sv > r.max()))
            if out > 0:
                checks["out_of_real_range_share"][c] = float(out)
            if pd.api.types.is_integer_dtype(r.dtype):
                frac = np.nanmean(sv != np.round(sv)) if len(sv) else 0.0
                if frac > 0:
                    checks["non_integer_share"][c] = float(frac)
        else:
            seen = pd.unique(r.dropna())
            new = ~s.isin(seen) & s.notna()
            if new.any():
                checks["unseen_categories"][c] = {
                    "rows": int(new.sum()),
                    "values": [str(v) for v in pd.unique(s[new])[:5]],
                }
    return checks


def spike_shares(df: pd.DataFrame, spikes: tuple[tuple[str, Any], ...]) -> dict[str, float]:
    return {f"{c} == {v}": float((df[c] == v).mean()) for c, v in spikes if c in df.columns}


def frame_hash(df: pd.DataFrame) -> int:
    return int(pd.util.hash_pandas_object(df, index=True).to_numpy().sum(dtype=np.uint64))


# --------------------------------------------------------------------------- quality
# Figures where models really differ (per-column KL is saturated for a marginal-exact model).
# Computed once per library on the first repeat's synthetic sample of len(train) rows, outside
# the timed regions. Definitions: shared/BENCHMARKS.md.
ACC_BINS = 10  # accuracy (1 - TVD): quantile bins per numeric column
ACC_TOP = 10  # accuracy (1 - TVD): most frequent categories kept, the rest is "other"
CV_FOLDS = 5  # detection AUC (C2ST)


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _as_str(s: pd.Series) -> pd.Series:
    """Categorical values as strings (missing stays missing): one type on every side."""
    return s.astype(object).map(str, na_action="ignore")


def hgb_frames(
    frames: list[pd.DataFrame], ref: pd.DataFrame, drop: tuple[str, ...] = ()
) -> list[pd.DataFrame]:
    """Feature frames for HistGradientBoosting with ``categorical_features="from_dtype"``.

    Column kinds come from ``ref`` (real train): numeric columns as float, the others as pandas
    ``category`` with the union of the categories seen in all ``frames`` (missing = NaN).
    """
    cols = [c for c in ref.columns if c not in drop]
    outs: list[dict[str, Any]] = [{} for _ in frames]
    for c in cols:
        if _is_numeric(ref[c]):
            for o, f in zip(outs, frames, strict=True):
                o[c] = pd.to_numeric(f[c], errors="coerce").to_numpy(dtype=float)
        else:
            strs = [_as_str(f[c]) for f in frames]
            cats = sorted(set().union(*(set(v.dropna().unique()) for v in strs)))
            for o, v in zip(outs, strs, strict=True):
                o[c] = pd.Categorical(v, categories=cats)
    return [pd.DataFrame(o, columns=cols) for o in outs]


def _hgb() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)


def detection_auc(positive: pd.DataFrame, other: pd.DataFrame, ref: pd.DataFrame) -> dict:
    """C2ST: ``positive`` (real holdout) labelled 1, an equal number of ``other`` rows 0.

    ``other`` is subsampled (without replacement, seed 0) to len(positive) rows when larger.
    5-fold stratified CV (shuffled, seed 0) ROC AUC of HistGradientBoostingClassifier.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    n = len(positive)
    if len(other) > n:
        other = other.sample(n=n, random_state=0)
    xp, xo = hgb_frames([positive, other], ref)
    x = pd.concat([xp, xo], ignore_index=True)
    y = np.r_[np.ones(len(xp), dtype=int), np.zeros(len(xo), dtype=int)]
    cv = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=0)
    scores = cross_val_score(_hgb(), x, y, cv=cv, scoring="roc_auc")
    return {"auc": float(np.mean(scores)), "fold_aucs": [float(v) for v in scores],
            "n_per_side": [len(xp), len(xo)]}  # fmt: skip


def _labels(df: pd.DataFrame, target: str, positive: Any) -> np.ndarray:
    return (df[target].astype(object) == positive).to_numpy(dtype=int)


def utility_auc(
    fit_on: pd.DataFrame, holdout: pd.DataFrame, target: str, positive: Any, ref: pd.DataFrame
) -> dict:
    """TSTR (fit_on = synthetic) / TRTR (fit_on = real train): HistGradientBoosting fitted on
    ``fit_on``, ROC AUC and average precision on the real holdout."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y_fit, y_ho = _labels(fit_on, target, positive), _labels(holdout, target, positive)
    if y_fit.min() == y_fit.max():
        return {"auc": None, "ap": None, "note": "training labels have one class only"}
    x_fit, x_ho = hgb_frames([fit_on, holdout], ref, drop=(target,))
    p = _hgb().fit(x_fit, y_fit).predict_proba(x_ho)[:, 1]
    return {"auc": float(roc_auc_score(y_ho, p)), "ap": float(average_precision_score(y_ho, p)),
            "positive_share_fit": float(y_fit.mean())}  # fmt: skip


def bin_codes(ref: pd.DataFrame, frames: list[pd.DataFrame]) -> tuple[list[np.ndarray], list[int]]:
    """Per-column bin codes (an ``(n_rows, n_columns)`` int array per frame) and bin counts.

    Numeric: ACC_BINS quantile bins of ``ref`` (right-closed, duplicate edges merged; a value
    beyond the real range falls in the outer bin); missing = a bin of its own. Categorical:
    the ACC_TOP most frequent categories of ``ref`` (missing counted as a category), every
    other value (rarer or unseen) = "other".
    """
    codes: list[list[np.ndarray]] = [[] for _ in frames]
    ks: list[int] = []
    qs = np.linspace(0, 1, ACC_BINS + 1)[1:-1]
    for c in ref.columns:
        if _is_numeric(ref[c]):
            rv = pd.to_numeric(ref[c], errors="coerce").to_numpy(dtype=float)
            edges = np.unique(np.nanquantile(rv, qs)) if np.isfinite(rv).any() else np.array([])
            k = len(edges) + 2  # last bin = missing
            for out, f in zip(codes, frames, strict=True):
                v = pd.to_numeric(f[c], errors="coerce").to_numpy(dtype=float)
                code = np.searchsorted(edges, v, side="left")
                code[np.isnan(v)] = k - 1
                out.append(code)
        else:
            na = "\x00<NA>"
            top = pd.Index(_as_str(ref[c]).fillna(na).value_counts().index[:ACC_TOP])
            k = len(top) + 1  # last bin = other
            for out, f in zip(codes, frames, strict=True):
                code = top.get_indexer(_as_str(f[c]).fillna(na))  # -1 = not in the top
                out.append(np.where(code < 0, k - 1, code).astype(np.int64))
        ks.append(k)
    return [np.column_stack(cs).astype(np.int64) for cs in codes], ks


def _one_minus_tvd(a: np.ndarray, b: np.ndarray, k: int) -> float:
    pa = np.bincount(a, minlength=k) / len(a)
    pb = np.bincount(b, minlength=k) / len(b)
    return float(1 - 0.5 * np.abs(pa - pb).sum())


def accuracy_tvd(real: pd.DataFrame, other: pd.DataFrame) -> dict:
    """Accuracy (1 - TVD), MOSTLY AI style: univariate = mean over columns of 1 - TVD;
    bivariate = mean over all column pairs of 1 - TVD of the joint binned distribution;
    accuracy = mean of the two. Bins from ``real`` (see ``bin_codes``)."""
    (cr, co), ks = bin_codes(real, [real, other.reindex(columns=real.columns)])
    m = len(ks)
    uni = [_one_minus_tvd(cr[:, i], co[:, i], ks[i]) for i in range(m)]
    biv = []
    for i in range(m):
        for j in range(i + 1, m):
            kk = ks[i] * ks[j]
            biv.append(_one_minus_tvd(cr[:, i] * ks[j] + cr[:, j], co[:, i] * ks[j] + co[:, j], kk))
    u = float(np.mean(uni))
    b = float(np.mean(biv)) if biv else float("nan")
    return {"accuracy": (u + b) / 2, "univariate": u, "bivariate": b,
            "per_column": dict(zip(real.columns, uni, strict=True))}  # fmt: skip


def bank_relations(df: pd.DataFrame) -> dict[str, float | int | None]:
    """Bank's near-deterministic relations that a Gaussian copula is expected to break."""
    never = df["pdays"] == -1
    succ = df["poutcome"].astype(object) == "success"
    n_succ = int(succ.sum())
    return {
        "(pdays == -1) == (previous == 0)": float((never == (df["previous"] == 0)).mean()),
        '(pdays == -1) == (poutcome == "unknown")': float(
            (never == (df["poutcome"].astype(object) == "unknown")).mean()
        ),
        "P(y == yes | poutcome == success)": (
            float((df.loc[succ, "y"].astype(object) == "yes").mean()) if n_succ else None
        ),
        "rows with poutcome == success": n_succ,
    }


RELATIONS = {"bank": bank_relations}


def sdmetrics_setup(train: pd.DataFrame) -> tuple[dict | None, str]:
    """SDV's metadata detected on train (as a dict for sdmetrics), or None and why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import sdmetrics  # noqa: F401
            from sdmetrics.reports.single_table import QualityReport  # noqa: F401
            from sdv.metadata import Metadata

            md = Metadata.detect_from_dataframes({"t": train}).to_dict()["tables"]["t"]
    except ImportError as e:
        return None, f"sdmetrics/SDV metadata not available ({type(e).__name__}: {e})"
    return md, ""


def sdmetrics_quality(real: pd.DataFrame, other: pd.DataFrame, metadata: dict) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its FutureWarning: single_table report deprecated
        from sdmetrics.reports.single_table import QualityReport

        rep = QualityReport()
        rep.generate(real, other, metadata, verbose=False)
        props = rep.get_properties().set_index("Property")["Score"]
    return {
        "overall": float(rep.get_score()),
        "column_shapes": float(props["Column Shapes"]),
        "column_pair_trends": float(props["Column Pair Trends"]),
    }


def quality_block(
    name: str,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synths: dict[str, pd.DataFrame],
    errors: dict[str, str],
) -> dict[str, Any]:
    """All quality figures of one dataset: the real ceilings once, then each library's."""
    ds = DATASETS[name]
    metadata, sdm_note = sdmetrics_setup(train)
    relations = RELATIONS.get(name)
    out: dict[str, Any] = {"sdmetrics_skipped_reason": sdm_note, "seconds": {}, "libs": {}}

    def measure(key: str, figure: str, fn: Any, *a: Any) -> Any:
        t0 = time.perf_counter()
        try:
            v = fn(*a)
        except Exception as e:  # keep the benchmark going; the error lands in the report
            import traceback

            errors[f"{key} quality: {figure}"] = traceback.format_exc()
            print(f"  quality {figure} FAILED for {key}: {type(e).__name__}: {e}", flush=True)
            v = None
        out["seconds"][f"{key} {figure}"] = time.perf_counter() - t0
        return v

    real: dict[str, Any] = {
        "trtr": measure("real", "trtr", utility_auc, train, holdout, ds.target, ds.positive, train),
        "accuracy": measure("real", "accuracy", accuracy_tvd, train, holdout),
        "detection_vs_train": measure("real", "detection", detection_auc, holdout, train, train),
    }
    if metadata is not None:
        real["sdmetrics"] = measure(
            "real", "sdmetrics", sdmetrics_quality, train, holdout, metadata
        )
    if relations is not None:
        real["relations_train"] = relations(train)
        real["relations_holdout"] = relations(holdout)
    out["real"] = real
    for k, synth in synths.items():
        q: dict[str, Any] = {"n_rows": len(synth)}
        if metadata is not None:
            q["sdmetrics"] = measure(k, "sdmetrics", sdmetrics_quality, train, synth, metadata)
        q["detection"] = measure(k, "detection", detection_auc, holdout, synth, train)
        q["tstr"] = measure(k, "tstr", utility_auc, synth, holdout, ds.target, ds.positive, train)
        q["accuracy"] = measure(k, "accuracy", accuracy_tvd, train, synth)
        q["accuracy_holdout_sized"] = measure(
            k, "accuracy_holdout_sized", accuracy_tvd, train,
            synth.sample(n=min(len(holdout), len(synth)), random_state=0),
        )  # fmt: skip
        if relations is not None:
            q["relations"] = measure(k, "relations", relations, synth)
        out["libs"][k] = q
        secs = sum(v for key, v in out["seconds"].items() if key.startswith(f"{k} "))
        print(f"  quality {LIB_LABEL[k]:>9}: {_quality_line(q)} ({secs:.1f} s)", flush=True)
    return out


def _quality_line(q: dict[str, Any]) -> str:
    def g(*path: str) -> Any:
        v: Any = q
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        return v

    return (
        f"SDMetrics {_f(g('sdmetrics', 'overall'))}, detection {_f(g('detection', 'auc'))}, "
        f"TSTR {_f(g('tstr', 'auc'))}, accuracy {_f(g('accuracy', 'accuracy'))}"
    )


# --------------------------------------------------------------------------- run one dataset
def bench_dataset(name: str, libs: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from synthcust.evaluation.fidelity import kl_per_column

    ds = DATASETS[name]
    df = load_dataset(name, args.data_dir)
    train, holdout = split(df, ds.target, args.max_rows)
    h_before = frame_hash(train)
    print(
        f"\n== {name}: {len(df):,} rows -> train {len(train):,}, holdout {len(holdout):,}",
        flush=True,
    )

    adapters = {k: make_lib(k) for k in libs}
    fit_s: dict[str, list[float]] = {k: [] for k in libs}
    sample_s: dict[str, list[float]] = {k: [] for k in libs}
    kls: dict[str, list[pd.Series]] = {k: [] for k in libs}
    spikes: dict[str, list[dict[str, float]]] = {k: [] for k in libs}
    checks: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    first_synth: dict[str, pd.DataFrame] = {}  # repeat 1's sample, for the quality section
    n = len(train)

    for r in range(args.repeats):
        order = libs if r % 2 == 0 else libs[::-1]
        for k in order:
            if k in errors:
                continue
            lib = adapters[k]
            try:
                gc.collect()
                t0 = time.perf_counter()
                model = lib.fit(train, name)
                t1 = time.perf_counter()
                gc.collect()
                t2 = time.perf_counter()
                synth = lib.sample(model, n, seed=r + 1)
                t3 = time.perf_counter()
            except Exception as e:  # report the library's failure, keep the other going
                import traceback

                errors[k] = traceback.format_exc()
                print(f"  {LIB_LABEL[k]} FAILED on {name}: {type(e).__name__}: {e}", flush=True)
                continue
            fit_s[k].append(t1 - t0)
            sample_s[k].append(t3 - t2)
            try:
                kls[k].append(kl_per_column(train, synth))
            except Exception as e:
                errors[f"{k} KL"] = f"{type(e).__name__}: {e}"
            spikes[k].append(spike_shares(synth, ds.spikes))
            if r == 0:
                checks[k] = output_checks(train, synth)
                first_synth[k] = synth
            print(
                f"  repeat {r + 1}/{args.repeats} {LIB_LABEL[k]:>9}: fit {t1 - t0:7.3f} s, "
                f"sample {n:,} rows {t3 - t2:7.3f} s",
                flush=True,
            )
            del model, synth

    untouched = frame_hash(train) == h_before
    if not untouched:
        errors["harness"] = "the train frame changed during fitting/sampling"

    quality = None
    if args.quality:  # untimed; on repeat 1's samples
        quality = quality_block(name, train, holdout, first_synth, errors)
        if frame_hash(train) != h_before:
            errors["harness"] = "the train frame changed during the quality section"
            untouched = False
    first_synth.clear()

    memory: dict[str, list[dict[str, Any]]] = {k: [] for k in libs}
    if args.big_n > 0:
        for r in range(args.mem_repeats):
            order = libs if r % 2 == 0 else libs[::-1]
            for k in order:
                if k in errors:
                    continue
                res = run_probe(k, name, args)
                memory[k].append(res)
                if "error" in res:
                    print(
                        f"  memory probe {LIB_LABEL[k]} FAILED: {res['error'][-500:]}", flush=True
                    )
                else:
                    print(
                        f"  memory {r + 1}/{args.mem_repeats} {LIB_LABEL[k]:>9}: after fit "
                        f"{res['rss_after_fit_mb']:7.0f} MB, peak sampling {args.big_n:,} rows "
                        f"{res['peak_mb']:7.0f} MB ({res['big_sample_s']:.2f} s)",
                        flush=True,
                    )

    kl_ref = kl_per_column(train, holdout)
    out: dict[str, Any] = {
        "dataset": name,
        "rows": len(df),
        "n_train": len(train),
        "n_holdout": len(holdout),
        "target": ds.target,
        "columns": list(train.columns),
        "train_dtypes": {c: str(t) for c, t in train.dtypes.items()},
        "train_untouched": untouched,
        "errors": errors,
        "real_spikes": {
            "train": spike_shares(train, ds.spikes),
            "holdout": spike_shares(holdout, ds.spikes),
        },
        "kl_train_vs_holdout": {c: float(v) for c, v in kl_ref.items()},
        "quality": quality,
        "libs": {},
    }
    if "sdv" in adapters and adapters["sdv"].detect_s:
        out["sdv_metadata_detect_s"] = adapters["sdv"].detect_s
    for k in libs:
        kl_med = pd.concat(kls[k], axis=1).median(axis=1) if kls[k] else pd.Series(dtype=float)
        mem_ok = [m for m in memory[k] if "error" not in m]

        def med(key: str, _m: list[dict[str, Any]] = mem_ok) -> float | None:
            return statistics.median(m[key] for m in _m) if _m else None

        out["libs"][k] = {
            "fit_s": fit_s[k],
            "sample_s": sample_s[k],
            "fit_s_median": statistics.median(fit_s[k]) if fit_s[k] else None,
            "sample_s_median": statistics.median(sample_s[k]) if sample_s[k] else None,
            "kl_median": {c: float(v) for c, v in kl_med.items()},
            "kl_max": float(kl_med.max()) if len(kl_med) else None,
            "kl_mean": float(kl_med.mean()) if len(kl_med) else None,
            "kl_cols_over_bar": int((kl_med >= KL_BAR).sum()) if len(kl_med) else None,
            "kl_max_per_repeat": [float(s.max()) for s in kls[k]],
            "spikes": {
                key: statistics.median(d[key] for d in spikes[k])
                for key in (spikes[k][0] if spikes[k] else {})
            },
            "checks": checks.get(k),
            "memory_runs": memory[k],
            "rss_after_fit_mb": med("rss_after_fit_mb"),
            "peak_mb": med("peak_mb"),
            "sampling_increment_mb": med("sampling_increment_mb"),
            "big_sample_s": med("big_sample_s"),
            "rss_after_import_and_load_mb": med("rss_after_import_and_load_mb"),
            "peak_until_fit_mb": med("peak_until_fit_mb"),
        }
    return out


# --------------------------------------------------------------------------- reporting
def md_table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """A Markdown table padded so that it also reads well as plain text."""
    right = set(range(1, len(headers))) if right is None else right
    cells = [headers, *rows]
    w = [max(len(str(r[i])) for r in cells) for i in range(len(headers))]

    def fmt(row: list[str]) -> str:
        parts = [
            str(v).rjust(w[i]) if i in right else str(v).ljust(w[i]) for i, v in enumerate(row)
        ]
        return "| " + " | ".join(parts) + " |"

    sep = (
        "|"
        + "|".join(
            ("-" * (w[i] + 1) + ":") if i in right else ("-" * (w[i] + 2)) for i in range(len(w))
        )
        + "|"
    )
    return "\n".join([fmt(headers), sep, *(fmt(r) for r in rows)])


def _f(v: float | None, spec: str = ".3f") -> str:
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def _ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den == 0:
        return "n/a"
    return f"{num / den:.1f}x" if num / den >= 10 else f"{num / den:.2f}x"


def _spread(vals: list[float]) -> str:
    if not vals:
        return "n/a"
    med = statistics.median(vals)
    return f"{med:.3f}" if len(vals) == 1 else f"{med:.3f} ({min(vals):.3f}-{max(vals):.3f})"


def _mb(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.0f} MB"


def render_markdown(res: dict[str, Any]) -> str:
    libs = res["libs"]
    has_sdv = "sdv" in libs
    lines = [f"## synthcust Gaussian copula vs SDV GaussianCopulaSynthesizer ({res['date']})", ""]
    m = res["machine"]
    lines += [
        f"- Machine: {m['nproc']} CPU cores available ({m['cpu_count']} on the host), "
        f"{m['ram_gb']:.1f} GB RAM, {m['cpu_model']}; {m['platform']}; "
        f"load average {m['loadavg_start']} at start, {m['loadavg_end']} at end (shared machine).",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in res["versions"].items()) + ".",
        f"- BLAS thread pools: {m.get('blas', 'n/a')}.",
        f"- Repeats: {res['repeats']} (median reported; min-max in brackets; the two libraries "
        f"alternate order); memory: {res['mem_repeats']} fresh subprocess(es) per library, "
        f"each sampling {res['big_n']:,} rows; training rows per dataset below.",
        f"- Total run time: {res['total_s']:.0f} s. Command: `{res['command']}`",
    ]
    if res.get("quick"):
        lines.append(
            f"- **Quick mode** (smoke test: {res['max_rows']:,}-row stratified subsample): "
            "not a result."
        )
    if not has_sdv:
        lines.append(f"- **SDV not run**: {res.get('sdv_skipped_reason', '')}.")
    lines += [
        "- Setup: split 80/20 stratified on the target, `random_state=0`; both libraries get the "
        "same train DataFrame (hash checked before/after). Adult = train + test files, `?` kept "
        'as the literal category `"?"`. SDV: metadata detected from train, '
        "`GaussianCopulaSynthesizer(metadata)` with defaults; its fit time includes metadata "
        "detection, ours includes schema inference. synthcust: `GaussianCopulaSynthesizer("
        "random_state=0)`, defaults.",
        "- KL = KL(real train || synthetic sample of len(train)) per column, 20 bins at the real "
        "train quantiles, 1e-6 floor (`synthcust.evaluation.fidelity.kl_per_column`), median over "
        'the repeats; "holdout" = KL(train || real holdout), the sampling-noise floor. '
        f"**Bold** = KL >= {KL_BAR}.",
        "- Memory: fresh subprocess per library: import, load, fit, then sample the big n; RSS "
        "after fit = current VmRSS, peak = VmHWM after sampling (the process's high-water mark; "
        "`ru_maxrss` is not used because Linux carries it over from the parent across exec), "
        "increment = peak - RSS after fit.",
    ]
    if res.get("quality", True):
        lines += QUALITY_METHODS
    lines.append("")
    for d in res["datasets"]:
        lines += _render_dataset(d, res, has_sdv)
    return "\n".join(lines)


def _render_dataset(d: dict[str, Any], res: dict[str, Any], has_sdv: bool) -> list[str]:
    """The Markdown section of one dataset: speed and memory, per-column KL, spikes, checks."""
    lines: list[str] = []
    L = d["libs"]
    o = L.get("ours", {})
    s = L.get("sdv", {})
    lines += [
        f"### {d['dataset'].capitalize()} (train {d['n_train']:,}, holdout {d['n_holdout']:,})",
        "",
    ]
    hdr = ["", "synthcust", *(["SDV", "ratio"] if has_sdv else [])]
    big = f"{res['big_n']:,} rows"

    def row(label: str, ours_txt: str, sdv_txt: str, ratio: str = "") -> list[str]:
        return [label, ours_txt, *([sdv_txt, ratio] if has_sdv else [])]

    def mem_row(label: str, key: str, with_ratio: bool = True) -> list[str]:
        ratio = "ours/SDV " + _ratio(o.get(key), s.get(key)) if with_ratio else ""
        return row(label, _mb(o.get(key)), _mb(s.get(key)), ratio)

    def speed_ratio(key: str) -> str:
        return "SDV/ours " + _ratio(s.get(key), o.get(key))

    rows = [
        row("fit (s)", _spread(o.get("fit_s", [])), _spread(s.get("fit_s", [])),
            speed_ratio("fit_s_median")),
        row(f"sample {d['n_train']:,} rows (s)", _spread(o.get("sample_s", [])),
            _spread(s.get("sample_s", [])), speed_ratio("sample_s_median")),
        row(f"sample {big} (s, memory probe)", _f(o.get("big_sample_s"), ".2f"),
            _f(s.get("big_sample_s"), ".2f"), speed_ratio("big_sample_s")),
        mem_row("RSS after import + load", "rss_after_import_and_load_mb", with_ratio=False),
        mem_row("peak RSS until end of fit", "peak_until_fit_mb"),
        mem_row("RSS after fit", "rss_after_fit_mb"),
        mem_row(f"peak RSS sampling {big}", "peak_mb"),
        mem_row("sampling increment", "sampling_increment_mb"),
    ]  # fmt: skip
    lines += [md_table(hdr, rows), ""]

    # KL table
    lines += [f"KL(real train || synthetic), per column ({d['dataset']}):", ""]
    cols = d["columns"]
    kl_hdr = ["column", "synthcust", *(["SDV"] if has_sdv else []), "holdout"]

    def cell(v: float | None) -> str:
        if v is None:
            return "n/a"
        txt = f"{v:.4f}"
        return f"**{txt}**" if v >= KL_BAR else txt

    kl_rows = []
    for c in cols:
        kl_rows.append([
            c, cell(o.get("kl_median", {}).get(c)),
            *([cell(s.get("kl_median", {}).get(c))] if has_sdv else []),
            cell(d["kl_train_vs_holdout"].get(c)),
        ])  # fmt: skip
    ref = pd.Series(d["kl_train_vs_holdout"])
    kl_rows.append(
        [
            "max",
            _f(o.get("kl_max"), ".4f"),
            *([_f(s.get("kl_max"), ".4f")] if has_sdv else []),
            f"{ref.max():.4f}",
        ]
    )
    kl_rows.append(
        [
            "mean",
            _f(o.get("kl_mean"), ".4f"),
            *([_f(s.get("kl_mean"), ".4f")] if has_sdv else []),
            f"{ref.mean():.4f}",
        ]
    )
    kl_rows.append([
        f"columns >= {KL_BAR}", str(o.get("kl_cols_over_bar")),
        *([str(s.get("kl_cols_over_bar"))] if has_sdv else []), str(int((ref >= KL_BAR).sum())),
    ])  # fmt: skip
    lines += [md_table(kl_hdr, kl_rows), ""]

    # spikes
    sp_hdr = [
        "share of rows",
        "real train",
        "real holdout",
        "synthcust",
        *(["SDV"] if has_sdv else []),
    ]
    sp_rows = []
    for key, v in d["real_spikes"]["train"].items():
        sp_rows.append([
            f"`{key}`", f"{v:.1%}", f"{d['real_spikes']['holdout'][key]:.1%}",
            _pct(o.get("spikes", {}).get(key)),
            *([_pct(s.get("spikes", {}).get(key))] if has_sdv else []),
        ])  # fmt: skip
    lines += [md_table(sp_hdr, sp_rows), ""]

    if d.get("quality"):
        lines += _render_quality(d, has_sdv)

    # checks and errors
    notes = []
    for k, lab in LIB_LABEL.items():
        ch = L.get(k, {}).get("checks")
        if not ch:
            continue
        bits = []
        if not ch["same_columns_in_order"]:
            bits.append(
                f"columns differ (missing {ch['missing_columns']}, extra {ch['extra_columns']})"
            )
        for key, label in [
            ("dtype_mismatches", "dtype differs from train"),
            ("nan_where_real_has_none", "NaN where train has none"),
            ("unseen_categories", "categories not in train"),
            ("out_of_real_range_share", "share outside train min-max"),
            ("non_integer_share", "non-integer share in integer column"),
        ]:
            if ch[key]:
                bits.append(f"{label}: {ch[key]}")
        clean = "all clean (same columns, dtypes, no NaN, no unseen category, within range)."
        notes.append(f"- {lab} output checks (repeat 1): " + ("; ".join(bits) or clean))
    if not d["train_untouched"]:
        notes.append("- **The train frame was modified during the run.**")
    for k, e in d["errors"].items():
        notes.append(f"- **{LIB_LABEL.get(k, k)} error**:\n\n```\n{e.strip()}\n```")
    if "sdv_metadata_detect_s" in d:
        det = statistics.median(d["sdv_metadata_detect_s"])
        notes.append(f"- SDV metadata detection took {det:.3f} s of its fit time.")
    lines += [*notes, ""]
    return lines


QUALITY_METHODS = [
    "- Quality section (not timed): each library's synthetic sample of len(train) rows from "
    "repeat 1, against real data only.",
    "  - SDMetrics: `sdmetrics.reports.single_table.QualityReport` (real = real train, "
    'metadata = SDV `Metadata.detect_from_dataframes({"t": train})`), overall score and the '
    "Column Shapes / Column Pair Trends properties; ceiling column = the same report on real "
    "holdout vs real train.",
    "  - Detection AUC (C2ST): real holdout labelled 1, the same number of synthetic rows "
    "(random subsample, seed 0) labelled 0; 5-fold stratified CV (shuffled, seed 0) ROC AUC of "
    '`HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)`, '
    "non-numeric columns as pandas `category` with the union of the categories of both sides. "
    "0.5 = indistinguishable, 1.0 = fully told apart. Reference column = real holdout vs the "
    "same number of real train rows.",
    "  - TSTR: `HistGradientBoostingClassifier(random_state=0)` (same encoding) fitted on the "
    "synthetic sample, ROC AUC (and average precision) on the real holdout; target Adult "
    "`income` positive `>50K`, Bank `y` positive `yes`. Ceiling column = TRTR (fitted on real "
    "train).",
    f"  - Accuracy (1 - TVD): numeric columns in {ACC_BINS} quantile bins of real train "
    "(right-closed, duplicate edges merged, missing = own bin), categoricals = the "
    f'{ACC_TOP} most frequent train categories + "other"; univariate = mean over columns of '
    "1 - TVD, bivariate = mean over all column pairs of 1 - TVD of the joint binned "
    "distribution, accuracy = their mean; synthetic vs real train. Ceiling column = real "
    "holdout vs real train. TVD carries a small-sample bias, so the synthetic figure is also "
    "given on a random len(holdout)-row subsample, the size the ceiling is measured at.",
]


def _render_quality(d: dict[str, Any], has_sdv: bool) -> list[str]:
    """The quality table of one dataset (plus Bank's deterministic relations)."""
    q = d["quality"]
    real = q.get("real", {})
    libs = [k for k in ("ours", "sdv") if k in q.get("libs", {})]
    if not has_sdv:
        libs = [k for k in libs if k != "sdv"]

    def get(src: Any, *path: str) -> Any:
        for p in path:
            src = src.get(p) if isinstance(src, dict) else None
        return src

    hdr = ["figure", *(LIB_LABEL[k] for k in libs), "real holdout / TRTR"]
    rows: list[list[str]] = []

    def add(label: str, path: tuple[str, ...], real_path: tuple[str, ...] | None) -> None:
        rows.append([
            label, *(_f(get(q["libs"][k], *path)) for k in libs),
            _f(get(real, *real_path)) if real_path else "",
        ])  # fmt: skip

    if q.get("sdmetrics_skipped_reason"):
        rows.append(["SDMetrics QualityReport", *("skipped" for _ in libs), "skipped"])
    else:
        add("SDMetrics quality (overall)", ("sdmetrics", "overall"), ("sdmetrics", "overall"))
        add("SDMetrics Column Shapes", ("sdmetrics", "column_shapes"),
            ("sdmetrics", "column_shapes"))  # fmt: skip
        add("SDMetrics Column Pair Trends", ("sdmetrics", "column_pair_trends"),
            ("sdmetrics", "column_pair_trends"))  # fmt: skip
    add("detection AUC, C2ST (0.5 = indistinguishable)", ("detection", "auc"),
        ("detection_vs_train", "auc"))  # fmt: skip
    add("TSTR ROC AUC on holdout (ceiling: TRTR)", ("tstr", "auc"), ("trtr", "auc"))
    add("TSTR average precision (ceiling: TRTR)", ("tstr", "ap"), ("trtr", "ap"))
    add("accuracy (1 - TVD)", ("accuracy", "accuracy"), ("accuracy", "accuracy"))
    add("  univariate", ("accuracy", "univariate"), ("accuracy", "univariate"))
    add("  bivariate", ("accuracy", "bivariate"), ("accuracy", "bivariate"))
    add(f"accuracy, synthetic subsample of {d['n_holdout']:,} rows",
        ("accuracy_holdout_sized", "accuracy"), ("accuracy", "accuracy"))  # fmt: skip
    n = d["n_train"]
    lines = [f"Quality ({d['dataset']}; synthetic sample of {n:,} rows from repeat 1):", ""]
    lines += [md_table(hdr, rows, right=set(range(1, len(hdr)))), ""]
    if q.get("sdmetrics_skipped_reason"):
        lines += [f"- SDMetrics skipped: {q['sdmetrics_skipped_reason']}.", ""]

    if "relations_train" in real:
        rel_hdr = ["deterministic relation", "real train", "real holdout",
                   *(LIB_LABEL[k] for k in libs)]  # fmt: skip
        rel_rows = []
        for key, v in real["relations_train"].items():
            is_count = key.startswith("rows with")
            fmt = (lambda x: "n/a" if x is None else f"{x:,}") if is_count else _pct_fine
            label = key.replace("|", "given") if "|" in key else key
            rel_rows.append([
                f"`{label}`" if not is_count else label,
                fmt(v), fmt(real["relations_holdout"].get(key)),
                *(fmt(get(q["libs"][k], "relations", key)) for k in libs),
            ])  # fmt: skip
        lines += [
            f"Deterministic relations ({d['dataset']}): share of rows where the equality holds "
            "(real data: always or almost always), and the conversion rate among earlier "
            "successes:",
            "",
            md_table(rel_hdr, rel_rows),
            "",
        ]
    return lines


def _pct_fine(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2%}"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


# --------------------------------------------------------------------------- environment
def apply_blas_threads(n: int | None) -> None:
    """Limit the BLAS/OpenMP pools of every library loaded so far (threadpoolctl) to ``n``."""
    if n is None:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)


def blas_info() -> str:
    """The loaded BLAS/OpenMP thread pools and the thread env vars, for the report."""
    env = {
        k: os.environ[k]
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if k in os.environ
    }
    try:
        from threadpoolctl import threadpool_info

        pools = sorted(
            {f"{p['internal_api']} {p.get('version') or ''} x{p['num_threads']}".replace("  ", " ")
             for p in threadpool_info()}
        )  # fmt: skip
    except ImportError:
        pools = ["threadpoolctl not installed"]
    env_txt = ", ".join(f"{k}={v}" for k, v in env.items()) or "no thread env vars set"
    return "; ".join(pools) + f" ({env_txt})"


def machine_info() -> dict[str, Any]:
    ram = float("nan")
    cpu_model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    ram = int(line.split()[1]) / 1024**2
                    break
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": nproc,
        "cpu_count": os.cpu_count(),
        "ram_gb": ram,
        "cpu_model": cpu_model,
        "platform": f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        "loadavg_start": _loadavg(),
    }


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def versions(with_sdv: bool) -> dict[str, str]:
    pkgs = ["synthcust", "numpy", "pandas", "scipy", "scikit-learn"]
    if with_sdv:
        pkgs += ["sdv", "copulas", "rdt", "sdmetrics", "torch"]
    out = {}
    for p in pkgs:
        try:
            out[p] = _im.version(p)
        except _im.PackageNotFoundError:
            out[p] = "not installed"
    return out


# --------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Benchmark synthcust's Gaussian copula against SDV's GaussianCopulaSynthesizer "
        "(speed, memory, per-column KL, quality) on Adult and Bank."
    )
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding adult/ and bank/ (default: %(default)s)",
    )
    ap.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=["adult", "bank"])
    ap.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed repeats, median reported (default 3; 1 with --quick)",
    )
    ap.add_argument(
        "--mem-repeats",
        type=int,
        default=None,
        help="memory probes per library (default: --repeats)",
    )
    ap.add_argument(
        "--big-n",
        type=int,
        default=None,
        help="rows sampled for the memory figure (default 1,000,000; 20,000 --quick; 0 = skip)",
    )
    ap.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="stratified subsample of the data before splitting (default: all; 5,000 with --quick)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 5,000 rows, 1 repeat, big-n 20,000; SDV optional",
    )
    ap.add_argument("--no-sdv", action="store_true", help="run synthcust only")
    ap.add_argument(
        "--no-quality",
        dest="quality",
        action="store_false",
        help="skip the (untimed) quality section: SDMetrics, detection AUC, TSTR, 1 - TVD",
    )
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS/OpenMP threads (threadpoolctl) for both libraries (default: leave as is)",
    )
    ap.add_argument(
        "--out-dir",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="where the JSON and Markdown go (default: %(default)s)",
    )
    ap.add_argument("--memory-probe", nargs=2, metavar=("LIB", "DATASET"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.mem_repeats is None:
        args.mem_repeats = args.repeats
    if args.big_n is None:
        args.big_n = 20_000 if args.quick else 1_000_000
    if args.max_rows is None and args.quick:
        args.max_rows = 5_000
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    args.data_dir = args.data_dir.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_probe:
        lib_key, dataset = args.memory_probe
        memory_probe(lib_key, dataset, args.data_dir, args.max_rows, args.big_n, args.blas_threads)
        return 0

    t_start = time.perf_counter()
    check_data_dir(args.data_dir, args.datasets)
    libs = ["ours"]
    sdv_reason = ""
    if args.no_sdv:
        sdv_reason = "--no-sdv given"
    else:
        ok, why = sdv_importable()
        if ok:
            libs.append("sdv")
        elif args.quick:
            sdv_reason = f"sdv is not importable ({why})"
            print(f"note: {sdv_reason}; running synthcust only", file=sys.stderr)
        else:
            raise SystemExit(
                f"error: sdv is not importable ({why}). Install it (pip install 'sdv==2.0.0') or "
                "pass --no-sdv to run synthcust only."
            )
    for k in libs:  # import both libraries (and their BLAS users) up front, then limit threads
        make_lib(k)
    import sklearn.model_selection  # noqa: F401

    apply_blas_threads(args.blas_threads)
    machine = machine_info()
    machine["blas"] = blas_info()
    print(
        f"synthcust vs {'SDV' if 'sdv' in libs else '(no SDV)'} | {machine['nproc']} cores, "
        f"{machine['ram_gb']:.1f} GB | repeats {args.repeats}, big-n {args.big_n:,}"
        + (f", max-rows {args.max_rows:,}" if args.max_rows else ""),
        flush=True,
    )

    results = [bench_dataset(name, libs, args) for name in args.datasets]
    machine["loadavg_end"] = _loadavg()
    date = _dt.date.today().isoformat()
    res: dict[str, Any] = {
        "date": date,
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "machine": machine,
        "versions": versions("sdv" in libs),
        "repeats": args.repeats,
        "mem_repeats": args.mem_repeats,
        "big_n": args.big_n,
        "max_rows": args.max_rows,
        "quick": args.quick,
        "quality": args.quality,
        "blas_threads": args.blas_threads,
        "libs": libs,
        "sdv_skipped_reason": sdv_reason,
        "kl_bar": KL_BAR,
        "datasets": results,
    }
    res["total_s"] = time.perf_counter() - t_start
    md = render_markdown(res)
    print("\n" + md)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"copula_{date}" + ("_quick" if args.quick else "")
    if args.blas_threads is not None:
        stem += f"_blas{args.blas_threads}"
    (args.out_dir / f"{stem}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    (args.out_dir / f"{stem}.md").write_text(md + "\n")
    print(f"\nwrote {args.out_dir / stem}.json and .md")
    failed = [
        d["dataset"]
        for d in results
        if any(k in ("ours", "ours KL", "harness") for k in d["errors"])
    ]
    if failed:
        print(f"synthcust failed on: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
