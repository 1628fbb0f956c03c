"""The data's own rules: how often synthetic rows break a rule every real row obeys.

Issue 19 item 4. Per dataset (Adult, Bank, Credit default from ../shared/data, and the demo
world ``synthcust.demo.simulate_customers``):

1. split 80/20 (stratified on the target, ``random_state=0``) and keep ``--rows`` training rows;
2. discover every exact rule of the training rows the default fit enforces
   (:func:`synthcust.constraints.auto.discover_rules`: implications between values, ``A <= B``,
   identities; each true of 100% of the rows and backed by >= 50 rows) and list it with its
   support;
3. fit each synthesizer with ``rules="off"`` (before) and by default (``rules="auto"``, after),
   draw ``-n`` rows and count, per rule, the rows that break it (``dp_marginal`` discovers
   nothing from private rows: its "after" is a fit with the implication rules declared, as a
   user who knows them would; it takes no other kind);
4. oversample the target with SMOTE-NC and the generative oversampler (copula), rules off and
   on, and count the new rows that break a rule;
5. the useless baseline: every column drawn independently from its real marginal.

Reported per run: rows breaking at least one rule (share), rules broken at least once, and the
worst rule's violation rate. Goal: 0 after.

    python bench/bench_rules.py --out rules.json          # full settings (docs/benchmarks)
    python bench/bench_rules.py --quick                   # CI: Adult, 1,500 rows, copula
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench_conditional import load as load_real  # bench/ is the script's folder

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE.parents[1] / "shared" / "data"

TARGETS = {
    "adult": "income",
    "bank": "y",
    "credit_default": "default_payment_next_month",
    "demo": "churned",
}
MODELS = ("copula", "autoregressive", "ctgan", "tvae", "dp_marginal")


def load(name: str, data_dir: Path, rows: int) -> pd.DataFrame:
    """The real table (as bench_conditional reads it), or the demo world (no PII)."""
    if name != "demo":
        return load_real(name, data_dir)
    from synthcust.demo.world import simulate_customers

    df = simulate_customers(max(rows * 5 // 4 + 1, 1000), random_state=0, with_pii=False)
    return df.drop(columns=[c for c in ("customer_id",) if c in df.columns])


def train_rows(df: pd.DataFrame, target: str, rows: int, seed: int) -> pd.DataFrame:
    """The 80% training split (stratified), subsampled to ``rows``."""
    from sklearn.model_selection import train_test_split

    train, _ = train_test_split(df, test_size=0.2, random_state=0, stratify=df[target])
    if len(train) > rows:
        train = train.sample(rows, random_state=seed)
    return train.reset_index(drop=True)


def make_model(name: str, args: argparse.Namespace) -> Any:
    from synthcust.synthesizers import REGISTRY

    kw: dict[str, Any] = {"random_state": args.seed}
    if name == "autoregressive":
        kw.update(epochs=args.ar_epochs, threads=1, verbose=False)
    if name in ("ctgan", "tvae"):
        kw.update(epochs=args.nn_epochs)
    if name == "dp_marginal":
        kw.update(epsilon=args.dp_epsilon, bounds="private")
    return REGISTRY[name](**kw)


def violations(frame: pd.DataFrame, schema: Any, rules: list[Any]) -> dict[str, Any]:
    """Rows of ``frame`` breaking each rule; the summary figures."""
    from synthcust.constraints.discover import check_constraints

    n = len(frame)
    if not rules or not n:
        return {"rows": n, "rows_breaking": 0, "share_breaking": 0.0, "rules_broken": 0,
                "worst_rule": None, "worst_rate": 0.0, "per_rule": {}}  # fmt: skip
    typed_rules = [r.constraint for r in rules]
    bad = np.zeros(n, dtype=bool)
    per: dict[str, int] = {}
    for res, con in zip(check_constraints(frame, schema, typed_rules), typed_rules, strict=True):
        per[str(con)] = int(res.failing)
    # rows breaking any rule
    from synthcust.constraints.plan import ConstraintPlan

    plan = ConstraintPlan((), schema).fit(frame)
    typed = plan.typed(frame, list(dict.fromkeys(c for k in typed_rules for c in k.columns)))
    for con in typed_rules:
        bad |= ~con.check(typed, typed)
    worst = max(per, key=lambda k: per[k])
    return {
        "rows": n,
        "rows_breaking": int(bad.sum()),
        "share_breaking": float(bad.mean()),
        "rules_broken": int(sum(v > 0 for v in per.values())),
        "worst_rule": worst if per[worst] else None,
        "worst_rate": per[worst] / n,
        "per_rule": {k: v for k, v in per.items() if v},
    }


def independent_marginals(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """The useless baseline: each column drawn on its own from the real values."""
    rng = np.random.default_rng(seed)
    idx = {c: rng.integers(0, len(train), n) for c in train.columns}
    return pd.DataFrame({c: train[c].to_numpy()[idx[c]] for c in train.columns})


def _implication(rule: Any) -> bool:
    from synthcust.constraints.implications import as_implication

    return as_implication(rule.constraint) is not None


def run_models(train: pd.DataFrame, schema: Any, rules: list[Any], args: argparse.Namespace):
    out: dict[str, Any] = {}
    n = min(args.n, len(train))
    for name in args.models:
        res: dict[str, Any] = {}
        # a DP model discovers nothing: "after" is the implications declared by the user
        declared = schema.with_constraints(*(r.constraint for r in rules if _implication(r)))
        for mode in ("off", "auto"):
            t0 = time.perf_counter()
            fit_schema = declared if (name == "dp_marginal" and mode == "auto") else schema
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make_model(name, args).fit(train, fit_schema, rules=mode)
                synth = model.sample(n, random_state=args.seed + 1)
            res[mode] = violations(synth, schema, rules)
            res[mode]["seconds"] = round(time.perf_counter() - t0, 1)
            res[mode]["rules_enforced"] = len(getattr(model, "rules_", []))
        out[name] = res
        print(f"  {name}: " + ", ".join(
            f"{m} {r['share_breaking']:.2%} rows, {r['rules_broken']} rules"
            for m, r in res.items()), flush=True)  # fmt: skip
    return out


def run_oversampling(
    train: pd.DataFrame, target: str, schema: Any, rules: list[Any], args: argparse.Namespace
) -> dict[str, Any]:
    from synthcust.synthesizers.oversampling.oversample import make_oversampler

    X, y = train.drop(columns=[target]), train[target]
    feat_rules = [r for r in rules if target not in r.constraint.columns]
    feat_schema = schema.select([c for c in schema.names if c != target]) if hasattr(
        schema, "select") else None  # fmt: skip
    out: dict[str, Any] = {}
    for method in args.oversamplers:
        res = {}
        for mode in ("off", "auto"):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = make_oversampler(method, random_state=args.seed, rules=mode)
                Xr, _ = s.fit_resample(X, y)
            new = Xr[s.synthetic_mask_].reset_index(drop=True)
            new[target] = y.iloc[0]  # the checks read only feature rules
            res[mode] = violations(new, feat_schema or schema, feat_rules)
            res[mode]["seconds"] = round(time.perf_counter() - t0, 1)
        out[method] = res
        print(f"  oversample {method}: " + ", ".join(
            f"{m} {r['rows_breaking']:,} of {r['rows']:,} new rows"
            for m, r in res.items()), flush=True)  # fmt: skip
    return out


def run_dataset(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from synthcust.constraints.auto import discover_rules
    from synthcust.schema.infer import infer_schema

    target = TARGETS[name]
    df = load(name, Path(args.data_dir), args.rows)
    train = train_rows(df, target, args.rows, args.seed)
    schema = infer_schema(train, detect_pii=False)
    t0 = time.perf_counter()
    rules = discover_rules(train, schema)
    took = time.perf_counter() - t0
    print(f"{name}: {len(train):,} training rows, {len(rules)} exact rules ({took:.1f} s)")
    for r in rules:
        print(f"  [{r.support:>6,} rows] {r.constraint}")
    base = violations(
        independent_marginals(train, min(args.n, len(train)), args.seed), schema, rules
    )
    print(f"  baseline (independent marginals): {base['share_breaking']:.2%} rows break a rule")
    return {
        "training_rows": len(train),
        "discovery_seconds": round(took, 2),
        "rules": [
            {"rule": str(r.constraint), "support": r.support, "reason": r.reason} for r in rules
        ],
        "baseline_independent": base,
        "synthesizers": run_models(train, schema, rules, args),
        "oversampling": run_oversampling(train, target, schema, rules, args),
    }


def table(results: dict[str, Any]) -> str:
    lines = ["| data | method | rules | before: rows breaking | after: rows breaking | "
             "after: rules broken |", "|---|---|---|---|---|---|"]  # fmt: skip
    for ds, r in results["datasets"].items():
        k = len(r["rules"])
        b = r["baseline_independent"]
        lines.append(f"| {ds} | independent marginals (baseline) | {k} | "
                     f"{b['share_breaking']:.2%} | - | - |")  # fmt: skip
        for group in ("synthesizers", "oversampling"):
            for m, res in r[group].items():
                before, after = res["off"], res.get("auto")
                aft = "-" if after is None else f"{after['share_breaking']:.2%}"
                broken = "-" if after is None else str(after["rules_broken"])
                label = m if group == "synthesizers" else f"oversample {m} (new rows)"
                lines.append(f"| {ds} | {label} | {k} | {before['share_breaking']:.2%} | "
                             f"{aft} | {broken} |")  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", choices=sorted(TARGETS),
                    default=["adult", "bank", "credit_default", "demo"])  # fmt: skip
    ap.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    ap.add_argument("--oversamplers", nargs="+", default=["smotenc", "generative"])
    ap.add_argument("--rows", type=int, default=5_000, help="training rows (subsample)")
    ap.add_argument("-n", type=int, default=5_000, help="synthetic rows per model")
    ap.add_argument("--ar-epochs", type=int, default=5, help="autoregressive epochs")
    ap.add_argument("--nn-epochs", type=int, default=5, help="ctgan/tvae epochs")
    ap.add_argument("--dp-epsilon", type=float, default=1.0, help="dp_marginal epsilon")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=str(DATA_DIR))
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--quick", action="store_true",
                    help="CI settings: Adult, 1,500 rows, copula, SMOTE-NC")  # fmt: skip
    args = ap.parse_args(argv)
    if args.quick:
        args.datasets, args.models, args.oversamplers = ["adult"], ["copula"], ["smotenc"]
        args.rows, args.n = 1_500, 1_500
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "settings": {k: v for k, v in vars(args).items() if k != "data_dir"},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}",
        "datasets": {},
    }
    for name in args.datasets:
        results["datasets"][name] = run_dataset(name, args)
        results["seconds"] = round(time.perf_counter() - t0, 1)
        if args.out:  # after each dataset, atomically: a long run keeps what it has
            tmp = Path(args.out).with_suffix(".tmp")
            tmp.write_text(json.dumps(results, indent=1, default=float))
            tmp.replace(args.out)
    print("\n" + table(results))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
