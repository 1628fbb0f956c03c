"""Patterns and checksums behind PII detection and redaction.

Everything here works on whole :class:`pandas.Series` of strings (compiled regular expressions
through ``.str``) or on NumPy digit matrices (Luhn, IBAN mod-97); nothing loops over rows in
Python.  The patterns avoid ``\\w``/``\\b`` so that pandas' two regex engines (RE2 for
pyarrow-backed strings, Python ``re`` otherwise) agree on the result.
"""

from __future__ import annotations

import functools
import importlib
import re

import numpy as np
import pandas as pd

from synthcust.schema.model import PIIKind

#: Words that say "this value is a missing value", ignored when measuring shares.
MISSING_MARKERS = frozenset(
    {
        "",
        "na",
        "n/a",
        "nan",
        "none",
        "null",
        "nil",
        "-",
        "--",
        "?",
        "unknown",
        "missing",
        "not provided",
        "not available",
        "#n/a",
    }
)

# --------------------------------------------------------------------------------------------
# value patterns (full values)
# --------------------------------------------------------------------------------------------

# The local part may only START where the previous character cannot belong to it: without the
# look-behind an unanchored search retries from every position of a long run ("aaaa...",
# a base64 blob), which is quadratic in the value's length (issue 20: 2.4 MB took hours).
_EMAIL_LOCAL = r"[A-Za-z0-9._%+'\-]"
_EMAIL = (
    rf"(?<!{_EMAIL_LOCAL}){_EMAIL_LOCAL}+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{{2,}}"
)
EMAIL_FULL = re.compile(rf"^{_EMAIL}$")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (
    rf"(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}"
    rf"|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}"
    rf"|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?::{_H}){{1,6}}|:(?::{_H}){{1,7}}|::)"
)
IP_FULL = re.compile(rf"^(?:{_IPV4}|{_IPV6})$")
IPV4_FULL = re.compile(rf"^{_IPV4}$")
SSN_FULL = re.compile(r"^(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}$")
CARD_SHAPE = re.compile(r"^[0-9](?:[ \-]?[0-9]){12,18}$")
IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
POSTCODE_DISTINCT = re.compile(
    r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"  # UK
    r"|[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]"  # Canada
    r"|[0-9]{5}-[0-9]{4}"  # US ZIP+4
    r"|[1-9][0-9]{3} ?[A-Z]{2})$"  # Netherlands
)
POSTCODE_LOOSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,9}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 .\-()/]+$")
_PHONE_EXT = re.compile(r"(?<!\s)\s*(?:x|ext\.?|#)\s*[0-9]{1,6}$")  # look-behind: linear time
_PHONE_FORMATTED = re.compile(r"^(?:\+|00|\()|[ .\-/()]|^0[1-9][0-9]{8,9}$")
_NOT_PHONE = re.compile(
    r"^-|^[0-9]+[.,][0-9]+$"  # negative numbers, decimals
    r"|^[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}$|^[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}$"  # dates
    r"|^[0-9]{3}-[0-9]{2}-[0-9]{4}$|^[0-9]{2}-[0-9]{7}$"  # SSN and EIN shapes
    r"|[ \-][0-9X]$"  # a lone final check character: ISBNs
)
_LETTERISH = re.compile(r"[^0-9\s.,:;/\-+()#@_'\"!?&*%$=\[\]{}<>|~^`\\]")
_PERSON_CHARS = r"A-Za-zÀ-ÖØ-öø-ÿĀ-ſ'’\-"
_UPPER = r"A-ZÀ-ÖØ-ÞĀ-Ž"
_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|Herr|Frau|Mme|Mlle|M)\.?\s+)?"
_TOKEN = rf"[{_UPPER}][{_PERSON_CHARS}]*\.?"
_SUFFIX = r"(?:,?\s+(?:Jr|Sr|II|III|IV|MD|DDS|DVM|PhD|Esq|B\.Sc|M\.Sc|B\.A|M\.A)\.?)?"
PERSON_FULL = re.compile(
    rf"^(?:{_TITLE}{_TOKEN}(?:\s+{_TOKEN}){{1,3}}{_SUFFIX}|{_TOKEN},\s*{_TOKEN}(?:\s+{_TOKEN})?)$"
)
PERSON_LOOSE = re.compile(rf"^[{_PERSON_CHARS}.,\s]+$")
_FIRST_TOKEN = re.compile(rf"^{_TITLE}([^\s,]+)")
_AFTER_COMMA = re.compile(r",\s*([^\s,]+)")


