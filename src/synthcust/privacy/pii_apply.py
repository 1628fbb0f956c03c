"""Handle the PII found in a table before anything is learned from it.

Default policy per kind (``DEFAULT_POLICIES``)::

    email, phone, person_name, address, credit_card, iban,
    national_id, ip_address ........................ drop
    postal_code .................................... generalise  (first 3 digits of a US ZIP,
                                                                  first 2 characters otherwise)
    date_of_birth .................................. generalise  (-> birth year, an integer)
    text_with_pii .................................. redact      ([EMAIL], [PHONE], [CARD],
                                                                  [IBAN], [SSN], [IP] tags)

Policies: ``drop``; ``hash`` (HMAC-SHA256 keyed with ``hash_key``, else the environment
variable ``SYNTHCUST_HASH_KEY``, else a random key -- then hashes do not link across runs and
the report says so; values are normalised first: e-mails lower-cased, separators removed from
phone/card/IBAN/id numbers); ``fake`` (removed now, regenerated at sampling time from the
:class:`~synthcust.privacy.pii_fake.FakeSpec` kept in ``report.plan``); ``generalise``
(postal codes, dates of birth, and -- on request -- ages 0-130 to ``"30-39"`` bands and other
dates to years); ``redact`` (text); ``keep`` (the user's explicit, reported choice).
Columns that are not PII can still be given ``drop``/``hash``/``keep``/``generalise``/
``redact``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import PIIError
from synthcust.privacy import pii_names as pn
from synthcust.privacy import pii_patterns as pp
from synthcust.privacy.pii_detect import PIIFinding, detect_pii
from synthcust.privacy.pii_fake import FakeSpec
from synthcust.privacy.pii_report import ColumnAction, PIIReport
from synthcust.schema.model import PIIKind, PIIPolicy, Schema

__all__ = ["ALLOWED_POLICIES", "DEFAULT_POLICIES", "HASH_KEY_ENV", "apply_pii"]

HASH_KEY_ENV = "SYNTHCUST_HASH_KEY"
_P = PIIPolicy
DEFAULT_POLICIES: dict[PIIKind, PIIPolicy] = {
    **{
        k: _P.DROP
        for k in (
            PIIKind.EMAIL,
            PIIKind.PHONE,
            PIIKind.PERSON_NAME,
            PIIKind.ADDRESS,
            PIIKind.CREDIT_CARD,
            PIIKind.IBAN,
            PIIKind.NATIONAL_ID,
            PIIKind.IP_ADDRESS,
        )
    },
    PIIKind.POSTAL_CODE: _P.GENERALISE,
    PIIKind.DATE_OF_BIRTH: _P.GENERALISE,
    PIIKind.TEXT_WITH_PII: _P.REDACT,
}
_IDENTIFYING = (_P.DROP, _P.HASH, _P.FAKE, _P.KEEP)
#: Policies each kind accepts; ``None`` is a column that is not PII.
ALLOWED_POLICIES: dict[PIIKind | None, tuple[PIIPolicy, ...]] = {
    **{k: _IDENTIFYING for k in DEFAULT_POLICIES},
    PIIKind.POSTAL_CODE: (*_IDENTIFYING, _P.GENERALISE),
    PIIKind.DATE_OF_BIRTH: (*_IDENTIFYING, _P.GENERALISE),
    PIIKind.TEXT_WITH_PII: (_P.DROP, _P.REDACT, _P.KEEP),
    None: (_P.DROP, _P.HASH, _P.KEEP, _P.GENERALISE, _P.REDACT),
}
_ALIASES = {
    "generalize": "generalise",
    "remove": "drop",
    "mask": "redact",
    "pseudonymise": "hash",
    "pseudonymize": "hash",
}


# --------------------------------------------------------------------------------------------


def apply_pii(
    df: pd.DataFrame,
    findings_or_schema: Mapping[str, PIIFinding | PIIKind | str]
    | Iterable[PIIFinding]
    | Schema
    | None = None,
    policies: Mapping[str, PIIPolicy | str] | None = None,
    *,
    hash_key: bytes | str | None = None,
    random_state: int = 0,
    faker_locale: str = "en_US",
) -> tuple[pd.DataFrame, PIIReport]:
    """Return a new frame with every PII column handled, and a report of what was done.

    Parameters
    ----------
    df: the table; never modified.
    findings_or_schema: the output of :func:`detect_pii`, ``{column: PIIKind}``, or a
        :class:`Schema` (its columns' ``pii`` and ``pii_policy``); ``None`` runs
        :func:`detect_pii`.
    policies: ``{column: policy}`` overriding the defaults (also for non-PII columns, e.g.
        ``{"age": "generalise"}``).
    hash_key: key of the ``hash`` policy; else ``$SYNTHCUST_HASH_KEY``; else random.
    random_state: seed of detection (when ``findings_or_schema`` is ``None``).
    faker_locale: locale of the fakes generated at sampling time for ``fake`` columns.

    Raises
    ------
    PIIError: a policy names a column not in ``df``, is unknown, or is not allowed for the
        column's kind (all problems are listed together).

    Examples
    --------
    >>> df = pd.DataFrame({"email": ["a@example.com", "b@example.org"], "zip": ["02134", "94105"]})
    >>> out, report = apply_pii(df)
    >>> out.to_dict("list")
    {'zip': ['021', '941']}
    >>> report.actions["email"].policy
    <PIIPolicy.DROP: 'drop'>
    """
    findings, chosen, warnings = _resolve(df, findings_or_schema, policies, random_state)
    report = PIIReport(
        findings=findings, warnings=warnings, columns=tuple(str(c) for c in df.columns)
    )
    key: bytes | None = None
    if any(p is _P.HASH for _, p, _ in chosen.values()):
        key, report.hash_key_source = _hash_key(hash_key)
        if report.hash_key_source == "random":
            cols = [c for c, (_, p, _) in chosen.items() if p is _P.HASH]
            report.warnings.append(
                f"no hash key given (hash_key= or ${HASH_KEY_ENV}): a random key was used, so "
                f"the hashes of {', '.join(map(repr, cols))} are not linkable across runs or "
                "tables"
            )
    positions = {c: i for i, c in enumerate(df.columns)}
    new: dict[str, pd.Series] = {}
    removed: list[str] = []
    for col, (kind, policy, source) in chosen.items():
        s = df[col]
        output: str | None = col
        if policy is _P.DROP:
            detail, output = "removed", None
        elif policy is _P.KEEP:
            detail = "kept as is: the user's explicit choice"
            if kind is not None:
                report.warnings.append(
                    f"column {col!r} keeps its {kind.value} values (policy "
                    "keep): synthetic data may reproduce real ones"
                )
        elif policy is _P.HASH:
            assert key is not None
            new[col] = _hash(s, kind, key)
            detail = "replaced by keyed HMAC-SHA256 pseudonyms (16 hex characters)"
        elif policy is _P.FAKE:
            assert kind is not None
            report.fakes.append(_fake_spec(col, s, kind, positions[col], faker_locale))
            detail, output = "removed; fresh fakes are generated at sampling time", None
        elif policy is _P.GENERALISE:
            new[col], detail = _generalise(col, s, kind, report.warnings)
        else:  # REDACT
            new[col], counts = pp.redact_text(_as_text(s))
            detail = (
                "redacted " + ", ".join(f"{n} {pp.REDACTION_TAGS[k]}" for k, n in counts.items())
                if counts
                else "redacted: no PII spans found"
            )
        if output is None:
            removed.append(col)
        report.actions[col] = ColumnAction(col, kind, policy, source, detail, output)
    out = df.drop(columns=removed)
    for col, values in new.items():
        out[col] = values
    return out, report


def _resolve(
    df: pd.DataFrame, given: Any, policies: Mapping[str, PIIPolicy | str] | None, random_state: int
) -> tuple[dict[str, PIIFinding], dict[str, tuple[PIIKind | None, PIIPolicy, str]], list[str]]:
    """Findings, ``{column: (kind, policy, source)}`` in column order, and warnings."""
    warnings: list[str] = []
    schema_policy: dict[str, PIIPolicy] = {}
    if given is None:
        findings = detect_pii(df, random_state=random_state)
    elif isinstance(given, Schema):
        findings = {
            c.name: PIIFinding(c.name, c.pii, 1.0, "declared in the schema")
            for c in given.pii_columns
            if c.pii is not None
        }
        schema_policy = {c.name: c.pii_policy for c in given.pii_columns if c.pii_policy}
    elif isinstance(given, Mapping):
        findings = {}
        for col, f in given.items():
            findings[col] = (
                f
                if isinstance(f, PIIFinding)
                else PIIFinding(col, PIIKind(f), 1.0, "declared by the caller")
            )
    else:
        findings = {f.column: f for f in given}
    for col in [c for c in findings if c not in df.columns]:
        warnings.append(f"column {col!r} is marked as PII but is not in the data; skipped")
        del findings[col]

    problems: list[str] = []
    user: dict[str, PIIPolicy] = {}
    cols = list(df.columns)
    for col, raw in (policies or {}).items():
        if col not in df.columns:
            shown = ", ".join(map(repr, cols[:30])) + (" ..." if len(cols) > 30 else "")
            problems.append(
                f"a policy is given for column {col!r}, which is not in the data; "
                f"columns are {shown}"
            )
            continue
        try:
            user[col] = PIIPolicy(_ALIASES.get(str(raw).lower(), str(raw).lower()))
        except ValueError:
            problems.append(
                f"column {col!r}: unknown policy {raw!r}; use one of "
                f"{', '.join(p.value for p in PIIPolicy)}"
            )
    chosen: dict[str, tuple[PIIKind | None, PIIPolicy, str]] = {}
    for col in df.columns:
        kind = findings[col].kind if col in findings else None
        if col in user:
            policy, source = user[col], "user"
        elif col in schema_policy:
            policy, source = schema_policy[col], "schema"
        elif kind is not None:
            policy, source = DEFAULT_POLICIES[kind], "default"
        else:
            continue
        problem = _policy_problem(col, df[col], kind, policy)
        if problem:
            problems.append(problem)
        chosen[col] = (kind, policy, source)
    if problems:
        raise PIIError(
            problems[0]
            if len(problems) == 1
            else f"{len(problems)} PII policy problems: " + "; ".join(problems)
        )
    return findings, chosen, warnings


def _policy_problem(col: str, s: pd.Series, kind: PIIKind | None, policy: PIIPolicy) -> str | None:
    allowed = ALLOWED_POLICIES[kind]
    what = kind.value if kind else "not PII"
    if policy not in allowed:
        return (
            f"column {col!r} ({what}): policy {policy.value!r} is not allowed; allowed "
            f"policies are {', '.join(p.value for p in allowed)}"
        )
    if (
        kind is None
        and policy is _P.GENERALISE
        and not (pd.api.types.is_datetime64_any_dtype(s.dtype) or _age_like(s))
    ):
        return (
            f"column {col!r} (not PII): policy 'generalise' needs ages (whole numbers "
            "0-130, generalised to 10-year bands) or dates (generalised to years); use "
            "drop, hash or keep"
        )
    if policy is _P.REDACT and (
        pd.api.types.is_numeric_dtype(s.dtype)
        or pd.api.types.is_datetime64_any_dtype(s.dtype)
        or pd.api.types.is_bool_dtype(s.dtype)
    ):
        return f"column {col!r} ({what}): policy 'redact' needs text, the column holds {s.dtype}"
    return None


def _age_like(s: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return False
    v = s.dropna()
    return v.empty or bool(v.min() >= 0 and v.max() <= 130)


def _hash_key(given: bytes | str | None) -> tuple[bytes, str]:
    if given is not None:
        key, source = (given.encode() if isinstance(given, str) else bytes(given)), "argument"
    elif os.environ.get(HASH_KEY_ENV):
        key, source = os.environ[HASH_KEY_ENV].encode(), "environment"
    else:
        return secrets.token_bytes(32), "random"
    if not key:
        raise PIIError(
            "the hash key is empty; give hash_key= (bytes) or set "
            f"${HASH_KEY_ENV} to a long random secret"
        )
    return key, source


def _as_text(s: pd.Series) -> pd.Series:
    """Values as the ``str`` dtype, missing kept missing (ints without a trailing ``.0``)."""
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.dropna()
        if len(v) and np.all(v.to_numpy() == np.round(v.to_numpy())) and v.abs().max() < 2**63:
            return s.astype("Int64").astype("str").where(s.notna())
    return s.astype("str").where(s.notna())


def _hash(s: pd.Series, kind: PIIKind | None, key: bytes) -> pd.Series:
    v = _as_text(s).str.strip()
    if kind is PIIKind.EMAIL:
        v = v.str.lower()
    elif kind in (PIIKind.PHONE, PIIKind.CREDIT_CARD, PIIKind.IBAN, PIIKind.NATIONAL_ID):
        v = v.str.replace(r"[\s\-.()/]", "", regex=True).str.upper()
    codes, uniques = pd.factorize(v)
    digests = np.array(
        [hmac.new(key, str(u).encode(), hashlib.sha256).hexdigest()[:16] for u in uniques] + [None],
        dtype=object,
    )
    return pd.Series(digests[codes], index=s.index, dtype="str")  # code -1 -> None


def _generalise(
    col: str, s: pd.Series, kind: PIIKind | None, warnings: list[str]
) -> tuple[pd.Series, str]:
    if kind is PIIKind.POSTAL_CODE:
        return _generalise_postcode(s), (
            "kept a prefix: first 3 digits of US ZIPs, first 2 characters otherwise"
        )
    if kind is PIIKind.DATE_OF_BIRTH or pd.api.types.is_datetime64_any_dtype(s.dtype):
        years = _years(s)
        bad = int(s.notna().sum() - years.notna().sum())
        if bad:
            warnings.append(
                f"column {col!r}: {bad} values could not be read as dates and became missing"
            )
        return years, "replaced by the year" + (" of birth" if kind else "")
    return _age_bands(s), "replaced by 10-year bands"


def _generalise_postcode(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _as_text(s).str.zfill(5).str.slice(0, 3)
    v = _as_text(s).str.strip().str.upper()
    us = v.str.fullmatch(r"[0-9]{5}(?:-?[0-9]{4})?").fillna(False)
    return v.str.replace(r"[^A-Z0-9]", "", regex=True).str.slice(0, 2).mask(us, v.str.slice(0, 3))


def _years(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        years = s.dt.year
    elif pd.api.types.is_numeric_dtype(s.dtype):
        v = pd.to_numeric(s, errors="coerce")
        years = (v // 10000).where(v >= 1000_00_00, v.where((v >= 1000) & (v <= 9999)))
    else:
        text = _as_text(s)
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        if parsed.notna().sum() < 0.8 * text.notna().sum():
            parsed = pd.to_datetime(text, errors="coerce", format="mixed")
        years = parsed.dt.year
    years = years.astype("Int64")
    return years.astype("int64") if not years.isna().any() else years


def _age_bands(s: pd.Series) -> pd.Series:
    low = (s // 10 * 10).astype("Int64")
    labels = {int(lo): f"{int(lo)}-{int(lo) + 9}" for lo in low.dropna().unique()}
    return low.map(labels).astype("str").where(s.notna())


def _fake_spec(col: str, s: pd.Series, kind: PIIKind, position: int, locale: str) -> FakeSpec:
    params: dict[str, Any] = {}
    if pd.api.types.is_numeric_dtype(s.dtype) and kind is not PIIKind.DATE_OF_BIRTH:
        params["numeric"] = True
    if kind is PIIKind.PERSON_NAME:
        toks = set(pn.normalise_name(col).split("_"))
        params["part"] = (
            "first"
            if toks & pn.FIRST_NAME_WORDS
            else "last"
            if toks & pn.LAST_NAME_WORDS
            else "full"
        )
    elif kind is PIIKind.IP_ADDRESS:
        v = s.dropna().astype("str")
        params["version"] = 6 if len(v) and v.str.contains(":").mean() > 0.5 else 4
    elif kind is PIIKind.DATE_OF_BIRTH:
        years = _years(s).dropna()
        if len(years):  # decade-rounded, so the spec says little about the real people
            params["min_year"] = int(years.min()) // 10 * 10
            params["max_year"] = int(years.max()) // 10 * 10 + 9
        params["format"] = (
            "datetime"
            if pd.api.types.is_datetime64_any_dtype(s.dtype)
            else "yyyymmdd"
            if pd.api.types.is_numeric_dtype(s.dtype)
            else "iso"
        )
    elif kind is PIIKind.POSTAL_CODE and locale == "en_US":
        v = _as_text(s).dropna().str.upper().str.strip()
        if len(v) and v.str.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}").mean() > 0.5:
            locale = "en_GB"
        elif len(v) and v.str.fullmatch(r"[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]").mean() > 0.5:
            locale = "en_CA"
    null = float(s.isna().mean()) if len(s) else 0.0
    return FakeSpec(col, kind, locale, position, round(null, 4), params)
