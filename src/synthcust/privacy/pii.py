"""``synthcust.privacy.pii``: find personal data in a customer table and handle it.

The one import point of PII handling; the work is split by reason to change:

- :mod:`~synthcust.privacy.pii_names`: what a column's name announces;
- :mod:`~synthcust.privacy.pii_patterns`: value patterns, Luhn / IBAN checksums, text
  redaction;
- :mod:`~synthcust.privacy.pii_detect`: :func:`detect_pii`, names and values combined;
- :mod:`~synthcust.privacy.pii_apply`: :func:`apply_pii` and the default policy per kind;
- :mod:`~synthcust.privacy.pii_fake`: :func:`fake_columns`, fresh fakes at sampling time;
- :mod:`~synthcust.privacy.pii_report`: :class:`PIIReport` and the JSON :class:`PIIPlan`;
- :mod:`~synthcust.privacy.pii_schema`: :func:`mark_pii` / :func:`infer_schema_with_pii`,
  PII marks on a schema.

>>> import pandas as pd
>>> df = pd.DataFrame({"c1": ["ann@example.com", "bob@example.org"], "age": [31, 45]})
>>> out, report = apply_pii(df, detect_pii(df))
>>> list(out.columns), report.actions["c1"].policy.value
(['age'], 'drop')
"""

from synthcust.privacy.pii_apply import (
    ALLOWED_POLICIES,
    DEFAULT_POLICIES,
    HASH_KEY_ENV,
    apply_pii,
)
from synthcust.privacy.pii_detect import KIND_LABELS, PIIFinding, detect_pii
from synthcust.privacy.pii_fake import FAKEABLE_KINDS, FakeSpec, fake_columns
from synthcust.privacy.pii_patterns import (
    detect_pii_kinds_in_text,
    iban_valid,
    luhn_valid,
    redact_text,
)
from synthcust.privacy.pii_report import ColumnAction, PIIPlan, PIIReport
from synthcust.privacy.pii_schema import infer_schema_with_pii, mark_pii

__all__ = [
    "ALLOWED_POLICIES",
    "DEFAULT_POLICIES",
    "FAKEABLE_KINDS",
    "HASH_KEY_ENV",
    "KIND_LABELS",
    "ColumnAction",
    "FakeSpec",
    "PIIFinding",
    "PIIPlan",
    "PIIReport",
    "apply_pii",
    "detect_pii",
    "detect_pii_kinds_in_text",
    "fake_columns",
    "iban_valid",
    "infer_schema_with_pii",
    "luhn_valid",
    "mark_pii",
    "redact_text",
]