@functools.cache
def _street_suffixes() -> str:
    try:
        from faker.providers.address.en_US import Provider

        words = set(Provider.street_suffixes)
    except (ImportError, AttributeError):  # pragma: no cover - Faker is a dependency
        words = set()
    words |= {
        "St",
        "Street",
        "Ave",
        "Av",
        "Avenue",
        "Rd",
        "Road",
        "Ln",
        "Lane",
        "Blvd",
        "Boulevard",
        "Dr",
        "Drive",
        "Ct",
        "Court",
        "Pl",
        "Place",
        "Ter",
        "Terrace",
        "Cir",
        "Circle",
        "Pkwy",
        "Parkway",
        "Hwy",
        "Highway",
        "Sq",
        "Square",
        "Trl",
        "Trail",
        "Way",
        "Close",
        "Crescent",
        "Gardens",
        "Mews",
        "Grove",
        "Hill",
        "Row",
        "Walk",
        "Wynd",
        "Parade",
        "Esplanade",
        "Embankment",
        "Broadway",
        "Plaza",
    }
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


@functools.cache
def address_full() -> re.Pattern[str]:
    """Street address at the start of a value: ``12 Baker Street``, ``Hauptstraße 5``, ..."""
    sfx = _street_suffixes()
    word = r"[A-Za-zÀ-ÿ0-9'’.\-]+"
    return re.compile(
        rf"^\s*(?:"
        rf"[0-9]{{1,6}}[A-Za-z]?(?:[-/][0-9]{{1,5}})?,?\s+(?:{word}\s+){{0,5}}(?i:{sfx})\.?(?:$|[\s,])"
        rf"|(?i:{word}(?:\s+{word}){{0,3}}?(?:straße|strasse|str\.|weg|gasse|platz|allee|ring"
        rf"|damm|ufer|laan|straat|gracht|plein|vej|gatan|vägen)\s+[0-9]{{1,5}}[a-z]?)(?:$|[\s,/])"
        rf"|[0-9]{{1,5}}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|chemin"
        rf"|allée|impasse|quai|route|cours)\s"
        rf"|(?i:calle|c/|avenida|avda\.?|via|viale|piazza|corso|rua)\s+{word}.*[0-9]"
        rf")"
    )


@functools.cache
def first_names() -> np.ndarray:
    """Lower-cased first names from Faker's person providers of a dozen locales."""
    names: set[str] = set()
    for loc in (
        "en_US",
        "en_GB",
        "de_DE",
        "fr_FR",
        "es_ES",
        "it_IT",
        "nl_NL",
        "pt_BR",
        "pl_PL",
        "sv_SE",
        "en_IN",
        "tr_TR",
        "da_DK",
    ):
        try:
            prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except (ImportError, AttributeError):  # pragma: no cover
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            names.update(str(x).lower() for x in getattr(prov, attr, ()) or ())
    return np.array(sorted(names), dtype=object)


# --------------------------------------------------------------------------------------------
# checksums (NumPy over digit matrices)
# --------------------------------------------------------------------------------------------


