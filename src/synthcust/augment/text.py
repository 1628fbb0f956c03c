"""Brand-voice augmentation: new copy in the voice of a seed of approved lines.

Pipeline
--------
1. **Generate.** Each attempt shows the backend a few seed lines (a different random handful per
   attempt, seeded) and asks for one new line in the same voice.
2. **Brand-voice filter.** A classifier trained on the approved seed (positive) against
   generic / off-brand text (negative: given, or a built-in set of generic marketing copy):
   sentence embeddings (all-MiniLM-L6-v2 when installed; else TF-IDF word + char n-grams) and
   logistic regression, calibrated with Platt scaling (``CalibratedClassifierCV``, sigmoid).
   Its precision and ROC AUC on a stratified held-out 25% are reported; it is then refitted on
   everything. A candidate is kept when P(on-brand) >= ``threshold``.
3. **PII.** A candidate holding an e-mail, phone, card, IBAN, SSN or IP (small models invent
   contact details) is dropped.
4. **Near-duplicates.** A candidate whose cosine similarity to any seed line or any already
   accepted line is >= ``dup_threshold`` is dropped.
5. **Report.** Acceptance rate (accepted / generated), reasons for rejection, distinct-1/2
   (unique n-grams / all n-grams over the accepted lines) and embedding spread (mean pairwise
   cosine distance of the accepted lines; seed's for comparison).

Known limits: the classifier learns what the seed has that the negatives lack; with few seed
lines or negatives that differ only in topic, it rewards topic words, not tone. Held-out
precision on a few dozen lines has a wide interval.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError, ReadError
from synthcust.llm.base import LLMBackend
from synthcust.llm.embeddings import TfidfEmbedder, default_embedder
from synthcust.privacy import redact_text

__all__ = [
    "GENERIC_COPY",
    "AugmentResult",
    "BrandVoiceClassifier",
    "augment_text",
    "distinct_n",
    "read_seed_lines",
]

GENERIC_COPY: list[str] = [
    "Buy now and save big on all our products!",
    "Best prices guaranteed. Shop today!",
    "Click here to learn more about our amazing offers.",
    "Limited time offer, don't miss out!",
    "Quality products at affordable prices.",
    "We are the leading provider of innovative solutions.",
    "Sign up for our newsletter to get the latest deals.",
    "Free shipping on orders over $50.",
    "Our customers love us. Find out why!",
    "The best choice for you and your family.",
    "Order today and get 20% off your first purchase.",
    "Unbeatable value, every single day.",
    "Discover our wide range of products.",
    "Satisfaction guaranteed or your money back.",
    "Hurry, stocks are running out fast!",
    "Experience the difference with our premium service.",
    "Your one-stop shop for everything you need.",
    "Check out our new arrivals now.",
    "Great deals on top brands.",
    "Join millions of happy customers.",
    "Terms and conditions apply. See store for details.",
    "Please contact customer service for more information.",
    "Your order has been shipped and will arrive in 3-5 business days.",
    "Thank you for your purchase.",
    "We value your feedback. Please take our survey.",
    "Products may vary from images shown.",
    "Offer valid while supplies last.",
    "Click the link below to reset your password.",
    "Our team is available Monday to Friday, 9am to 5pm.",
    "Upgrade your lifestyle with our exclusive collection.",
    "Act fast! This deal ends at midnight.",
    "Save money and time with our easy checkout.",
    "Shop the sale before it's gone.",
    "Everything you need, all in one place.",
    "Top rated by experts and customers alike.",
    "Get the best bang for your buck.",
    "New and improved formula!",
    "Don't wait, order yours today.",
    "Trusted by businesses worldwide.",
    "The ultimate solution for all your needs.",
]


def read_seed_lines(path: str | os.PathLike) -> list[str]:
    """Non-empty, stripped lines of a UTF-8 text file (a clear error for any other encoding)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError as e:
        raise ReadError(f"seed file {str(p)!r} does not exist") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ReadError(
            f"seed file {str(p)!r} is not UTF-8 (byte 0x{raw[e.start]:02x} at offset "
            f"{e.start}); re-save it as UTF-8, e.g. iconv -f cp1252 -t utf-8"
        ) from e
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise DataError(f"seed file {str(p)!r} holds no text; give at least a few approved "
                        "lines of copy, one per line")
    return lines


