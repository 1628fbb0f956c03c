"""Language-model features as every face runs them: persona interviews and on-brand copy.

What ``synthcust interview`` and ``synthcust augment-text`` run:

* :func:`get_llm_backend` - a backend by name (``offline``, ``http``, ``fake``), cached on disk
  unless told not to;
* :func:`evidence_index` - a retrieval index over customer text (one record per text cell);
* :func:`interview` - a multi-turn interview of one persona of ``personas.json``, grounded in
  its card and the evidence;
* :func:`augment_copy` / :func:`write_augment` - on-brand copy variations of approved lines,
  filtered by the brand-voice classifier, and the run report.

>>> from synthcust.llm import FakeBackend
>>> cards = {"personas": [{"id": "P1", "name": "Young app shoppers", "size": 50,
...                        "share": 0.5, "traits": [], "typical": {}}]}
>>> session = interview(cards, "P1", ["Why the app?"], FakeBackend(["It is quick."]))
>>> session.turns[0].text.startswith("(Evidence is thin")
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.augment.text import AugmentResult, augment_text, read_seed_lines
from synthcust.exceptions import DataError
from synthcust.io.atomic import atomic_write_text
from synthcust.llm import LLMBackend, get_backend
from synthcust.llm.embeddings import make_embedder
from synthcust.personas.interview import InterviewSession, build_agent
from synthcust.personas.knowledge import KnowledgeIndex, records_from_table

__all__ = [
    "BACKENDS",
    "augment_copy",
    "evidence_index",
    "get_llm_backend",
    "interview",
    "write_augment",
]

#: the backend names the faces accept
BACKENDS = ("offline", "http", "fake")


def get_llm_backend(name: str, *, cache: bool = True) -> LLMBackend:
    """The backend called ``name`` (see :data:`BACKENDS`), its replies cached on disk if asked.

    Raises
    ------
    DataError
        For an unknown name.
    """
    if name not in BACKENDS:
        raise DataError(f"unknown backend {name!r}; use offline or http")
    return get_backend(name, cache=cache)


def evidence_index(
    df: pd.DataFrame, text_col: str, *, id_col: str | None = None,
    persona_col: str | None = None, method: str = "auto",
) -> KnowledgeIndex:
    """An index over the text column of ``df`` (rows shared by every persona unless
    ``persona_col`` names each row's persona)."""
    records = records_from_table(df, text_col, id_col=id_col, persona_col=persona_col)
    return KnowledgeIndex(method).fit(records)


def interview(
    cards: Any, persona: str, questions: Sequence[str], backend: LLMBackend, *,
    index: KnowledgeIndex | None = None, k: int = 5, seed: int = 0,
) -> InterviewSession:
    """Ask ``persona`` (id or name from the cards) every question in turn, in one session.

    Parameters
    ----------
    cards
        ``personas.json`` (a dict), :class:`~synthcust.personas.PersonaCards` or a card list.
    persona
        The persona's id or name.
    questions
        Asked in order; earlier answers are sent back as history.
    backend
        The language model.
    index
        Customer text to ground answers in (the cards' facts are always added).
    k, seed
        Evidence records per question; the model's sampling seed.

    Returns
    -------
    InterviewSession
        ``turns`` holds every answer; ``transcript()`` is JSON-able.
    """
    if not questions:
        raise DataError("no question to ask")
    session = InterviewSession(build_agent(cards, persona, backend, index, k=k, seed=seed))
    for q in questions:
        session.ask(q)
    return session


def augment_copy(
    seed_file: str | os.PathLike, n: int, backend: LLMBackend, *,
    negatives_file: str | os.PathLike | None = None, embedder: str = "auto",
    threshold: float = 0.5, dup_threshold: float = 0.9, max_attempts: int | None = None,
    random_state: int = 0,
) -> AugmentResult:
    """Up to ``n`` on-brand variations of the approved lines in ``seed_file``.

    ``negatives_file``: generic/off-brand lines for the brand-voice classifier (default: the
    built-in generic copy); ``embedder``: ``auto``, ``minilm`` or ``tfidf``. See
    :func:`synthcust.augment.augment_text` for the rest.
    """
    lines = read_seed_lines(seed_file)
    neg = read_seed_lines(negatives_file) if negatives_file is not None else None
    return augment_text(lines, n, backend, negatives=neg, embedder=make_embedder(embedder),
                        threshold=threshold, dup_threshold=dup_threshold,
                        max_attempts=max_attempts, random_state=random_state)


def write_augment(
    result: AugmentResult, out: str | os.PathLike, report: str | os.PathLike | None = None
) -> dict[str, Path]:
    """Write the accepted lines to ``out`` and, when asked, the run report (JSON).

    Returns
    -------
    dict of str to Path
        ``lines`` and, with ``report``, ``report``.
    """
    paths = {"lines": Path(out)}
    atomic_write_text(paths["lines"], "".join(f"{t}\n" for t in result.accepted))
    if report is not None:
        paths["report"] = Path(report)
        atomic_write_text(paths["report"],
                          json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    return paths