def luhn_valid(digits: pd.Series) -> np.ndarray:
    """Vectorised Luhn check of strings of 13-19 digits (others are ``False``).

    >>> luhn_valid(pd.Series(["4111111111111111", "4111111111111112"])).tolist()
    [True, False]
    """
    s = pd.Series(digits, dtype="str").fillna("")
    ok = s.str.fullmatch(r"[0-9]{13,19}").fillna(False).to_numpy(bool)
    out = np.zeros(len(s), dtype=bool)
    if not ok.any():
        return out
    padded = s[ok].str.zfill(19).to_numpy(dtype="S19")  # left zeros do not change the sum
    d = padded.view(np.uint8).reshape(-1, 19).astype(np.int16) - 48
    doubled = d[:, -2::-2] * 2
    doubled -= 9 * (doubled > 9)
    total = d[:, ::-2].sum(axis=1) + doubled.sum(axis=1)
    out[ok] = (total % 10 == 0) & (d.sum(axis=1) > 0)
    return out


def luhn_check_digit(body: np.ndarray) -> np.ndarray:
    """Check digit completing each row of a ``(n, L)`` digit matrix (right-aligned bodies)."""
    d = body.astype(np.int16)
    # the check digit will be position 0, so the body's rightmost digit is doubled
    doubled = d[:, ::-2] * 2
    doubled -= 9 * (doubled > 9)
    total = doubled.sum(axis=1) + d[:, -2::-2].sum(axis=1)
    return (10 - total % 10) % 10


def mod97(strings: pd.Series) -> np.ndarray:
    """ISO 7064 mod-97 of upper-case alphanumeric strings (letters count as 10..35)."""
    s = pd.Series(strings, dtype="str").fillna("")
    width = max(int(s.str.len().max() or 1), 1)
    m = s.to_numpy(dtype=f"S{width}").view(np.uint8).reshape(-1, width).astype(np.int64)
    r = np.zeros(len(s), dtype=np.int64)
    for j in range(width):  # loop over character positions, vectorised over rows
        c = m[:, j]
        digit = (c >= 48) & (c <= 57)
        letter = (c >= 65) & (c <= 90)
        r = np.where(digit, (r * 10 + c - 48) % 97, r)
        r = np.where(letter, (r * 100 + c - 55) % 97, r)
    return r


def iban_valid(values: pd.Series) -> np.ndarray:
    """Vectorised IBAN check: shape ``CCdd...`` and mod-97 remainder 1 (spaces ignored).

    >>> ok, bad = "DE89 3704 0044 0532 0130 00", "DE88 3704 0044 0532 0130 00"
    >>> iban_valid(pd.Series([ok, bad])).tolist()
    [True, False]
    """
    s = pd.Series(values, dtype="str").fillna("").str.replace(" ", "", regex=False).str.upper()
    shape = s.str.fullmatch(IBAN_SHAPE).fillna(False).to_numpy(bool)
    out = np.zeros(len(s), dtype=bool)
    if shape.any():
        t = s[shape]
        out[shape] = mod97(t.str.slice(4) + t.str.slice(0, 4)) == 1
    return out


# --------------------------------------------------------------------------------------------
# shares over a sample of string values
# --------------------------------------------------------------------------------------------


def _share(mask: pd.Series | np.ndarray) -> float:
    arr = np.asarray(mask, dtype=bool)
    return float(arr.mean()) if arr.size else 0.0


def email_mask(v: pd.Series) -> pd.Series:
    return v.str.fullmatch(EMAIL_FULL)


def ip_mask(v: pd.Series) -> pd.Series:
    return v.str.fullmatch(IP_FULL)


def ssn_mask(v: pd.Series) -> pd.Series:
    return v.str.fullmatch(SSN_FULL)


def card_mask(v: pd.Series) -> np.ndarray:
    shape = v.str.fullmatch(CARD_SHAPE).to_numpy(bool)
    return shape & luhn_valid(v.str.replace(r"[ \-]", "", regex=True))


def iban_mask(v: pd.Series) -> np.ndarray:
    return iban_valid(v)


