"""Fresh ids in the real ids' own pattern (``1234-ABCDE`` in, ``8071-QKZTA`` out).

:func:`learn_id_pattern` learns, per id length, each position's alphabet (a constant
character — a prefix or a separator — or the classes seen there: digits, upper-case,
lower-case letters, plus any punctuation seen) from the real ids; :func:`make_ids` draws ids
from it, vectorised (NumPy character arrays), unique within the draw and never equal to a real
id.

Real ids are not kept. The model keeps a **Bloom filter** of salted hashes of them (about ten
bits per id, ~1% false positives): it cannot be listed back into ids (a salted hash set could
be attacked the same way by testing guesses, but is eight times larger and exact), and a false
positive only means a valid fresh id is skipped. It does answer "was this id real?" for a
guessed id, as any "never a real id" check must.
"""

from __future__ import annotations

import base64
import hashlib
import string
from typing import Any

import numpy as np
import pandas as pd

#: Fewest ids of one length to learn that length's pattern from.
MIN_IDS = 20
#: Ids looked at when learning the pattern.
SAMPLE = 10_000
#: Bloom filter: bits per real id and hash functions (~1% false positives).
BLOOM_BITS_PER_ID = 10
BLOOM_HASHES = 7
_CLASSES = (string.digits, string.ascii_uppercase, string.ascii_lowercase)
#: The pattern must have room for this many times the real ids, or it is not used.
ROOM = 10.0
_SALT_LEN = 16


def _salt(txt: pd.Series) -> bytes:
    """A salt from the ids themselves: fitting twice gives the same model (and samples), and
    without the real ids no one can precompute the filter's hashes."""
    digests = np.sort(pd.util.hash_pandas_object(txt, index=False).to_numpy(dtype=np.uint64))
    return hashlib.blake2b(digests.tobytes(), digest_size=_SALT_LEN).digest()


def learn_id_pattern(ids: pd.Series) -> dict[str, Any]:
    """The pattern of the string ids ``ids`` (JSON-ready), or ``{}`` when none is learnable.

    Learnable: at least :data:`MIN_IDS` ASCII ids, and every length holding at least 1% of them
    has :data:`MIN_IDS` ids or more (so mixed lengths without structure fall back), and the
    pattern has room for many more ids than the real ones.

    >>> real = pd.Series([f"{i}-{c}BCD" for i, c in zip(range(1000, 3000), "XYZ" * 700)])
    >>> p = learn_id_pattern(real)
    >>> p["lengths"], p["alphabets"][0][4], p["alphabets"][0][5][:3], p["alphabets"][0][6]
    ([9], '-', 'ABC', 'B')
    """
    txt = ids.dropna().astype(str)
    n_real = len(txt)
    if n_real < MIN_IDS:
        return {}
    sample = txt if n_real <= SAMPLE else txt.sample(SAMPLE, random_state=0)
    if not sample.map(str.isascii).all():
        return {}
    lens = sample.str.len()
    shares = lens.value_counts(normalize=True)
    keep = shares[shares >= 0.01]
    if keep.sum() < 0.99 or len(keep) == 0:
        return {}
    lengths, weights, alphabets = [], [], []
    for length, share in keep.items():
        group = sample[lens == length]
        if len(group) < MIN_IDS or int(length) == 0:
            return {}
        chars = _char_matrix(group.to_numpy(dtype=str), int(length))
        alphabets.append([_alphabet(chars[:, j]) for j in range(int(length))])
        lengths.append(int(length))
        weights.append(float(share))
    room = sum(float(np.prod([len(a) for a in al], dtype=float)) for al in alphabets)
    if room < ROOM * n_real:
        return {}
    salt = _salt(txt)
    return {
        "lengths": lengths,
        "weights": [w / sum(weights) for w in weights],
        "alphabets": alphabets,
        "salt": salt.hex(),
        "bloom": _bloom_build(txt, salt),
    }


def _char_matrix(values: np.ndarray, length: int) -> np.ndarray:
    """(n, length) array of single characters of same-length strings."""
    return np.asarray(values, dtype=f"<U{length}").view("<U1").reshape(len(values), length)


