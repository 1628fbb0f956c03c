"""API token (generated once, stored hashed) and per-token rate limiting (token bucket).

Why a salted SHA-256 and not a slow password hash: the token is 32 random bytes (256 bits) made
by :func:`secrets.token_urlsafe`, not a human password, so there is nothing to brute-force
faster with a fast hash; a slow hash (PBKDF2, scrypt) would only add its delay to every API
request. The file holds the salt and the digest, never the token; comparison is constant-time.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from pathlib import Path

from synthcust.exceptions import SynthcustError
from synthcust.io.atomic import atomic_write_text

__all__ = ["RateLimiter", "TokenCheck", "load_or_create_token"]

TOKEN_FILE = "service_token.json"


def _digest(salt: str, token: str) -> str:
    return hashlib.sha256((salt + ":" + token).encode()).hexdigest()


class TokenCheck:
    """Verifies ``Authorization: Bearer <token>`` against a salted digest."""

    def __init__(self, salt: str, digest: str):
        self.salt = salt
        self.digest = digest

    @classmethod
    def for_token(cls, token: str) -> TokenCheck:
        salt = secrets.token_hex(16)
        return cls(salt, _digest(salt, token))

    def verify(self, token: str | None) -> bool:
        if not token:
            return False
        return hmac.compare_digest(_digest(self.salt, token), self.digest)

    def to_json(self) -> str:
        return json.dumps({"algorithm": "sha256", "salt": self.salt, "digest": self.digest})


def load_or_create_token(folder: Path) -> tuple[TokenCheck, str | None]:
    """The stored token check in ``folder``; on first use make a token and store its hash.

    Returns ``(check, token)``: ``token`` is the new plain token (print it once) or ``None``
    when one was already stored.
    """
    path = Path(folder) / TOKEN_FILE
    if path.exists():
        try:
            d = json.loads(path.read_text())
            return TokenCheck(str(d["salt"]), str(d["digest"])), None
        except (ValueError, KeyError, TypeError) as e:
            raise SynthcustError(
                f"{path} is not a synthcust token file ({e}); delete it to make a new token"
            ) from e
    token = secrets.token_urlsafe(32)
    check = TokenCheck.for_token(token)
    atomic_write_text(path, check.to_json() + "\n")
    with contextlib.suppress(OSError):  # file systems without modes
        path.chmod(0o600)
    return check, token


class RateLimiter:
    """One token bucket per API token: ``burst`` requests at once, refilled at ``rate``/s.

    :meth:`take` returns 0 when the request may go on, else the seconds to wait (for the
    ``Retry-After`` header).
    """

    #: Buckets kept at most; past it, the buckets already full again are forgotten (they
    #: hold nothing a fresh bucket would not), so a flood of addresses cannot grow the table.
    max_keys = 10_000

    def __init__(self, rate: float = 50.0, burst: int = 400):
        if rate <= 0 or burst < 1:
            raise SynthcustError(f"rate limit needs rate > 0 and burst >= 1 (got {rate}, {burst})")
        self.rate = float(rate)
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate  # seconds for an empty bucket to refill
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        while len(self._buckets) >= self.max_keys:  # all recent: drop the oldest half
            keep = sorted(self._buckets.items(), key=lambda kv: kv[1][1])[self.max_keys // 2 :]
            self._buckets = dict(keep)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        now = time.monotonic()
        with self._lock:
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._prune(now)
            level, last = self._buckets.get(key, (self.burst, now))
            level = min(self.burst, level + (now - last) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