def phone_masks(v: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(phone-like, phone-like *and* formatted) masks; bare digit strings are only phone-like."""
    main = v.str.replace(_PHONE_EXT, "", regex=True)
    digits = main.str.count(r"[0-9]").to_numpy(float)
    like = (
        main.str.fullmatch(_PHONE_CHARS).to_numpy(bool)
        & (digits >= 7)
        & (digits <= 15)
        & ~main.str.contains(_NOT_PHONE).to_numpy(bool)
        & ~main.str.fullmatch(IPV4_FULL).to_numpy(bool)
    )
    formatted = like & main.str.contains(_PHONE_FORMATTED).to_numpy(bool)
    return like, formatted


def postcode_mask(v: pd.Series) -> pd.Series:
    return v.str.upper().str.fullmatch(POSTCODE_DISTINCT)


def address_mask(v: pd.Series) -> pd.Series:
    return v.str.contains(address_full())


def person_masks(v: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(looks like 2-4 capitalised name tokens, first token is a known first name)."""
    shape = v.str.fullmatch(PERSON_FULL).to_numpy(bool)
    names = first_names()
    first = v.str.extract(_FIRST_TOKEN, expand=False).str.lower().str.strip(".")
    after = v.str.extract(_AFTER_COMMA, expand=False).str.lower()
    # object dtype: pandas' hash-table isin, much faster than pyarrow's for a big value set
    known = first.astype(object).isin(names).to_numpy(bool) | after.astype(object).isin(
        names
    ).to_numpy(bool)
    return shape, known


def letterish_share(v: pd.Series) -> float:
    return _share(v.str.contains(_LETTERISH))


# --------------------------------------------------------------------------------------------
# PII inside free text
# --------------------------------------------------------------------------------------------

_NB = r"(?<![0-9A-Za-z])"  # not preceded by a letter/digit
_NA = r"(?![0-9A-Za-z])"
_TEXT_PATTERNS: dict[PIIKind, re.Pattern[str]] = {
    PIIKind.EMAIL: re.compile(_EMAIL),
    PIIKind.IBAN: re.compile(
        rf"{_NB}[A-Z]{{2}}[0-9]{{2}}(?: ?[A-Z0-9]{{4}}){{2,7}}(?: ?[A-Z0-9]{{1,3}})?{_NA}"
    ),
    PIIKind.CREDIT_CARD: re.compile(r"(?<![0-9\-])[0-9](?:[ \-]?[0-9]){12,18}(?![0-9])"),
    PIIKind.NATIONAL_ID: re.compile(
        r"(?<![0-9\-])(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9\-])"
    ),
    PIIKind.IP_ADDRESS: re.compile(  # not a version: "Chrome/13.0.107.0", "rv:1.9.7.20"
        rf"(?:(?<=[Ii][Pp]:)|(?<![0-9./:A-Za-z])){_IPV4}(?!\.?[0-9])"
        rf"|{_NB}(?:{_H}:){{7}}{_H}{_NA}"
    ),
    PIIKind.PHONE: re.compile(
        r"(?<![0-9A-Za-z+])(?:"
        r"(?:\+|00)[1-9][0-9]{0,2}[ .\-]?(?:\(0\) ?)?(?:\([0-9]{1,5}\) ?)?[0-9][0-9 .\-]{5,14}[0-9]"
        r"|\(?[0-9]{3}\)?[ .\-]?[0-9]{3}[ .\-][0-9]{4}"
        r"|0[1-9][0-9]{1,4}[ \-][0-9]{3,4}[ \-]?[0-9]{3,4}"
        r")(?:\s?(?:x|ext\.?)\s?[0-9]{1,6})?(?![0-9])"
    ),
}

#: What each text kind is replaced by when redacting, in the order redaction runs
#: (e-mails first because they can contain digits; phones last as the loosest pattern).
REDACTION_TAGS: dict[PIIKind, str] = {
    PIIKind.EMAIL: "[EMAIL]",
    PIIKind.IBAN: "[IBAN]",
    PIIKind.CREDIT_CARD: "[CARD]",
    PIIKind.NATIONAL_ID: "[SSN]",
    PIIKind.IP_ADDRESS: "[IP]",
    PIIKind.PHONE: "[PHONE]",
}
# Redaction is deliberately broader than detection: every card- or SSN-shaped span goes,
# checksum or not.
REDACTION_PATTERNS: dict[PIIKind, re.Pattern[str]] = {
    **_TEXT_PATTERNS,
    PIIKind.NATIONAL_ID: re.compile(r"(?<![0-9\-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9\-])"),
}


def _rows_with_valid(v: pd.Series, pat: re.Pattern[str], check) -> np.ndarray:
    """Rows of ``v`` holding at least one match of ``pat`` that passes ``check``."""
    found = v.str.contains(pat).to_numpy(bool)
    if not found.any():
        return found
    matches = v[found].reset_index(drop=True).str.extractall(f"({pat.pattern})")[0]
    cleaned = matches.str.replace(r"[ \-]", "", regex=True)
    ok = check(cleaned)
    rows = np.unique(matches.index.get_level_values(0)[ok])
    out = np.zeros(len(v), dtype=bool)
    out[np.flatnonzero(found)[rows]] = True
    return out


def text_kind_masks(values: pd.Series) -> dict[PIIKind, np.ndarray]:
    """For each text kind, which values contain at least one (checksum-valid) occurrence."""
    v = pd.Series(values, dtype="str").reset_index(drop=True)
    rest = v  # the text with the spans of the kinds already looked for blanked out
    out: dict[PIIKind, np.ndarray] = {}
    for kind, pat in _TEXT_PATTERNS.items():  # same order as redaction: phones last
        if kind is PIIKind.CREDIT_CARD:
            out[kind] = _rows_with_valid(v, pat, luhn_valid)
        elif kind is PIIKind.IBAN:
            out[kind] = _rows_with_valid(v, pat, iban_valid)
        else:
            out[kind] = rest.str.contains(pat).fillna(False).to_numpy(bool)
        if kind is not PIIKind.PHONE:  # an IBAN's "0044 0532 ..." is not also a phone
            rest = rest.str.replace(REDACTION_PATTERNS[kind], " ", regex=True)
    return out


def detect_pii_kinds_in_text(
    series: pd.Series, *, sample_size: int | None = None, random_state: int = 0
) -> dict[PIIKind, float]:
    """Share of non-missing values containing each kind of PII that can hide in free text.

    Kinds reported: e-mail, phone, credit card (Luhn-checked), IBAN (mod-97-checked),
    US SSN and IP address; every key is present (``0.0`` when absent).

    Examples
    --------
    >>> s = pd.Series(["call me on +44 20 7946 0958", "nothing here", "mail a@b.com", None])
    >>> shares = detect_pii_kinds_in_text(s)
    >>> round(shares[PIIKind.EMAIL], 2), round(shares[PIIKind.PHONE], 2)
    (0.33, 0.33)
    """
    v = pd.Series(series).dropna()
    if sample_size is not None and len(v) > sample_size:
        v = v.sample(n=sample_size, random_state=random_state)
    v = v.astype("str")
    if v.empty:
        return {k: 0.0 for k in _TEXT_PATTERNS}
    return {k: _share(m) for k, m in text_kind_masks(v).items()}


def redact_text(values: pd.Series) -> tuple[pd.Series, dict[PIIKind, int]]:
    """Replace PII spans with ``[EMAIL]``-style tags; returns the text and spans per kind."""
    out = values
    counts: dict[PIIKind, int] = {}
    for kind, pat in REDACTION_PATTERNS.items():
        n = int(out.str.count(pat).sum())
        if n:
            counts[kind] = n
            out = out.str.replace(pat, REDACTION_TAGS[kind], regex=True)
    return out, counts
