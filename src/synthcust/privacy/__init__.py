"""Privacy: find and handle personal data (PII) before anything is learned.

>>> import pandas as pd
>>> df = pd.DataFrame({"c1": ["ann@example.com", "bob@example.org"], "age": [31, 45]})
>>> out, report = apply_pii(df, detect_pii(df))
>>> list(out.columns)
['age']
"""

from synthcust.privacy.pii import (
    ALLOWED_POLICIES,
    DEFAULT_POLICIES,
    FAKEABLE_KINDS,
    HASH_KEY_ENV,
    KIND_LABELS,
    ColumnAction,
    FakeSpec,
    PIIFinding,
    PIIPlan,
    PIIReport,
    apply_pii,
    detect_pii,
    detect_pii_kinds_in_text,
    fake_columns,
    infer_schema_with_pii,
    mark_pii,
    redact_text,
)

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
    "infer_schema_with_pii",
    "mark_pii",
    "redact_text",
]
