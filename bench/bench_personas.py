"""Personas on the demo world: speed, recovery of the planted personas, synthetic agreement.

Run ``.venv/bin/python bench/bench_personas.py [MODE] [--rows N] [--k K]``:

* ``speed`` (default): 50,000 customers x 19 columns; wall time of the fit (choosing k over
  2..8, or a given ``--k``) and of ``predict``, the figures of every k, and the adjusted Rand
  index against the planted personas.
* ``recovery``: 5,000 customers; a supervised ceiling (5-fold gradient boosting trained on the
  true persona), every criterion's k and ARI, k = 5 with accuracy after Hungarian matching,
  and the cross-table of true vs found personas (slow: the gradient boosting dominates).
* ``agreement``: 2,000 customers, k = 5; for the copula and the autoregressive synthesizer,
  the fit time and the share of 300 conditional draws per persona that the segmenter assigns
  back to it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, adjusted_rand_score

from synthcust.demo import simulate_customers
from synthcust.personas import (
    PersonaSegmenter,
    align_labels,
    describe_personas,
    fit_persona_model,
    persona_agreement,
)


def _world(rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    df = simulate_customers(rows, random_state=0, with_pii=False, include_latent=True)
    truth = df.pop("true_persona").astype(str).to_numpy()
    return df.drop(columns=["true_churn_probability"]), truth


def speed(rows: int, k: int | None, criterion: str) -> None:
    df, truth = _world(rows)
    print(f"table: {df.shape[0]:,} rows x {df.shape[1]} columns")
    t0 = time.perf_counter()
    seg = PersonaSegmenter(k=k, criterion=criterion, random_state=0).fit(df)
    t1 = time.perf_counter()
    labels = seg.predict(df)
    t2 = time.perf_counter()
    print(f"fit (k range {seg.k_range}, criterion {seg.chosen_by_}): {t1 - t0:.2f} s -> k={seg.k_}")
    print(f"predict {len(df):,} rows: {t2 - t1:.2f} s")
    print(f"ARI vs planted personas: {adjusted_rand_score(truth, labels):.3f}")
    print(seg.selection_frame().round(3).to_string(index=False))


def recovery(rows: int) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    df, truth = _world(rows)
    x = df.drop(columns=["customer_id"]).copy()
    x["signup_date"] = x["signup_date"].astype("int64")
    x = x.apply(lambda s: s.astype(float) if pd.api.types.is_numeric_dtype(s)
                else s.astype("category").cat.codes)
    gb = HistGradientBoostingClassifier(max_iter=200, random_state=0)
    pred = cross_val_predict(gb, x, truth, cv=5)
    print(f"supervised ceiling (5-fold gradient boosting on the true persona): accuracy "
          f"{accuracy_score(truth, pred):.3f}, ARI {adjusted_rand_score(truth, pred):.3f}")
    for crit in ("bic", "icl", "silhouette", "stability"):
        seg = PersonaSegmenter(criterion=crit, random_state=0).fit(df)
        print(f"criterion {crit}: k={seg.k_}, ARI {adjusted_rand_score(truth, seg.labels_):.3f}")
    seg = PersonaSegmenter(k=5, random_state=0).fit(df)
    m = align_labels(seg.labels_, truth)
    acc = float(np.mean(np.array([m[v] for v in seg.labels_]) == truth))
    print(f"k=5: ARI {adjusted_rand_score(truth, seg.labels_):.3f}, accuracy after Hungarian "
          f"matching {acc:.3f}")
    cards = describe_personas(df, seg, seg.labels_)
    names = {c.id: f"{c.id} {c.name}" for c in cards.cards}
    found = pd.Series([names[v] for v in seg.labels_], name="found")
    print(pd.crosstab(pd.Series(truth, name="true"), found).to_string())


def agreement(rows: int) -> None:
    df, _ = _world(rows)
    seg = PersonaSegmenter(k=5, random_state=0).fit(df)
    for syn in ("copula", "autoregressive"):
        t = time.perf_counter()
        model = fit_persona_model(df, seg, seg.labels_, synthesizer=syn)
        fit_s = time.perf_counter() - t
        agree = persona_agreement(model, 300)
        shown = ", ".join(f"{k} {v:.2f}" for k, v in agree.items())
        print(f"{syn}: fit {fit_s:.1f} s; agreement {shown}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", nargs="?", default="speed", choices=["speed", "recovery",
                                                                 "agreement"])
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--k", type=int, default=None)
    ap.add_argument("--criterion", default="bic")
    a = ap.parse_args()
    if a.mode == "speed":
        speed(a.rows or 50_000, a.k, a.criterion)
    elif a.mode == "recovery":
        recovery(a.rows or 5_000)
    else:
        agreement(a.rows or 2_000)


if __name__ == "__main__":
    main()
