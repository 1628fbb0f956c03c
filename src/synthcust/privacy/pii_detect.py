"""Find personal data (PII) in a customer table, from column names *and* values.

:func:`detect_pii` looks at each column's name (the head noun: ``customer_email`` is an
e-mail, ``email_opt_in`` is not) and at a random sample of its values (vectorised regular
expressions, NumPy Luhn and IBAN mod-97 checks).  A name alone flags a column only when its
values agree (a ``phone`` column of ``iPhone``/``Android`` is not a phone number); values alone
flag a column when a high share of them match a distinctive pattern.

What is deliberately *not* flagged: ids such as ``customer_id`` and identifiers such as
``username``/``login`` (they are keys: schema inference marks them ``id`` and synthesizers
regenerate them; they *are* flagged when their values are e-mail addresses), ``birth_year``,
cities, countries, ages, amounts and ordinary dates.  Handling what was found is
:func:`synthcust.privacy.apply_pii`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust.privacy import pii_names as pn
from synthcust.privacy import pii_patterns as pp
from synthcust.privacy.pii_patterns import detect_pii_kinds_in_text
from synthcust.schema.model import PIIKind

__all__ = ["KIND_LABELS", "PIIFinding", "detect_pii", "detect_pii_kinds_in_text"]

#: Plain words for each kind, used in evidence strings.
KIND_LABELS: dict[PIIKind, str] = {
    PIIKind.EMAIL: "e-mail addresses",
    PIIKind.PHONE: "phone numbers",
    PIIKind.PERSON_NAME: "person names",
    PIIKind.ADDRESS: "street addresses",
    PIIKind.POSTAL_CODE: "postal codes",
    PIIKind.CREDIT_CARD: "card numbers passing the Luhn check",
    PIIKind.IBAN: "IBANs with valid check digits",
    PIIKind.NATIONAL_ID: "US social security numbers",
    PIIKind.IP_ADDRESS: "IP addresses",
    PIIKind.DATE_OF_BIRTH: "dates",
    PIIKind.TEXT_WITH_PII: "text containing PII",
}

# share of sampled values a pattern must match to flag a column from values alone
_VALUE_SHARE = {
    PIIKind.EMAIL: 0.5,
    PIIKind.IBAN: 0.5,
    PIIKind.CREDIT_CARD: 0.5,  # random digit strings pass Luhn 10% of the time
    PIIKind.NATIONAL_ID: 0.5,
    PIIKind.IP_ADDRESS: 0.8,
    PIIKind.POSTAL_CODE: 0.8,
    PIIKind.PHONE: 0.8,
    PIIKind.ADDRESS: 0.6,
    PIIKind.PERSON_NAME: 0.7,
}
_TEXT_SHARE = 0.02
# kinds that flag a column of short values when a few of them hold one; not cards, because
# one in ten random 13-19 digit ids (barcodes, order numbers) passes the Luhn check
_STRONG_TEXT_KINDS = (PIIKind.EMAIL, PIIKind.IBAN, PIIKind.NATIONAL_ID)


@dataclass(frozen=True)
class PIIFinding:
    """One column found to hold personal data.

    Attributes
    ----------
    column: the column's label.
    kind: what it holds.
    confidence: 0-1, how sure the detector is (name and values agreeing score highest).
    evidence: why, in words a user can check.
    """

    column: str
    kind: PIIKind
    confidence: float
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind.value,
            "confidence": self.confidence,
            "evidence": self.evidence,
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> PIIFinding:
        return PIIFinding(
            str(d["column"]), PIIKind(d["kind"]), float(d["confidence"]), str(d["evidence"])
        )


def detect_pii(
    df: pd.DataFrame, *, sample_size: int = 2000, random_state: int = 0
) -> dict[str, PIIFinding]:
    """Find the columns of ``df`` holding personal data.

    Parameters
    ----------
    df: the table; it is not modified.
    sample_size: values sampled per column (non-missing ones) to test patterns on.
    random_state: seed of that sample, for reproducible findings.

    Returns
    -------
    ``{column: PIIFinding}`` for the PII columns only, in column order.

    Examples
    --------
    >>> df = pd.DataFrame({"c1": ["ann@example.com", "bob@example.org"], "age": [31, 45]})
    >>> f = detect_pii(df)
    >>> f["c1"].kind, "age" in f
    (<PIIKind.EMAIL: 'email'>, False)
    """
    if sample_size < 1:
        raise ValueError(f"sample_size must be at least 1, got {sample_size}")
    out: dict[str, PIIFinding] = {}
    for i, col in enumerate(df.columns):
        f = _classify(col, df.iloc[:, i], sample_size, random_state)
        if f is not None:
            out[col] = f
    return out


# --------------------------------------------------------------------------------------------


#: Characters of each value that detection looks at (values are cut there first, so a 50 MB
#: blob costs what a 10,000-character one does). Redaction always covers the whole value.
MAX_SCAN_CHARS = 10_000


def _pct(share: float) -> str:
    return f"{share:.0%}" if share < 0.995 or share == 1 else ">99%"


def _name_conf(share: float) -> float:
    return round(min(0.99, 0.75 + 0.25 * share), 2)


def _value_conf(share: float) -> float:
    return round(min(0.95, 0.45 + 0.5 * share), 2)


def _sample(s: pd.Series, n: int, random_state: int) -> pd.Series:
    s = s.dropna()
    if len(s) > n:
        s = s.sample(n=n, random_state=random_state)
    return s.reset_index(drop=True)


def _classify(col: Any, s: pd.Series, n: int, rs: int) -> PIIFinding | None:
    if pd.api.types.is_bool_dtype(s.dtype):
        return None
    name_kind, norm = pn.match_name(col)
    sample = _sample(s, n, rs)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if name_kind is PIIKind.DATE_OF_BIRTH:
            what = f"{len(sample)} sampled values are dates" if len(sample) else "column is empty"
            return PIIFinding(col, name_kind, 0.99, f"name matches {norm!r}; {what}")
        return None
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _classify_numeric(col, sample, name_kind, norm)
    # The length cap bounds the work per value: no full-value kind is that long, and PII inside
    # free text is judged on each value's first MAX_SCAN_CHARS characters (issue 20).
    values = sample.astype("str").str.slice(0, MAX_SCAN_CHARS).str.strip()
    values = values[~values.str.lower().isin(pp.MISSING_MARKERS)].reset_index(drop=True)
    return _classify_strings(col, values, name_kind, norm)


def _integer_strings(sample: pd.Series) -> pd.Series | None:
    """Sampled numbers as digit strings, or ``None`` when they are not whole numbers."""
    if sample.empty:
        return pd.Series([], dtype="str")
    if pd.api.types.is_complex_dtype(sample.dtype):
        return None
    arr = sample.to_numpy()
    if pd.api.types.is_float_dtype(sample.dtype):
        if (
            not np.all(np.isfinite(arr))
            or not np.all(arr == np.round(arr))
            or np.abs(arr).max() >= 2**63
        ):
            return None
        arr = arr.astype(np.int64)
    return pd.Series(np.abs(arr.astype(np.int64)), dtype="int64").astype("str")


def _classify_numeric(
    col: Any, sample: pd.Series, name_kind: PIIKind | None, norm: str
) -> PIIFinding | None:
    digits = _integer_strings(sample)
    n = len(sample)
    if n == 0:
        if name_kind is not None and name_kind not in _STRING_ONLY:
            return PIIFinding(col, name_kind, 0.6, f"name matches {norm!r}; column is empty")
        return None
    if digits is None:  # fractional numbers: amounts, scores... never PII here
        return None
    lens = digits.str.len().to_numpy()
    luhn = pp.luhn_valid(digits)
    if name_kind is not None:
        ok, share, what = _NUMERIC_CHECKS.get(name_kind, _never)(digits, lens, sample)
        if ok:
            return PIIFinding(
                col,
                name_kind,
                _name_conf(share),
                f"name matches {norm!r}; {_pct(share)} of {n} sampled values are {what}",
            )
    share = float(luhn.mean())
    if share >= _VALUE_SHARE[PIIKind.CREDIT_CARD]:
        return PIIFinding(
            col,
            PIIKind.CREDIT_CARD,
            _value_conf(share),
            f"{_pct(share)} of {n} sampled values are {KIND_LABELS[PIIKind.CREDIT_CARD]}",
        )
    return None


def _never(*_: Any) -> tuple[bool, float, str]:
    return False, 0.0, ""


def _numeric_share(mask: np.ndarray, need: float, what: str) -> tuple[bool, float, str]:
    share = float(np.mean(mask)) if mask.size else 0.0
    return share >= need, share, what


_STRING_ONLY = {PIIKind.EMAIL, PIIKind.PERSON_NAME, PIIKind.ADDRESS, PIIKind.IP_ADDRESS}
_NUMERIC_CHECKS: dict[PIIKind, Callable[..., tuple[bool, float, str]]] = {
    PIIKind.PHONE: lambda d, lens, s: _numeric_share(
        (lens >= 7) & (lens <= 15), 0.5, "numbers of 7-15 digits"
    ),
    PIIKind.POSTAL_CODE: lambda d, lens, s: (
        _numeric_share((lens <= 6) & (s.to_numpy() >= 0), 0.9, "numbers of up to 6 digits")
        if s.nunique() > 2
        else (False, 0.0, "")
    ),
    PIIKind.NATIONAL_ID: lambda d, lens, s: _numeric_share(
        lens >= 5, 0.5, "numbers of 5 or more digits"
    ),
    PIIKind.CREDIT_CARD: lambda d, lens, s: _numeric_share(
        (lens >= 13) & (lens <= 19), 0.5, "numbers of 13-19 digits"
    ),
    PIIKind.IBAN: lambda d, lens, s: _numeric_share(lens >= 6, 0.5, "account numbers"),
    PIIKind.DATE_OF_BIRTH: lambda d, lens, s: _numeric_share(
        (s.to_numpy() >= 1900_01_01) & (s.to_numpy() <= 2100_12_31),
        0.8,
        "dates written as yyyymmdd",
    ),
}


def _unique_enough(v: pd.Series) -> bool:
    return v.nunique() >= min(20, 0.5 * len(v))


def _date_share(v: pd.Series) -> float:
    if v.empty:
        return 0.0
    shaped = v.str.contains(r"[0-9]{1,4}[-/. ][0-9A-Za-z]{1,9}[-/. ,]+[0-9]{1,4}").to_numpy(bool)
    parsed = pd.to_datetime(v, errors="coerce", format="ISO8601")
    if parsed.notna().mean() < 0.8:
        parsed = pd.to_datetime(v, errors="coerce", format="mixed")
    return float((parsed.notna().to_numpy() & shaped).mean())


def _loose_check(kind: PIIKind, v: pd.Series, norm: str) -> tuple[bool, float, str]:
    """Do the values fit what the *name* announced? (share, description)."""
    if kind is PIIKind.EMAIL:
        share = pp._share(v.str.contains("@", regex=False))
        return share >= 0.5, share, "contain '@'"
    if kind is PIIKind.PHONE:
        like, _ = pp.phone_masks(v)
        share = pp._share(like)
        return share >= 0.5, share, "look like phone numbers"
    if kind is PIIKind.PERSON_NAME:
        share = pp._share(v.str.fullmatch(pp.PERSON_LOOSE))
        if norm in ("name", "names", "nm"):  # a bare "name" may name products or tiers
            plausible = _unique_enough(v) or pp._share(pp.person_masks(v)[1]) >= 0.3
        else:  # first_name, customer_name...: few distinct values are normal
            plausible = v.nunique() >= 2
        return share >= 0.7 and plausible, share, "made of letters"
    if kind is PIIKind.ADDRESS:
        share = pp.letterish_share(v)
        return share >= 0.7 and _unique_enough(v), share, "text"
    if kind is PIIKind.POSTAL_CODE:
        m = v.str.fullmatch(pp.POSTCODE_LOOSE).to_numpy(bool) & v.str.contains("[0-9]").to_numpy(
            bool
        )
        share = pp._share(m)
        return share >= 0.8, share, "short codes with digits"
    if kind is PIIKind.CREDIT_CARD:
        nd = v.str.count("[0-9]").to_numpy()
        m = v.str.fullmatch(r"[0-9 \-]{12,23}").to_numpy(bool) & (nd >= 12) & (nd <= 19)
        share = pp._share(m)
        return share >= 0.5, share, "numbers of 12-19 digits"
    if kind is PIIKind.IBAN:
        m = v.str.fullmatch(r"[A-Za-z0-9 \-]{6,42}").to_numpy(bool) & (
            v.str.count("[0-9]").to_numpy() >= 6
        )
        share = pp._share(m)
        return share >= 0.5, share, "account numbers"
    if kind is PIIKind.NATIONAL_ID:
        share = pp._share(v.str.contains("[0-9]"))
        return share >= 0.5 and _unique_enough(v), share, "identifiers with digits"
    if kind is PIIKind.IP_ADDRESS:
        share = pp._share(pp.ip_mask(v))
        return share >= 0.5, share, "IP addresses"
    if kind is PIIKind.DATE_OF_BIRTH:
        share = _date_share(v)
        return share >= 0.8, share, "dates"
    return False, 0.0, ""  # pragma: no cover


def _value_kind(v: pd.Series, norm: str) -> tuple[PIIKind, float] | None:
    """The most specific kind a high share of the values match, if any."""
    tests: list[tuple[PIIKind, Callable[[], float]]] = [
        (PIIKind.EMAIL, lambda: pp._share(pp.email_mask(v))),
        (PIIKind.IBAN, lambda: pp._share(pp.iban_mask(v))),
        (PIIKind.CREDIT_CARD, lambda: pp._share(pp.card_mask(v))),
        (PIIKind.NATIONAL_ID, lambda: pp._share(pp.ssn_mask(v))),
        (PIIKind.IP_ADDRESS, lambda: pp._share(pp.ip_mask(v))),
        (PIIKind.POSTAL_CODE, lambda: pp._share(pp.postcode_mask(v))),
        (PIIKind.PHONE, lambda: _phone_share(v)),
        (PIIKind.ADDRESS, lambda: pp._share(pp.address_mask(v))),
        (PIIKind.PERSON_NAME, lambda: _person_share(v, norm)),
    ]
    for kind, test in tests:
        share = test()
        if share >= _VALUE_SHARE[kind]:
            return kind, share
    return None


def _phone_share(v: pd.Series) -> float:
    like, formatted = pp.phone_masks(v)
    return pp._share(like) if pp._share(formatted) >= 0.5 else 0.0


def _person_share(v: pd.Series, norm: str) -> float:
    if set(norm.split("_")) & pn.NON_PERSON_TOKENS or v.nunique() < 0.5 * len(v):
        return 0.0
    shape, known = pp.person_masks(v)
    return pp._share(shape) if pp._share(known) >= 0.2 else 0.0


def _classify_strings(
    col: Any, v: pd.Series, name_kind: PIIKind | None, norm: str
) -> PIIFinding | None:
    n = len(v)
    if n == 0:
        if name_kind is not None:
            return PIIFinding(col, name_kind, 0.6, f"name matches {norm!r}; no values to check")
        return None
    by_values = _value_kind(v, norm)
    if name_kind is not None:
        if by_values is not None and by_values[0] is not name_kind and by_values[1] >= 0.8:
            kind, share = by_values
            return PIIFinding(
                col,
                kind,
                _value_conf(share),
                f"name suggests {name_kind.value} but {_pct(share)} of {n} "
                f"sampled values are {KIND_LABELS[kind]}",
            )
        ok, share, what = _loose_check(name_kind, v, norm)
        if by_values is not None and by_values[0] is name_kind:
            share, what = by_values[1], f"are {KIND_LABELS[name_kind]}"
            ok = True
        elif ok:
            what = f"are {what}" if not what.startswith(("contain", "look")) else what
        if ok:
            return PIIFinding(
                col,
                name_kind,
                _name_conf(share),
                f"name matches {norm!r}; {_pct(share)} of {n} sampled values {what}",
            )
    if by_values is not None:
        kind, share = by_values
        return PIIFinding(
            col,
            kind,
            _value_conf(share),
            f"{_pct(share)} of {n} sampled values are {KIND_LABELS[kind]}",
        )
    return _text_finding(col, v)


def _text_finding(col: Any, v: pd.Series) -> PIIFinding | None:
    mean_len = float(v.str.len().mean())
    spaced = pp._share(v.str.contains(r"\s"))
    text_like = mean_len >= 15 and spaced >= 0.3
    kinds = pp.text_kind_masks(v)
    shares = {k: pp._share(m) for k, m in kinds.items()}
    eligible = shares if text_like else {k: shares[k] for k in _STRONG_TEXT_KINDS}
    hits = {k: s for k, s in eligible.items() if s >= _TEXT_SHARE}
    if not hits:
        return None
    parts = ", ".join(
        f"{_pct(s)} contain {KIND_LABELS[k]}"
        for k, s in sorted(hits.items(), key=lambda kv: -kv[1])
    )
    what = f"free text (mean {mean_len:.0f} characters)" if text_like else "values"
    any_share = pp._share(np.logical_or.reduce([kinds[k] for k in hits]))
    return PIIFinding(
        col,
        PIIKind.TEXT_WITH_PII,
        round(min(0.95, 0.6 + 2 * any_share), 2),
        f"{what}: of {len(v)} sampled values, {parts}",
    )
