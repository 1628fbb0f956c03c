"""Issue 20, item 1: PII detection and redaction take time linear in the value's length.

An unanchored pattern that may start anywhere inside a long run (the e-mail local part, the
phone extension's ``\\s*``) retries from every position: quadratic, so one 2.4 MB value froze
the server for hours. The bounds below are ~50x what the linear code needs on a slow machine and
~50x below what the quadratic code took, so they catch a regression without being a speed bar.
"""

from __future__ import annotations

import base64
import os
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthcust.privacy import redact_text
from synthcust.privacy.pii_detect import MAX_SCAN_CHARS
from synthcust.privacy.pii_patterns import text_kind_masks
from synthcust.privacy.pii_schema import infer_schema_with_pii

#: Characters the PII patterns care about: runs of them are what made patterns quadratic.
ALPHABET = "aZ19 \t.-_@:/()+,#x'%"
LONG = 100_000


def _scan(value: str) -> float:
    df = pd.DataFrame({"t": [value, "hello", "x"] * 2})
    t0 = time.perf_counter()
    infer_schema_with_pii(df)
    text_kind_masks(df["t"])
    redact_text(df["t"].astype(str))
    return time.perf_counter() - t0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    motif=st.text(alphabet=ALPHABET, min_size=1, max_size=4),
    prefix=st.sampled_from(["", "1 ", "a@", "ext ", "+44 "]),
    suffix=st.sampled_from(["", "@b.co", " x12", "!"]),
)
def test_long_repeated_values_scan_in_linear_time(motif: str, prefix: str, suffix: str) -> None:
    value = prefix + motif * (LONG // len(motif)) + suffix
    elapsed = _scan(value)
    # linear code: ~0.1 s here; the quadratic e-mail pattern took ~13 s on 100,000 'a's
    assert elapsed < 4.0, f"{elapsed:.1f} s on {len(value)} chars of {motif!r}: not linear"


def test_runs_that_were_quadratic_now_linear() -> None:
    small = min(_scan("a" * 10_000) for _ in range(2))
    big = min(_scan("a" * 160_000) for _ in range(2))
    # 16x the length: linear is ~16x (plus a fixed cost), quadratic was ~256x
    assert big < 40 * small + 0.5, (small, big)
    spaces = _scan("1 a" + " " * LONG + "x")  # the phone extension's leading \s* (was 25 s)
    assert spaces < 4.0


def test_detection_caps_each_value_and_redaction_sees_all_of_it() -> None:
    blob = base64.b64encode(os.urandom(3_000_000)).decode()  # 4 MB, no PII
    t0 = time.perf_counter()
    schema = infer_schema_with_pii(pd.DataFrame({"blob": [blob, blob[:50], "short text"]}))
    assert time.perf_counter() - t0 < 5.0
    assert schema["blob"].pii is None
    # an e-mail far beyond the detection cap is still redacted
    text = "word " * (MAX_SCAN_CHARS // 2) + "write to ann@example.com please"
    red, counts = redact_text(pd.Series([text]))
    assert "ann@example.com" not in red[0] and "[EMAIL]" in red[0]
    assert sum(counts.values()) == 1


@pytest.mark.parametrize(
    ("text", "kind"),
    [("mail ann.lee@example.co.uk now", "[EMAIL]"), ("call 020 7946 0958 x12", "[PHONE]")],
)
def test_patterns_still_find_what_they_found(text: str, kind: str) -> None:
    red, _ = redact_text(pd.Series([text]))
    assert kind in red[0]
