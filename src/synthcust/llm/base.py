"""The one small protocol every language-model backend follows, and message checks.

A backend turns a chat (a list of ``{"role": ..., "content": ...}`` messages, roles ``system``,
``user`` and ``assistant``) into one reply string::

    backend.complete(messages, seed=0, max_tokens=200, temperature=0.0) -> str

Backends are injected everywhere (interviews, panels, augmentation), so tests swap in
:class:`~synthcust.llm.fake.FakeBackend` and users swap in any OpenAI-compatible server.
``identity`` names the model behind a backend; it is part of the cache key, so replies of one
model are never served for another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from synthcust.exceptions import DataError

__all__ = ["LLMBackend", "Message", "check_messages", "prompt_key"]

Message = dict[str, str]
ROLES = ("system", "user", "assistant")


@runtime_checkable
class LLMBackend(Protocol):
    """Anything that completes a chat deterministically for a given ``seed``."""

    identity: str

    def complete(
        self,
        messages: Sequence[Message],
        *,
        seed: int = 0,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> str:
        """The assistant's reply to ``messages``."""
        ...


def check_messages(messages: Sequence[Message]) -> list[Message]:
    """Validate a chat and return it as a list of plain ``{"role", "content"}`` dicts.

    Raises :class:`DataError` naming the first bad message (unknown role, content that is not a
    string, or text that cannot be encoded as UTF-8, such as a lone surrogate left by a bad
    decode).
    """
    if isinstance(messages, (str, bytes)) or not messages:
        raise DataError("messages must be a non-empty list of {'role', 'content'} dicts")
    out: list[Message] = []
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise DataError(f"message {i} has role {role!r}; use one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise DataError(f"message {i} content must be text, got {type(content).__name__}")
        try:
            content.encode("utf-8")
        except UnicodeEncodeError as e:
            raise DataError(
                f"message {i} holds text that is not valid Unicode at character {e.start} "
                "(a lone surrogate from a bad decode); read the source as UTF-8 or fix it"
            ) from e
        out.append({"role": role, "content": content})
    return out


def prompt_key(
    identity: str, messages: Sequence[Message], seed: int, max_tokens: int, temperature: float
) -> str:
    """SHA-256 over everything that determines a reply: model, chat, seed and sampling."""
    blob = json.dumps(
        {"model": identity, "messages": list(messages), "seed": int(seed),
         "max_tokens": int(max_tokens), "temperature": round(float(temperature), 6)},
        sort_keys=True, ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
