"""Fresh, realistic fake values for PII columns handled with the ``fake`` policy.

A column with the ``fake`` policy is removed before anything is learned; a :class:`FakeSpec`
(JSON-serialisable, saved inside model files, never holding a real value) records how to
refill it at sampling time.  :func:`fake_columns` does that: a seeded Faker draws small pools
of parts (first names, last names, phone formats, street names ...) and NumPy combines them
into ``n`` values, so 100,000 e-mails take well under a second, and the same ``random_state``
always gives the same values (for one Faker version).

Fake e-mails use the reserved ``example.com/.org/.net`` domains; fake card numbers pass the
Luhn check; fake IBANs carry valid mod-97 check digits; fake SSNs avoid the invalid areas.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from faker import Faker

from synthcust.exceptions import PIIError
from synthcust.privacy.pii_patterns import luhn_check_digit, mod97
from synthcust.schema.model import PIIKind

__all__ = ["FAKEABLE_KINDS", "FakeSpec", "fake_columns"]

_POOL = 1000  # parts drawn from Faker per pool
_RETRIES = 50


@dataclass(frozen=True)
class FakeSpec:
    """How to regenerate one faked column at sampling time.

    Attributes
    ----------
    column: the column's name in the original data.
    kind: the PII kind to fake.
    locale: Faker locale (``en_US``, ``de_DE``, ...).
    position: the column's index in the original frame, to put it back in place.
    null_fraction: share of missing values to reproduce.
    params: kind-specific options, all JSON values: ``part`` (``first``/``last``/``full``
        for names), ``numeric`` (the column held numbers), ``version`` (4/6 for IPs),
        ``min_year``/``max_year``/``format`` (``datetime``/``iso``/``yyyymmdd``) for dates
        of birth.
    """

    column: str
    kind: PIIKind
    locale: str = "en_US"
    position: int = -1
    null_fraction: float = 0.0
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in FAKEABLE_KINDS:
            raise PIIError(
                f"column {self.column!r}: cannot fake {self.kind.value!r} values; fakeable "
                f"kinds are {', '.join(k.value for k in FAKEABLE_KINDS)}"
            )
        _faker(self.locale)  # fail now, not at sampling time

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind.value,
            "locale": self.locale,
            "position": self.position,
            "null_fraction": self.null_fraction,
            "params": dict(self.params),
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> FakeSpec:
        try:
            return FakeSpec(
                column=str(d["column"]),
                kind=PIIKind(d["kind"]),
                locale=str(d.get("locale", "en_US")),
                position=int(d.get("position", -1)),
                null_fraction=float(d.get("null_fraction", 0.0)),
                params=dict(d.get("params", {}) or {}),
            )
        except (KeyError, ValueError, TypeError) as e:
            raise PIIError(f"invalid fake column spec {dict(d)!r}: {e}") from e


@functools.cache
def _faker(locale: str) -> Faker:
    """Validate a locale once (creating a Faker checks it)."""
    try:
        return Faker(locale)
    except AttributeError as e:
        raise PIIError(
            f"unknown Faker locale {locale!r}; use e.g. 'en_US', 'en_GB', 'de_DE'"
        ) from e


def _pool(fk: Faker, method: str, size: int = _POOL) -> np.ndarray:
    call = getattr(fk, method)
    return np.array(list(dict.fromkeys(str(call()) for _ in range(size))), dtype=object)


def _ascii_lower(words: np.ndarray) -> np.ndarray:
    s = pd.Series(words, dtype="str").str.normalize("NFKD").str.encode("ascii", "ignore")
    s = s.str.decode("ascii").str.lower().str.replace(r"[^a-z]", "", regex=True)
    s = s[s.str.len() > 0]
    return s.to_numpy(dtype=object) if len(s) else np.array(["user"], dtype=object)


def _cat(*parts: Any) -> pd.Series:
    """Element-wise string concatenation of arrays/scalars (pyarrow-backed, fast)."""
    out: pd.Series | None = None
    n = max(len(p) for p in parts if not isinstance(p, str))
    for p in parts:
        s = pd.Series([p] * n if isinstance(p, str) else p, dtype="str")
        out = s if out is None else out + s
    assert out is not None
    return out


def _digits(rng: np.random.Generator, n: int, width: int, low: int = 0) -> pd.Series:
    """``n`` random zero-padded numbers of ``width`` digits, at least ``low``."""
    return (
        pd.Series(rng.integers(low, 10**width, size=n), dtype="int64")
        .astype("str")
        .str.zfill(width)
    )


def _randomise_digits(
    templates: np.ndarray, n: int, rng: np.random.Generator, keep: float
) -> np.ndarray:
    """Draw ``n`` templates and replace their digits (after the first ``keep`` share) at random.

    Keeping the leading digits keeps country and area codes realistic; the first replaced
    digit of each run of digits is never 0, so house numbers do not start with 0.
    """
    width = max(len(t) for t in templates)
    chars = np.array(list(templates), dtype=f"U{width}").view(np.uint32).reshape(-1, width)
    is_digit = (chars >= 48) & (chars <= 57)
    order = np.cumsum(is_digit, axis=1)
    n_digits = is_digit.sum(axis=1, keepdims=True)
    change = is_digit & (order > np.ceil(keep * n_digits))
    run_start = is_digit & ~np.concatenate(
        [np.zeros((len(chars), 1), bool), is_digit[:, :-1]], axis=1
    )
    pick = rng.integers(0, len(templates), size=n)
    rand = rng.integers(48, 58, size=(n, width), dtype=np.uint32)
    rand = np.where(run_start[pick] & (rand == 48), 49, rand)
    out = np.where(change[pick], rand, chars[pick])
    return out.view(f"U{width}").ravel()


# --------------------------------------------------------------------------------------------
# one generator per kind: (spec, n, rng, faker) -> values
# --------------------------------------------------------------------------------------------


def _gen_email(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    first = _ascii_lower(_pool(fk, "first_name"))
    last = _ascii_lower(_pool(fk, "last_name"))
    f = first[rng.integers(0, len(first), n)]
    la = last[rng.integers(0, len(last), n)]
    num = pd.Series(rng.integers(1, 1000, n), dtype="int64").astype("str")
    style = rng.integers(0, 4, n)
    initial = pd.Series(f, dtype="str").str.slice(0, 1)
    local = _cat(f, "_", la, num)
    local = local.mask(style == 0, _cat(f, ".", la))
    local = local.mask(style == 1, _cat(initial, la, num))
    local = local.mask(style == 2, _cat(f, la, num))
    domain = np.array(["example.com", "example.org", "example.net"], dtype=object)
    return _cat(local, "@", domain[rng.integers(0, 3, n)])


def _gen_phone(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    templates = _pool(fk, "phone_number", 300)
    return pd.Series(_randomise_digits(templates, n, rng, keep=0.4), dtype="str")


def _gen_name(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    part = spec.params.get("part", "full")
    first = _pool(fk, "first_name")
    last = _pool(fk, "last_name")
    f = first[rng.integers(0, len(first), n)]
    la = last[rng.integers(0, len(last), n)]
    if part == "first":
        return pd.Series(f, dtype="str")
    if part == "last":
        return pd.Series(la, dtype="str")
    return _cat(f, " ", la)


def _gen_address(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    templates = _pool(fk, "street_address", 500)
    templates = np.array([t.replace("\n", ", ") for t in templates], dtype=object)
    return pd.Series(_randomise_digits(templates, n, rng, keep=0.0), dtype="str")


def _gen_postcode(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    pool = _pool(fk, "postcode", 2000)
    return pd.Series(pool[rng.integers(0, len(pool), n)], dtype="str")


_CARD_BRANDS = (
    ("4", 16, 0.5),
    ("51", 16, 0.08),
    ("52", 16, 0.08),
    ("53", 16, 0.07),
    ("54", 16, 0.07),
    ("34", 15, 0.05),
    ("37", 15, 0.05),
    ("6011", 16, 0.1),
)


def _gen_card(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    weights = np.array([b[2] for b in _CARD_BRANDS])
    brand = rng.choice(len(_CARD_BRANDS), size=n, p=weights / weights.sum())
    body = rng.integers(0, 10, size=(n, 15))  # right-aligned 15-digit body, check digit last
    for i, (prefix, length, _) in enumerate(_CARD_BRANDS):
        rows = brand == i
        start = 16 - length  # 0 for 16-digit cards, 1 for 15-digit (column 0 zeroed)
        body[rows, :start] = 0
        for j, ch in enumerate(prefix):
            body[rows, start + j] = int(ch)
    check = luhn_check_digit(body)
    full = np.concatenate([body, check[:, None]], axis=1).astype(np.uint8) + 48
    s = pd.Series(full.view("S16").ravel().astype("U16"), dtype="str")
    return s.str.lstrip("0")  # no brand starts with 0: strips only the 15-digit padding


def _gen_iban(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    pool = _pool(fk, "iban", 50)
    bban = _randomise_digits(np.array([t[4:] for t in pool], dtype=object), n, rng, keep=0.0)
    country = pd.Series(_pool_pick(pool, rng, n), dtype="str")
    bb = pd.Series(bban, dtype="str")
    # ISO 13616 check digits: 98 - mod97(BBAN + country + "00")
    r = mod97(bb + country + "00")
    check = pd.Series(98 - r, dtype="int64").astype("str").str.zfill(2)
    return country + check + bb


def _pool_pick(pool: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    countries = np.array(sorted({p[:2] for p in pool}), dtype=object)
    return countries[rng.integers(0, len(countries), n)]


def _gen_ssn(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    area = rng.integers(1, 900, n)
    area = np.where(area == 666, 665, area)
    a = pd.Series(area, dtype="int64").astype("str").str.zfill(3)
    g = _digits(rng, n, 2, low=1).str.replace("^00$", "01", regex=True)
    s = _digits(rng, n, 4, low=1)
    return _cat(a, "-", g, "-", s)


def _gen_ip(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    if int(spec.params.get("version", 4)) == 6:
        groups = rng.integers(0, 0x10000, size=(n, 8))
        groups[:, 0] = rng.integers(0x2000, 0x3000, n)  # global unicast
        hexes = [pd.Series([f"{x:x}" for x in groups[:, j]], dtype="str") for j in range(8)]
        out = hexes[0]
        for h in hexes[1:]:
            out = out + ":" + h
        return out
    first = rng.integers(1, 224, n)
    first = np.where(np.isin(first, (10, 127)), first + 1, first)  # skip private/loopback
    octets = [pd.Series(first, dtype="int64").astype("str")] + [
        pd.Series(rng.integers(0, 256, n), dtype="int64").astype("str") for _ in range(3)
    ]
    return _cat(octets[0], ".", octets[1], ".", octets[2], ".", octets[3])


def _gen_dob(spec: FakeSpec, n: int, rng: np.random.Generator, fk: Faker) -> pd.Series:
    lo = np.datetime64(f"{int(spec.params.get('min_year', 1940))}-01-01", "D")
    hi = np.datetime64(f"{int(spec.params.get('max_year', 2006))}-12-31", "D")
    days = lo + rng.integers(0, int((hi - lo).astype(int)) + 1, n).astype("timedelta64[D]")
    fmt = spec.params.get("format", "iso")
    if fmt == "datetime":
        return pd.Series(days.astype("datetime64[s]"))
    iso = pd.Series(np.datetime_as_string(days, unit="D"), dtype="str")
    if fmt == "yyyymmdd":
        return iso.str.replace("-", "", regex=False).astype("int64")
    return iso


_GENERATORS: dict[PIIKind, Callable[[FakeSpec, int, np.random.Generator, Faker], pd.Series]] = {
    PIIKind.EMAIL: _gen_email,
    PIIKind.PHONE: _gen_phone,
    PIIKind.PERSON_NAME: _gen_name,
    PIIKind.ADDRESS: _gen_address,
    PIIKind.POSTAL_CODE: _gen_postcode,
    PIIKind.CREDIT_CARD: _gen_card,
    PIIKind.IBAN: _gen_iban,
    PIIKind.NATIONAL_ID: _gen_ssn,
    PIIKind.IP_ADDRESS: _gen_ip,
    PIIKind.DATE_OF_BIRTH: _gen_dob,
}
#: Kinds the ``fake`` policy can regenerate.
FAKEABLE_KINDS = frozenset(_GENERATORS)
# kinds whose fakes must be unique and never equal a real value
_UNIQUE = {
    PIIKind.EMAIL,
    PIIKind.PHONE,
    PIIKind.CREDIT_CARD,
    PIIKind.IBAN,
    PIIKind.NATIONAL_ID,
    PIIKind.IP_ADDRESS,
}
# kinds where equalling a real value is common and harmless (few distinct values)
_NO_EXCLUSION = {PIIKind.POSTAL_CODE, PIIKind.DATE_OF_BIRTH}


def _as_key(values: pd.Series) -> pd.Series:
    return values.astype("str").str.strip().str.lower()


def _one_column(
    spec: FakeSpec, n: int, random_state: int, exclude: Collection[Any] | None
) -> pd.Series:
    rng = np.random.default_rng([int(random_state), zlib.crc32(spec.column.encode())])
    fk = Faker(spec.locale)  # a fresh instance: no state shared between calls or threads
    fk.seed_instance(int(rng.integers(0, 2**32)))
    gen = _GENERATORS[spec.kind]
    values = gen(spec, n, rng, fk).reset_index(drop=True)
    if n and spec.kind not in _NO_EXCLUSION and spec.params.get("part", "full") == "full":
        banned = pd.Index(_as_key(pd.Series(list(exclude or ()), dtype=object).dropna()))
        for _ in range(_RETRIES):
            keys = _as_key(values)
            bad = keys.isin(banned).to_numpy(bool, copy=True)
            if spec.kind in _UNIQUE:
                bad |= keys.duplicated().to_numpy(bool)
            if not bad.any():
                break
            redo = gen(spec, int(bad.sum()), rng, fk).to_numpy()
            values = values.copy()
            values[bad] = redo
    if spec.params.get("numeric") and spec.kind is not PIIKind.DATE_OF_BIRTH:
        digits = (
            values.astype("str")
            .str.replace(r"\s*(?:x|ext\.?)\s*[0-9]+$", "", regex=True)
            .str.replace(r"[^0-9]", "", regex=True)
            .str.slice(0, 18)
        )
        values = pd.to_numeric(digits, errors="coerce").astype("Int64")
    if spec.null_fraction > 0 and n:
        missing = rng.random(n) < spec.null_fraction
        if values.dtype == "int64":
            values = values.astype("Int64")
        values = values.mask(missing)
    return values


def fake_columns(
    entries: Iterable[FakeSpec | Mapping[str, Any]],
    n: int,
    random_state: int = 0,
    *,
    exclude: Mapping[str, Collection[Any]] | None = None,
) -> pd.DataFrame:
    """Generate ``n`` rows of fake values for each spec, as one frame.

    Parameters
    ----------
    entries: :class:`FakeSpec` s (or their ``to_dict()`` form), e.g. ``report.plan.fakes``.
    n: number of rows.
    random_state: seed; the same seed gives the same frame.
    exclude: ``{column: real values}`` the fakes must not equal (compared case-insensitively,
        whitespace-trimmed).  Honoured for every kind but postal codes, dates of birth and
        first-/last-name-only columns, whose few distinct values make collisions harmless.
        E-mails, phones, cards, IBANs, SSNs and IPs are also unique within the column.

    Examples
    --------
    >>> spec = FakeSpec("email", PIIKind.EMAIL)
    >>> a = fake_columns([spec], 3, random_state=1)
    >>> a.equals(fake_columns([spec], 3, random_state=1)), a["email"].str.contains("@").all()
    (True, np.True_)
    """
    if n < 0:
        raise PIIError(f"cannot generate a negative number of rows ({n})")
    specs = [e if isinstance(e, FakeSpec) else FakeSpec.from_dict(e) for e in entries]
    cols = {s.column: _one_column(s, n, random_state, (exclude or {}).get(s.column)) for s in specs}
    return pd.DataFrame(cols, index=pd.RangeIndex(n))
