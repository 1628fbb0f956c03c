"""Validity diagnostics: does every synthetic value obey the rules the real data obeys?

The counterpart of SDV's ``DiagnosticReport`` (its "Data Validity" and "Data Structure"
properties), extended with synthcust's schema constraints. Every check gives the share of
synthetic rows (or columns) that are valid, 1.0 being the target; the same check on the real
data is its reference (a real table that breaks its own rule cannot be asked to do better).

========== ============================================================================
check      a synthetic row (value) is valid when
========== ============================================================================
structure  (per table) the column is in both tables: shared columns / all columns
constraint it obeys the schema constraint (:meth:`Constraint.check`, real data as reference)
key        (id / key columns, ``unique_key`` constraints) it is the first occurrence of a
           non-missing value: unique non-missing values / rows
range      (numeric, datetime) it lies in the real min..max (schema ``lower``/``upper`` where
           set); missing is valid when the real column has missing values
category   (categorical, boolean, constant) the value occurs in the real column; missing is
           valid when the real column has missing values
format     the value has the real column's type: same dtype family (number, datetime,
           boolean, text), or parses as one (numbers and dates stored as text, with the
           column's ``datetime_format``); whole numbers in integer columns
========== ============================================================================

The score is the mean of the per-check shares. Every check is O(rows) and vectorised:
categorical values are compared through their distinct values (``pd.factorize``), never row
by row.

>>> import pandas as pd
>>> real = pd.DataFrame({"age": [20, 30, 40], "plan": ["a", "b", "a"]})
>>> synth = pd.DataFrame({"age": [25, 50, 30], "plan": ["a", "c", "b"]})
>>> sec = evaluate_validity(real, synth)
>>> round(sec.metric("validity_ranges").value, 3), round(sec.metric("validity_categories").value, 3)
(0.667, 0.667)
>>> [(f["check"], f["target"], f["examples"]) for f in sec.extra["failures"]]
[('range', 'age', ['50']), ('category', 'plan', ['c'])]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.constraints.model import UniqueKey
from synthcust.evaluation.results import Metric, SectionResult
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Kind, Role

#: the kinds of check, in the order they are reported
CHECKS = ("structure", "constraint", "key", "range", "category", "format")

#: the metric key of each kind's score
METRIC_KEYS = {
    "structure": "validity_structure",
    "constraint": "validity_constraints",
    "key": "validity_keys",
    "range": "validity_ranges",
    "category": "validity_categories",
    "format": "validity_formats",
}
_LABELS = {
    "structure": "Columns match (data structure)",
    "constraint": "Schema constraints obeyed",
    "key": "Key uniqueness",
    "range": "Values in the real range",
    "category": "Categories seen in the real data",
    "format": "Types and formats match",
}
_METHODS = {
    "structure": "Shared columns / all columns of the two tables (SDV's TableStructure).",
    "constraint": "Mean over the schema constraints of the share of synthetic rows that obey "
    "each (a row with a missing value obeys, except for keys and allowed values).",
    "key": "Mean over id/key columns of unique non-missing values / rows (SDV's KeyUniqueness).",
    "range": "Mean over numeric and datetime columns of the share of synthetic values within "
    "the real min..max, or the schema's lower/upper where set (SDV's BoundaryAdherence).",
    "category": "Mean over categorical, boolean and constant columns of the share of synthetic "
    "values that occur in the real column (SDV's CategoryAdherence).",
    "format": "Mean over columns of the share of synthetic values of the real column's type "
    "(dtype family, numbers/dates stored as text parse, integers are whole).",
}
_TOL = 1e-12
MAX_EXAMPLES = 3


@dataclass
class Check:
    """One validity check: ``synthetic`` and ``real`` are shares in [0, 1] (``None``: not
    measured; ``note`` says why)."""

    check: str
    target: str
    synthetic: float | None
    real: float | None = None
    bad: int = 0
    examples: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.synthetic is not None and self.synthetic < _ceiling(self.real) - _TOL

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "target": self.target,
            "synthetic": self.synthetic,
            "real": self.real,
            "bad_rows": self.bad,
            "examples": list(self.examples),
            "note": self.note,
        }


def _ceiling(ref: float | None) -> float:
    return 1.0 if ref is None else min(1.0, ref)


# ------------------------------------------------------------------------------ typing helpers
def _family(s: pd.Series) -> str:
    d = s.dtype
    if pd.api.types.is_bool_dtype(d):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(d):
        return "datetime"
    if pd.api.types.is_numeric_dtype(d):
        return "number"
    if isinstance(d, pd.CategoricalDtype):
        return _family(pd.Series(d.categories))
    if pd.api.types.is_object_dtype(d):  # an object column of numbers or bools, e.g. with None
        nn = s.dropna()
        if len(nn) and pd.api.types.is_bool_dtype(pd.Series(nn.to_list()).dtype):
            return "boolean"
        inferred = pd.api.types.infer_dtype(nn, skipna=True) if len(nn) else "empty"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "number"
        if inferred in ("datetime", "datetime64", "date"):
            return "datetime"
    return "text"


def _clean(s: pd.Series, markers: tuple[str, ...]) -> pd.Series:
    """Missing markers (``?``, ``unknown``...) as missing."""
    if markers and (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s)):
        return s.where(~s.isin(list(markers)))
    return s


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna()).astype(str).str.strip()


def _numbers(s: pd.Series) -> pd.Series:
    """Float values (NaN: missing or not a number)."""
    if pd.api.types.is_numeric_dtype(s.dtype):  # numbers and booleans, nullable ones too
        return pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index)
    if _family(s) in ("number", "boolean"):
        return pd.to_numeric(s, errors="coerce").astype(float)
    return pd.to_numeric(_text(s).str.replace(",", "", regex=False), errors="coerce").astype(float)


def _dates(s: pd.Series, fmt: str | None) -> pd.Series:
    """Timestamps, tz-naive UTC (NaT: missing or not a date)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(_text(s), format=fmt or "mixed", errors="coerce", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _fmt_value(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return "(missing)"
    if isinstance(v, float | np.floating):
        return f"{float(v):.6g}"
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def _examples(s: pd.Series, bad: np.ndarray) -> list[str]:
    """Up to three distinct bad values, most frequent first."""
    vals = s[bad]
    if len(vals) == 0:
        return []
    codes, uniq = pd.factorize(vals, use_na_sentinel=True)
    counts = np.bincount(codes + 1, minlength=len(uniq) + 1)  # slot 0: missing
    order = np.argsort(-counts, kind="stable")
    out = []
    for i in order[:MAX_EXAMPLES]:
        if counts[i]:
            out.append("(missing)" if i == 0 else _fmt_value(uniq[i - 1]))
    return out


def _row_examples(df: pd.DataFrame, cols: list[str], bad: np.ndarray) -> list[str]:
    rows = df.loc[bad, cols].head(MAX_EXAMPLES).to_dict(orient="records")
    return [", ".join(f"{k}={_fmt_value(v)}" for k, v in r.items()) for r in rows]


def _share(ok: np.ndarray) -> float | None:
    return float(ok.mean()) if len(ok) else None


# ------------------------------------------------------------------------------ the checks
def _check_structure(real: pd.DataFrame, synth: pd.DataFrame) -> Check:
    rc, sc = [str(c) for c in real.columns], [str(c) for c in synth.columns]
    union = list(dict.fromkeys(rc + sc))
    shared = set(rc) & set(sc)
    missing = [c for c in rc if c not in shared]
    extra = [c for c in sc if c not in shared]
    notes = []
    if missing:
        notes.append(f"missing from the synthetic data: {missing}")
    if extra:
        notes.append(f"only in the synthetic data: {extra}")
    return Check(
        "structure",
        "table columns",
        len(shared) / len(union) if union else 1.0,
        1.0,
        bad=len(missing) + len(extra),
        examples=(missing + extra)[:MAX_EXAMPLES],
        note="; ".join(notes),
    )


def _check_constraint(con: Any, real: pd.DataFrame, synth: pd.DataFrame) -> Check:
    target = con.describe()
    cols = list(con.columns)
    gone = [c for c in cols if c not in synth.columns]
    if gone:
        return Check(
            "constraint",
            target,
            None,
            note=f"not checked: column(s) {gone} missing from the synthetic data",
        )
    ref = real if all(c in real.columns for c in cols) else None
    try:
        ok = np.asarray(con.check(synth, reference=ref), dtype=bool)
    except Exception as e:  # a rule that cannot be evaluated on these values is reported
        return Check("constraint", target, None, note=f"not checked: {type(e).__name__}: {e}")
    real_share = None
    if ref is not None:
        try:
            real_share = _share(np.asarray(con.check(real, reference=real), dtype=bool))
        except Exception:  # the real data's own figure is only a reference
            real_share = None
    bad = ~ok
    return Check(
        "constraint",
        target,
        _share(ok),
        real_share,
        bad=int(bad.sum()),
        examples=_row_examples(synth, cols, bad),
    )


def _key_share(s: pd.Series) -> tuple[float | None, np.ndarray]:
    bad = (s.isna() | s.duplicated(keep="first")).to_numpy()
    return _share(~bad), bad


def _check_key(name: str, real: pd.Series, synth: pd.Series) -> Check:
    share, bad = _key_share(synth)
    ex = _examples(synth, bad)
    return Check(
        "key",
        name,
        share,
        _key_share(real)[0],
        bad=int(bad.sum()),
        examples=ex,
        note="rows beyond the first with the same value, or missing, are not unique",
    )


def _range_ok(vals: pd.Series, missing: np.ndarray, lo: Any, hi: Any, na_ok: bool) -> np.ndarray:
    inside = np.ones(len(vals), dtype=bool)
    if isinstance(lo, int | float | np.number) and isinstance(hi, int | float | np.number):
        # float noise is not out of range: -0.67 computed vs -0.6699999999999999 stored
        tol = 1e-9 * max(1.0, abs(float(lo)), abs(float(hi)))
        lo, hi = lo - tol, hi + tol
    if lo is not None:
        inside &= (vals >= lo).to_numpy(dtype=bool)
    if hi is not None:
        inside &= (vals <= hi).to_numpy(dtype=bool)
    return np.where(missing, na_ok, inside)


def _check_range(col: Any, real: pd.Series, synth: pd.Series) -> Check:
    is_date = col.kind.value == "datetime"
    if is_date:
        rv, sv = _dates(real, col.datetime_format), _dates(synth, col.datetime_format)
    else:
        rv, sv = _numbers(real), _numbers(synth)
    r_na, s_na = real.isna().to_numpy(), synth.isna().to_numpy()
    # values that are present but do not parse are the format check's business
    r_keep, s_keep = r_na | rv.notna().to_numpy(), s_na | sv.notna().to_numpy()
    lo, hi = rv.min(), rv.max()
    note = "real min..max"
    if not is_date and (col.lower is not None or col.upper is not None):
        lo = col.lower if col.lower is not None else lo
        hi = col.upper if col.upper is not None else hi
        note = (
            "schema bounds"
            if col.lower is not None and col.upper is not None
            else ("schema bound and real min/max")
        )
    if pd.isna(lo) or pd.isna(hi):
        return Check("range", col.name, None, note="no real values to take a range from")
    na_ok = bool(r_na.any())
    s_ok = _range_ok(sv, s_na, lo, hi, na_ok)[s_keep]
    r_ok = _range_ok(rv, r_na, lo, hi, na_ok)[r_keep]
    bad = np.zeros(len(synth), dtype=bool)
    bad[s_keep] = ~s_ok
    return Check(
        "range",
        col.name,
        _share(s_ok),
        _share(r_ok),
        bad=int(bad.sum()),
        examples=_examples(synth, bad),
        note=f"{note} {_fmt_value(lo)}..{_fmt_value(hi)}"
        + ("" if na_ok else "; the real column has no missing values"),
    )


def _canon(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return repr(int(v))
    if isinstance(v, int | np.integer):
        return repr(int(v))
    if isinstance(v, str):
        return v.strip()
    return str(v)


def _member(s: pd.Series, allowed: set[str], na_ok: bool) -> np.ndarray:
    """Per row: is the value (by its canonical text) in ``allowed``? Works on distinct values."""
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    member = np.fromiter((_canon(u) in allowed for u in uniq), dtype=bool, count=len(uniq))
    return np.append(member, na_ok)[codes]  # code -1 (missing) picks the last slot


def _check_category(name: str, real: pd.Series, synth: pd.Series) -> Check:
    allowed = {_canon(u) for u in pd.unique(real.dropna())}
    na_ok = bool(real.isna().any())
    ok = _member(synth, allowed, na_ok)
    bad = ~ok
    return Check(
        "category",
        name,
        _share(ok),
        _share(_member(real, allowed, na_ok)),
        bad=int(bad.sum()),
        examples=_examples(synth, bad),
        note=f"{len(allowed)} real categories" + (" and missing" if na_ok else ""),
    )


_TRUTHY = {"true", "false", "t", "f", "yes", "no", "y", "n", "0", "1", "1.0", "0.0"}


def _format_ok(col: Any, real: pd.Series, s: pd.Series) -> tuple[np.ndarray, str]:
    """Per row of ``s``: does it have the type of ``real`` (the real column)?"""
    rf, sf = _family(real), _family(s)
    present = s.notna().to_numpy()
    kind = col.kind.value
    if kind == "datetime" and rf == "text":  # dates stored as text
        fmt = col.datetime_format
        if sf == "datetime":
            return np.ones(len(s), bool), "datetime values; the real column stores text"
        ok = _dates(s, fmt).notna().to_numpy() | ~present
        return ok, f"text dates parse with {fmt!r}" if fmt else "text dates parse"
    if kind == "numeric" and rf == "text":  # numbers stored as text
        ok = _numbers(s).notna().to_numpy() | ~present
        return ok, "numbers stored as text parse"
    if rf == "number":
        v = _numbers(s)
        ok = v.notna().to_numpy() | ~present
        note = "numbers" if sf == "number" else f"numbers (synthetic dtype {s.dtype})"
        if col.integer and kind in ("numeric", "id"):
            frac = v.to_numpy(dtype=float) % 1
            ok &= ~(frac > 1e-9) | ~present
            note = "whole numbers" + note[len("numbers") :]
        return ok, note
    if rf == "datetime":
        ok = _dates(s, col.datetime_format).notna().to_numpy() | ~present
        return ok, "datetimes" if sf == "datetime" else f"datetimes (synthetic dtype {s.dtype})"
    if rf == "boolean":
        if sf == "boolean":
            return np.ones(len(s), bool), "booleans"
        ok = _text(s).str.lower().isin(_TRUTHY).to_numpy() | ~present
        return ok, f"booleans (synthetic dtype {s.dtype})"
    # text: the synthetic column must hold text too
    if sf == "text":
        return np.ones(len(s), bool), "text"
    return ~present, f"text in the real data, {s.dtype} in the synthetic data"


def _check_format(col: Any, real: pd.Series, synth: pd.Series) -> Check:
    ok, note = _format_ok(col, real, synth)
    r_ok, _ = _format_ok(col, real, real)
    bad = ~ok
    return Check(
        "format",
        col.name,
        _share(ok),
        _share(r_ok),
        bad=int(bad.sum()),
        examples=_examples(synth, bad),
        note=note,
    )


# ------------------------------------------------------------------------------ the section
def validity_checks(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Any | None = None
) -> tuple[list[Check], list[str]]:
    """Every check (see the module table) and what was skipped, and why."""
    if schema is None:
        schema = infer_schema(real, detect_pii=False)
    checks = [_check_structure(real, synthetic)]
    skipped: list[str] = []
    for con in schema.constraints:
        checks.append(_check_constraint(con, real, synthetic))
    keys = {k.column for k in schema.constraints if isinstance(k, UniqueKey)}
    for col in schema.columns:
        name = col.name
        if name not in real.columns or name not in synthetic.columns:
            where = "real" if name not in real.columns else "synthetic"
            skipped.append(f"column {name!r}: not in the {where} data; not checked")
            continue
        r = _clean(real[name], col.missing_markers)
        s = _clean(synthetic[name], col.missing_markers)
        if col.kind == Kind.ID or col.role == Role.KEY or name in keys:
            checks.append(_check_key(name, r, s))
        if col.kind in (Kind.NUMERIC, Kind.DATETIME):
            checks.append(_check_range(col, r, s))
        elif col.kind in (Kind.CATEGORICAL, Kind.BOOLEAN, Kind.CONSTANT):
            checks.append(_check_category(name, r, s))
        checks.append(_check_format(col, r, s))
    known = set(schema.names)
    skipped += [
        f"column {c!r}: not in the schema; only its presence is checked"
        for c in real.columns
        if c not in known
    ]
    for c in checks:
        if c.synthetic is None and c.note:
            skipped.append(f"{c.check} {c.target!r}: {c.note}")
    return checks, skipped


def _status(value: float | None, reference: float | None) -> str:
    if value is None:
        return "info"
    ceiling = _ceiling(reference)
    if value >= ceiling - _TOL:
        return "pass"
    return "warn" if value >= ceiling - 0.01 else "fail"


def _mean(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return float(np.mean(vals)) if vals else None


def evaluate_validity(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Any | None = None
) -> SectionResult:
    """The validity section: per-check shares, a score per kind, the overall score, failures.

    ``schema`` (a :class:`~synthcust.schema.Schema`) gives column kinds, bounds, formats and
    constraints; it is inferred from ``real`` when omitted (then without constraints).
    """
    checks, skipped = validity_checks(real, synthetic, schema)
    metrics: list[Metric] = []
    scored = [c for c in checks if c.synthetic is not None]
    overall = _mean([c.synthetic for c in scored])
    overall_ref = _mean([c.real if c.real is not None else 1.0 for c in scored])
    failures = [c for c in checks if c.failed]
    metrics.append(
        Metric(
            "validity",
            "Data validity",
            overall,
            overall_ref,
            threshold=1.0,
            better="higher",
            status=_status(overall, overall_ref),  # type: ignore[arg-type]
            method="Mean of the per-check shares of valid synthetic values (constraints, key "
            "uniqueness, ranges, categories, types/formats, columns), like SDV's diagnostic "
            "score; 1.0 = every check fully valid. Reference: the same checks on the real data.",
            note=f"{len(scored)} checks, {len(failures)} below their target",
        )
    )
    for kind in CHECKS:
        these = [c for c in scored if c.check == kind]
        val = _mean([c.synthetic for c in these])
        ref = _mean([c.real if c.real is not None else 1.0 for c in these]) if these else None
        metrics.append(
            Metric(
                METRIC_KEYS[kind],
                _LABELS[kind],
                val,
                ref,
                threshold=1.0 if these else None,
                better="higher",
                status=_status(val, ref),  # type: ignore[arg-type]
                method=_METHODS[kind],
                note=f"{len(these)} checked" if these else "nothing of this kind to check",
            )
        )
    table = pd.DataFrame(
        [
            {
                "check": c.check,
                "target": c.target,
                "synthetic": c.synthetic,
                "real": c.real,
                "bad_rows": c.bad,
                "examples": "; ".join(c.examples),
                "note": c.note,
            }
            for c in checks
        ],
        columns=["check", "target", "synthetic", "real", "bad_rows", "examples", "note"],
    )
    order = {k: i for i, k in enumerate(CHECKS)}
    failures.sort(key=lambda c: (c.synthetic, order[c.check]))
    tables = {"checks": table}
    if failures:
        tables["failures"] = table[[c.failed for c in checks]].sort_values(
            ["synthetic", "check"], kind="stable"
        )
    return SectionResult(
        name="validity",
        metrics=metrics,
        tables=tables,
        skipped=skipped,
        extra={"failures": [c.to_dict() for c in failures]},
        method=f"{len(real):,} real and {len(synthetic):,} synthetic rows; every check is on "
        "all rows (no sampling).",
    )