def _alphabet(column: np.ndarray) -> str:
    """A position's alphabet: its constant character, or the classes of the characters seen."""
    seen = set(np.unique(column).tolist())
    if len(seen) == 1:
        return str(next(iter(seen)))
    out = ""
    for cls in _CLASSES:
        if seen & set(cls):
            out += cls
    if seen & set(string.digits) and "0" not in seen and len(column) >= 50:
        out = out.replace("0", "")  # no leading zeros in the data: none in the samples
    out += "".join(sorted(seen - set(string.ascii_letters + string.digits)))
    return out


def _hashes(values: pd.Series, salt: bytes) -> np.ndarray:
    """Salted 64-bit hashes of the ids: FNV-1a over the characters, then a SplitMix64 finish.

    Own code (not ``pandas.util.hash_pandas_object``) so that a saved model's filter means the
    same under any library version; vectorised over ids, a loop over character positions only.
    """
    txt = values.astype(str).to_numpy(dtype=str)
    lens = np.char.str_len(txt) if len(txt) else np.zeros(0, dtype=int)
    width = max(1, int(lens.max())) if len(txt) else 1
    codes = np.asarray(txt, dtype=f"<U{width}").view(np.uint32).reshape(len(txt), width)
    h = np.full(len(txt), np.uint64(int.from_bytes(salt[:8], "little")), dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    for j in range(width):  # only each id's own characters: a hash does not depend on the batch
        h = np.where(j < lens, (h ^ codes[:, j].astype(np.uint64)) * prime, h)
    h ^= np.uint64(int.from_bytes(salt[8:16], "little")) ^ lens.astype(np.uint64)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def _positions(h: np.ndarray, m: int) -> np.ndarray:
    h1 = h & np.uint64(0xFFFFFFFF)
    h2 = (h >> np.uint64(32)) | np.uint64(1)
    i = np.arange(BLOOM_HASHES, dtype=np.uint64)[:, None]
    return ((h1[None, :] + i * h2[None, :]) % np.uint64(m)).astype(np.int64)


def _bloom_build(values: pd.Series, salt: bytes) -> str:
    m = max(64, BLOOM_BITS_PER_ID * len(values))
    bits = np.zeros(m, dtype=bool)
    bits[_positions(_hashes(values, salt), m).ravel()] = True
    return base64.b64encode(np.packbits(bits).tobytes()).decode("ascii")


def maybe_real(values: pd.Series, pattern: dict[str, Any]) -> np.ndarray:
    """Whether each of ``values`` may be a real id (Bloom filter: no false negatives)."""
    packed = np.frombuffer(base64.b64decode(pattern["bloom"]), dtype=np.uint8)
    bits = np.unpackbits(packed).astype(bool)
    m = len(bits)
    pos = _positions(_hashes(values, bytes.fromhex(pattern["salt"])), m)
    return np.asarray(bits[pos].all(axis=0))


def _draw(n: int, pattern: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    which = rng.choice(len(pattern["lengths"]), size=n, p=pattern["weights"])
    out = np.empty(n, dtype=object)
    for k, (length, alphabets) in enumerate(
        zip(pattern["lengths"], pattern["alphabets"], strict=True)
    ):
        rows = np.flatnonzero(which == k)
        if not len(rows):
            continue
        chars = np.empty((len(rows), length), dtype="<U1")
        for j, alpha in enumerate(alphabets):  # loop over positions, vectorised over rows
            letters = np.array(list(alpha), dtype="<U1")
            chars[:, j] = letters[rng.integers(len(letters), size=len(rows))]
        out[rows] = chars.view(f"<U{length}").ravel()
    return out


def make_ids(n: int, pattern: dict[str, Any], rng: np.random.Generator) -> np.ndarray | None:
    """``n`` fresh ids in ``pattern``: unique, none a real id; ``None`` if the pattern is full."""
    got = pd.Series(_draw(n, pattern, rng), dtype=object)
    for _ in range(30):
        bad = got.duplicated().to_numpy() | maybe_real(got, pattern)
        if not bad.any():
            return got.to_numpy(dtype=object)
        got[bad] = _draw(int(bad.sum()), pattern, rng)
    return None
