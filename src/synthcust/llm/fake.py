"""A scripted backend for tests and dry runs: no model, fully predictable, records every call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from synthcust.exceptions import ModelError
from synthcust.llm.base import Message, check_messages

__all__ = ["FakeBackend", "LLMCall"]


@dataclass(frozen=True)
class LLMCall:
    """One call a :class:`FakeBackend` received."""

    messages: list[Message]
    seed: int
    max_tokens: int
    temperature: float

    @property
    def system(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m["role"] == "system")

    @property
    def user(self) -> str:
        """The last user message."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")


@dataclass
class FakeBackend:
    """Replies from a script, a function, or by echoing the last user message.

    ``replies``: a list of strings returned in order (cycling when ``cycle``; otherwise running
    out raises :class:`ModelError`), or a callable ``f(messages, seed) -> str``. ``None`` echoes
    ``"echo: <last user message>"``. Every call is appended to ``calls`` so a test can assert what
    the model was shown.

    >>> fb = FakeBackend(["hello"])
    >>> fb.complete([{"role": "user", "content": "hi"}], seed=1)
    'hello'
    >>> fb.calls[0].user
    'hi'
    """

    replies: list[str] | Callable[[list[Message], int], str] | None = None
    cycle: bool = True
    identity: str = "fake"
    calls: list[LLMCall] = field(default_factory=list)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        seed: int = 0,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> str:
        msgs = check_messages(messages)
        self.calls.append(LLMCall(msgs, int(seed), int(max_tokens), float(temperature)))
        if self.replies is None:
            return "echo: " + next(m["content"] for m in reversed(msgs) if m["role"] == "user")
        if callable(self.replies):
            return str(self.replies(msgs, int(seed)))
        if not self.replies:
            raise ModelError("FakeBackend has no scripted replies")
        i = len(self.calls) - 1
        if i >= len(self.replies) and not self.cycle:
            raise ModelError(f"FakeBackend ran out of its {len(self.replies)} scripted replies")
        return self.replies[i % len(self.replies)]