def _check_lines(lines: Any, what: str) -> list[str]:
    if isinstance(lines, str):
        lines = [lines]
    out = []
    for i, t in enumerate(lines or []):
        if isinstance(t, bytes):
            try:
                t = t.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{what} line {i} is not UTF-8 (offset {e.start})") from e
        if not isinstance(t, str):
            raise DataError(f"{what} line {i} is {type(t).__name__}, not text")
        t = t.strip()
        if t:
            out.append(t)
    return out


def distinct_n(texts: list[str], n: int) -> float:
    """Unique word n-grams / all word n-grams over ``texts`` (0 when there are none)."""
    grams: list[tuple[str, ...]] = []
    for t in texts:
        w = re.findall(r"\w+", t.lower())
        grams += [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _spread(v: np.ndarray) -> float:
    """Mean pairwise cosine distance of L2-normalised rows."""
    if len(v) < 2:
        return 0.0
    s = v @ v.T
    iu = np.triu_indices(len(v), 1)
    return float(1 - s[iu].mean())


class BrandVoiceClassifier:
    """Approved (1) vs generic/off-brand (0) text: embeddings + calibrated logistic regression."""

    def __init__(self, embedder: Any = None, *, random_state: int = 0) -> None:
        self.embedder = embedder
        self.random_state = random_state
        self.heldout: dict[str, float] = {}
        self._clf: Any = None

    def _vec(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder.encode(texts), dtype=float)

    def fit(self, approved: list[str], negatives: list[str]) -> BrandVoiceClassifier:
        """Fit on approved (1) and negative (0) lines; held-out figures in ``heldout``. Returns
        ``self``.
        """
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import precision_score, roc_auc_score
        from sklearn.model_selection import train_test_split

        pos, neg = _check_lines(approved, "approved"), _check_lines(negatives, "negative")
        if len(pos) < 4 or len(neg) < 4:
            raise DataError(f"the brand-voice classifier needs at least 4 approved and 4 "
                            f"negative lines (got {len(pos)} and {len(neg)})")
        if self.embedder is None:
            self.embedder = default_embedder() or TfidfEmbedder()
        if isinstance(self.embedder, TfidfEmbedder) and not self.embedder.fitted:
            self.embedder.fit(pos + neg)
        x = self._vec(pos + neg)
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))].astype(int)

        def model() -> Any:
            cv = int(min(3, len(pos) // 2, len(neg) // 2))
            return CalibratedClassifierCV(LogisticRegression(C=1.0, max_iter=2000),
                                          method="sigmoid", cv=max(cv, 2))

        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, stratify=y,
                                              random_state=self.random_state)
        held = model().fit(xtr, ytr).predict_proba(xte)[:, 1]
        self.heldout = {
            "n_test": len(yte),
            "precision": float(precision_score(yte, held >= 0.5, zero_division=0)),
            "recall": float(((held >= 0.5) & (yte == 1)).sum() / max((yte == 1).sum(), 1)),
            "roc_auc": float(roc_auc_score(yte, held)) if len(set(yte)) == 2 else float("nan"),
        }
        self._clf = model().fit(x, y)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """P(on-brand) per text."""
        if self._clf is None:
            raise DataError("the brand-voice classifier is not fitted; call fit first")
        return self._clf.predict_proba(self._vec(texts))[:, 1]


@dataclass
class AugmentResult:
    """Accepted lines and how the run went."""

    accepted: list[str]
    generated: int
    rejected: dict[str, int]
    classifier: dict[str, float]
    diversity: dict[str, float]
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def acceptance_rate(self) -> float:
        """Accepted lines / generated lines."""
        return len(self.accepted) / self.generated if self.generated else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The run report as a JSON-able dict."""
        return {"accepted": self.accepted, "generated": self.generated,
                "acceptance_rate": self.acceptance_rate, "rejected": self.rejected,
                "classifier_heldout": self.classifier, "diversity": self.diversity,
                "candidates": self.candidates}


_PREFIX = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)]|new line:|line:|here is[^:]*:)\s*", re.I)


def _clean_candidate(t: str) -> str:
    line = next((ln for ln in t.strip().splitlines() if ln.strip()), "")
    line = _PREFIX.sub("", line).strip().strip('"').strip("\u201c\u201d").strip()
    return line


def augment_text(
    seed: list[str], n: int, backend: LLMBackend, *,
    negatives: list[str] | None = None, classifier: BrandVoiceClassifier | None = None,
    embedder: Any = None, threshold: float = 0.5, dup_threshold: float = 0.9,
    max_attempts: int | None = None, examples: int = 5, random_state: int = 0,
    temperature: float = 0.9, max_tokens: int = 60,
) -> AugmentResult:
    """Generate up to ``n`` on-brand variations of ``seed`` copy (see the module docstring).

    Stops after ``n`` accepted lines or ``max_attempts`` generations (default ``4 n``).
    """
    lines = _check_lines(seed, "seed")
    if not lines:
        raise DataError("the seed set is empty; give at least a few approved lines of copy")
    if n < 1:
        raise DataError(f"n must be at least 1, got {n}")
    neg = _check_lines(negatives, "negative") if negatives else list(GENERIC_COPY)
    if embedder is None:
        embedder = default_embedder() or TfidfEmbedder()
    if isinstance(embedder, TfidfEmbedder) and not embedder.fitted:
        embedder.fit(lines + neg)
    clf = classifier or BrandVoiceClassifier(embedder, random_state=random_state).fit(lines, neg)
    rng = np.random.default_rng(random_state)
    attempts = max_attempts if max_attempts is not None else 4 * n
    seed_vec = np.asarray(embedder.encode(lines), dtype=float)
    kept_vec: list[np.ndarray] = []
    accepted: list[str] = []
    rejected = {"empty": 0, "pii": 0, "off_brand": 0, "duplicate": 0}
    cands: list[dict[str, Any]] = []
    for a in range(attempts):
        if len(accepted) >= n:
            break
        shown = [lines[i] for i in rng.choice(len(lines), min(examples, len(lines)),
                                              replace=False)]
        msgs = [
            {"role": "system", "content": "You are a copywriter. Write in exactly the same "
             "voice, tone and style as the brand's approved examples."},
            {"role": "user", "content": "Approved examples:\n" + "\n".join(f"- {s}" for s in shown)
             + "\n\nWrite one new line of copy in the same voice. Do not copy an example. "
             "Reply with the line only."},
        ]
        raw = backend.complete(msgs, seed=random_state * 100_003 + a, max_tokens=max_tokens,
                               temperature=temperature)
        cand = _clean_candidate(raw)
        rec: dict[str, Any] = {"text": cand, "status": ""}
        if len(cand) < 3:
            rejected["empty"] += 1
            rec["status"] = "empty"
            cands.append(rec)
            continue
        if redact_text(pd.Series([cand], dtype=object).astype(str))[1]:
            rejected["pii"] += 1  # a model can invent e-mails and phone numbers
            rec["status"] = "pii"
            cands.append(rec)
            continue
        p = float(clf.predict_proba([cand])[0])
        v = np.asarray(embedder.encode([cand]), dtype=float)[0]
        pool = np.vstack([seed_vec, *kept_vec]) if kept_vec else seed_vec
        sim = float((pool @ v).max())
        rec.update(p_brand=p, max_similarity=sim)
        if p < threshold:
            rejected["off_brand"] += 1
            rec["status"] = "off_brand"
        elif sim >= dup_threshold:
            rejected["duplicate"] += 1
            rec["status"] = "duplicate"
        else:
            accepted.append(cand)
            kept_vec.append(v)
            rec["status"] = "accepted"
        cands.append(rec)
    generated = len(cands)
    div = {"distinct_1": distinct_n(accepted, 1), "distinct_2": distinct_n(accepted, 2),
           "spread": _spread(np.asarray(kept_vec)) if kept_vec else 0.0,
           "seed_distinct_1": distinct_n(lines, 1), "seed_distinct_2": distinct_n(lines, 2),
           "seed_spread": _spread(seed_vec)}
    return AugmentResult(accepted, generated, rejected, clf.heldout, div, cands)
