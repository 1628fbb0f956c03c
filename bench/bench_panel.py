"""Synthetic survey panel vs held-out real answers on clothing_reviews.

Personas = age band x department, fitted on 80% of reviewers (rows; one review per reviewer);
the other 20% are the held-out real answers. Each synthetic respondent (age and product class
drawn from its persona's training rows) is asked, through the LLM backend, how it feels about
the item it bought; its free text is mapped by semantic-similarity rating (MiniLM; Maier et al.
2025) to a 1-5 rating pmf and to a recommend / not pmf. No number is asked of the model.

Conditions: **card only** vs **grounded** (the prompt quotes the 3 training reviews of the
persona most relevant to the question, BM25), each **raw** and **debiased** with
prediction-powered inference from ``--n-real`` labelled held-out reviewers per persona (their
synthetic twins get the same age and class). Per persona: rating KS similarity, SD ratio and
mean difference vs the other held-out reviewers, recommend-rate difference, and for the PPI
mean rating whether its 95% CI covers the held-out mean and its width vs the real-only CI.
A reference row shows the persona's own training distribution against its held-out one (what
perfect knowledge of the training data would score). A sycophancy probe (bad vs good concept)
runs on the same backend.

Run: ``.venv/bin/python bench/bench_panel.py [--backend offline|http|fake] [--personas 4]
[--n 8 --n-real 10]``. Replies are cached (``--cache``), so reruns are cheap. Writes
``bench/results/panel_<date>.json`` and ``.md``.
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
from synthcust.llm import FakeBackend, get_backend
from synthcust.llm.embeddings import TfidfEmbedder, default_embedder
from synthcust.personas.knowledge import KnowledgeIndex
from synthcust.personas.panel import (
    RECOMMEND_ANCHORS,
    SATISFACTION_ANCHORS,
    Question,
    SyntheticPanel,
    compare_distributions,
    ppi_mean,
    sycophancy_probe,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clothing_reviews" / \
    "clothing_reviews.csv.gz"
BANDS = [17, 34, 49, 64, 120]
BAND_NAMES = ["18-34", "35-49", "50-64", "65+"]
Q_RATING = Question("rating", "How do you feel about the item you bought from us? Tell us "
                    "honestly what you liked or disliked.", anchors=SATISFACTION_ANCHORS)
Q_REC = Question("recommend", "Would you recommend it?", anchors=RECOMMEND_ANCHORS)


def load(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(DATA).dropna(subset=["Department Name", "Class Name", "Age"])
    df["band"] = pd.cut(df["Age"], BANDS, labels=BAND_NAMES).astype(str)
    df["persona"] = df["band"] + " " + df["Department Name"]
    df["text"] = (df["Title"].fillna("") + ". " + df["Review Text"].fillna("")).str.strip(". ")
    df = df.reset_index(drop=True)
    df["id"] = "R" + df.index.astype(str)
    test = np.random.default_rng(seed).random(len(df)) < 0.2
    return df[~test], df[test]


def cards_from(train: pd.DataFrame, personas: list[str]) -> dict:
    out = []
    for p in personas:
        part = train[train["persona"] == p]
        band, dep = p.split(" ", 1)
        classes = part["Class Name"].value_counts(normalize=True).head(3)
        desc = (f"Women aged {band} who bought from the {dep} department, mostly "
                + ", ".join(f"{c} ({s:.0%})" for c, s in classes.items()) + ".")
        out.append({"id": p, "name": p, "description": desc, "size": len(part),
                    "share": len(part) / len(train), "traits": [],
                    "typical": {"age": float(part["Age"].median()), "department": dep,
                                "class": str(classes.index[0])}})
    return {"personas": out}


def respondents(train: pd.DataFrame, personas: list[str], n: int, seed: int) -> pd.DataFrame:
    rows = []
    for p in personas:
        part = train[train["persona"] == p].sample(n, replace=True, random_state=seed)
        rows.append(pd.DataFrame({"persona": p, "age": part["Age"].to_numpy(),
                                  "bought": part["Class Name"].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def evaluate(panel: SyntheticPanel, resp: pd.DataFrame, twins: pd.DataFrame,
             truth: pd.DataFrame, train: pd.DataFrame) -> dict:
    res = panel.ask(Q_RATING, respondents=resp)
    rec = panel.rate(res.answers["response"].tolist(), Q_REC)[:, 1]
    tw = panel.ask(Q_RATING, respondents=twins[["persona", "age", "bought"]])
    out = {}
    for p, g in res.answers.groupby("persona"):
        idx = g.index.to_numpy()
        real = truth[truth["persona"] == p]
        pm = res.pmf[idx].mean(axis=0)
        c = compare_distributions(pm, real["Rating"].to_numpy(), 5)
        c["recommend_synthetic"] = float(rec[idx].mean())
        c["recommend_real"] = float(real["Recommended IND"].mean())
        c["recommend_diff"] = c["recommend_synthetic"] - c["recommend_real"]
        tmask = (twins["persona"] == p).to_numpy()
        ppi = ppi_mean(twins.loc[tmask, "Rating"].to_numpy(float),
                       tw.answers.loc[tmask, "expected"].to_numpy(),
                       res.answers.loc[idx, "expected"].to_numpy())
        true_mean = float(real["Rating"].mean())
        c["ppi"] = ppi.to_dict()
        c["ppi_abs_error"] = abs(ppi.estimate - true_mean)
        c["ppi_covers"] = bool(ppi.ci[0] <= true_mean <= ppi.ci[1])
        c["classical_abs_error"] = abs(ppi.classical - true_mean)
        c["classical_covers"] = bool(ppi.classical_ci[0] <= true_mean <= ppi.classical_ci[1])
        c["ppi_width_ratio"] = (ppi.ci[1] - ppi.ci[0]) / (ppi.classical_ci[1] -
                                                         ppi.classical_ci[0])
        c["synthetic_abs_error"] = abs(float(pm @ np.arange(1, 6)) - true_mean)
        c["example_response"] = str(g["response"].iloc[0])[:200]
        out[p] = c
    return out


def reference(train: pd.DataFrame, truth: pd.DataFrame, personas: list[str]) -> dict:
    out = {}
    for p in personas:
        tr = train.loc[train["persona"] == p, "Rating"].to_numpy()
        pm = np.bincount(tr - 1, minlength=5) / len(tr)
        c = compare_distributions(pm, truth.loc[truth["persona"] == p, "Rating"].to_numpy(), 5)
        c["recommend_diff"] = float(train.loc[train["persona"] == p, "Recommended IND"].mean()
                                    - truth.loc[truth["persona"] == p, "Recommended IND"].mean())
        out[p] = c
    return out


def summary(per: dict) -> dict:
    keys = ["ks_similarity", "sd_ratio", "mean_diff", "recommend_diff", "ppi_abs_error",
            "classical_abs_error", "synthetic_abs_error", "ppi_width_ratio"]
    s = {}
    for k in keys:
        v = [abs(x[k]) if k.endswith("diff") else x[k] for x in per.values() if k in x]
        if v:
            s[("mean_abs_" + k) if k.endswith("diff") else ("mean_" + k)] = float(np.mean(v))
    cov = [x["ppi_covers"] for x in per.values() if "ppi_covers" in x]
    if cov:
        s["ppi_coverage"] = float(np.mean(cov))
        s["classical_coverage"] = float(np.mean([x["classical_covers"] for x in per.values()]))
    return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="offline")
    ap.add_argument("--personas", type=int, default=4, help="largest personas used")
    ap.add_argument("--n", type=int, default=8, help="synthetic respondents per persona")
    ap.add_argument("--n-real", type=int, default=10, help="labelled real per persona (PPI)")
    ap.add_argument("--probe-n", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "synthcust" / "llm"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    if not DATA.exists():
        raise SystemExit(f"needs {DATA} (the shared datasets beside the repo)")
    t_start = time.perf_counter()
    train, test = load(args.seed)
    personas = train["persona"].value_counts().index[: args.personas].tolist()
    cards = cards_from(train, personas)
    rng = np.random.default_rng(args.seed)
    lab_idx = []
    for p in personas:
        ids = test.index[test["persona"] == p].to_numpy()
        lab_idx += list(rng.choice(ids, min(args.n_real, len(ids)), replace=False))
    twins = test.loc[lab_idx].rename(columns={"Class Name": "bought", "Age": "age"})
    twins = twins.assign(Rating=test.loc[lab_idx, "Rating"])
    truth = test.drop(index=lab_idx)
    if args.backend == "fake":
        backend = FakeBackend(lambda m, s: ["I love it, it's perfect.", "It was okay.",
                                            "Disappointing, the fit was off."][s % 3])
    else:
        backend = get_backend(args.backend, cache=args.cache)
    embedder = default_embedder() or TfidfEmbedder()
    per_p = train[train["persona"].isin(personas)].sample(frac=1.0, random_state=args.seed)
    per_p = per_p.groupby("persona").head(300)
    index = KnowledgeIndex.build(per_p[["id", "text", "persona"]], method="bm25")
    resp = respondents(train, personas, args.n, args.seed)
    results: dict = {"data": "clothing_reviews", "backend": backend.identity,
                     "embedder": getattr(embedder, "name", "?"), "personas": personas,
                     "n_per_persona": args.n, "n_real_labelled": args.n_real,
                     "held_out_per_persona": truth["persona"].value_counts()[personas].to_dict(),
                     "reference_train_vs_heldout": reference(train, truth, personas)}
    results["reference_summary"] = summary(results["reference_train_vs_heldout"])
    for name, idx in (("card_only", None), ("grounded", index)):
        t0 = time.perf_counter()
        panel = SyntheticPanel(cards, backend, embedder=embedder, index=idx, k=3,
                               seed=args.seed, max_tokens=args.max_tokens, temperature=0.8)
        per = evaluate(panel, resp, twins, truth, train)
        results[name] = {"per_persona": per, "summary": summary(per),
                         "seconds": time.perf_counter() - t0}
        print(name, json.dumps(results[name]["summary"]), flush=True)
    probe_panel = SyntheticPanel({"personas": cards["personas"][:2]}, backend,
                                 embedder=embedder, n_per_persona=args.probe_n,
                                 seed=args.seed, max_tokens=args.max_tokens)
    results["sycophancy_probe"] = sycophancy_probe(probe_panel)
    print("sycophancy", json.dumps(results["sycophancy_probe"]), flush=True)
    results["seconds_total"] = time.perf_counter() - t_start
    if hasattr(backend, "hits"):
        results["cache"] = {"hits": backend.hits, "misses": backend.misses}
    day = dt.date.today().isoformat()
    stem = Path(__file__).resolve().parent / "results" / f"panel_{day}{args.tag}"
    atomic_write_text(stem.with_suffix(".json"), json.dumps(results, indent=2, default=str))
    atomic_write_text(stem.with_suffix(".md"), render(results))
    print(render(results))


def render(r: dict) -> str:
    cols = ["mean_ks_similarity", "mean_sd_ratio", "mean_abs_mean_diff",
            "mean_abs_recommend_diff"]
    lines = ["# Synthetic panel vs held-out reviewers, clothing_reviews\n",
             f"Backend `{r['backend']}`, SSR embedder `{r['embedder']}`, personas "
             f"{', '.join(r['personas'])}; {r['n_per_persona']} synthetic respondents and "
             f"{r['n_real_labelled']} labelled real reviewers per persona; held-out truth "
             f"per persona {r['held_out_per_persona']}.\n",
             "| condition | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name in ("reference_summary", "card_only", "grounded"):
        s = r[name] if name == "reference_summary" else r[name]["summary"]
        label = "train distribution (reference)" if name == "reference_summary" else name
        lines.append(f"| {label} | " + " | ".join(f"{s.get(c, float('nan')):.3f}" for c in cols)
                     + " |")
    lines += ["", "Mean rating per persona, absolute error vs held-out (debiasing):", "",
              "| condition | synthetic only | real only (n labelled) | PPI | PPI coverage | "
              "real-only coverage | PPI CI width / real-only |", "|---|---|---|---|---|---|---|"]
    for name in ("card_only", "grounded"):
        s = r[name]["summary"]
        lines.append(f"| {name} | {s['mean_synthetic_abs_error']:.3f} | "
                     f"{s['mean_classical_abs_error']:.3f} | {s['mean_ppi_abs_error']:.3f} | "
                     f"{s['ppi_coverage']:.2f} | {s['classical_coverage']:.2f} | "
                     f"{s['mean_ppi_width_ratio']:.2f} |")
    p = r["sycophancy_probe"]
    lines += ["", f"Sycophancy probe: bad concept mean intent {p['mean_bad']:.2f} (midpoint "
              f"{p['midpoint']}), good concept {p.get('mean_good', float('nan')):.2f}: "
              f"{'passed' if p['passed'] else 'FAILED'}.",
              f"\nTotal {r['seconds_total']:.0f} s.\n"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
