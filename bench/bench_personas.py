"""Speed of persona segmentation on the demo world (50,000 customers x 20 columns).

Run: ``.venv/bin/python bench/bench_personas.py [--rows 50000] [--k K]``. Prints the wall time
of each stage (schema inference and column plan, choosing k, final fit, predict, cards) and the
adjusted Rand index against the planted personas.
"""

from __future__ import annotations

import argparse
import time

from sklearn.metrics import adjusted_rand_score

from synthcust.demo import simulate_customers
from synthcust.personas import PersonaSegmenter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--k", type=int, default=None)
    ap.add_argument("--criterion", default="bic")
    args = ap.parse_args()
    df = simulate_customers(args.rows, random_state=0, with_pii=False, include_latent=True)
    truth = df.pop("true_persona").astype(str)
    df = df.drop(columns=["true_churn_probability"])
    print(f"table: {df.shape[0]:,} rows x {df.shape[1]} columns")
    t0 = time.perf_counter()
    seg = PersonaSegmenter(k=args.k, criterion=args.criterion, random_state=0).fit(df)
    t1 = time.perf_counter()
    labels = seg.predict(df)
    t2 = time.perf_counter()
    print(f"fit (k range {seg.k_range}, criterion {seg.chosen_by_}): {t1 - t0:.2f} s -> k={seg.k_}")
    print(f"predict {len(df):,} rows: {t2 - t1:.2f} s")
    print(f"ARI vs planted personas: {adjusted_rand_score(truth, labels):.3f}")
    print(seg.selection_frame().round(3).to_string(index=False))


if __name__ == "__main__":
    main()
