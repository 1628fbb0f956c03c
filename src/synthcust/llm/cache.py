"""A disk cache of replies keyed by prompt hash: JSON files written atomically, never pickle.

Key = SHA-256 of (backend identity, messages, seed, max_tokens, temperature), so a cached reply
is only reused for exactly the same request to the same model. Files live under
``<dir>/<key[:2]>/<key>.json`` and hold the request beside the reply, so a cache can be
audited. A corrupt or foreign file is ignored (and rewritten), never trusted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from synthcust.io.atomic import atomic_write_text
from synthcust.llm.base import LLMBackend, Message, check_messages, prompt_key

__all__ = ["ENV_CACHE_DIR", "CachedBackend", "default_cache_dir"]

ENV_CACHE_DIR = "SYNTHCUST_LLM_CACHE"


def default_cache_dir() -> Path:
    """``$SYNTHCUST_LLM_CACHE`` or ``~/.cache/synthcust/llm``."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "synthcust" / "llm"


class CachedBackend:
    """Wrap a backend so identical requests are answered from disk.

    ``hits`` and ``misses`` count what happened, for reports.
    """

    def __init__(self, backend: LLMBackend, cache_dir: str | os.PathLike | None = None) -> None:
        self.backend = backend
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.identity = backend.identity
        self.hits = 0
        self.misses = 0

    def _file(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def complete(
        self,
        messages: Sequence[Message],
        *,
        seed: int = 0,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> str:
        msgs = check_messages(messages)
        key = prompt_key(self.identity, msgs, seed, max_tokens, temperature)
        path = self._file(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("key") == key and isinstance(data.get("reply"), str):
                self.hits += 1
                return data["reply"]
        except (OSError, ValueError):
            pass
        reply = self.backend.complete(msgs, seed=seed, max_tokens=max_tokens,
                                      temperature=temperature)
        self.misses += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(
            {"key": key, "model": self.identity, "seed": int(seed), "max_tokens": int(max_tokens),
             "temperature": float(temperature), "messages": msgs, "reply": reply},
            ensure_ascii=False, indent=1,
        ))
        return reply
