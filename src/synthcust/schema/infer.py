"""Schema inference: what each column holds and which strings mean "missing".

Rules are deliberately simple and explainable; every decision can be overridden by editing the
schema JSON (``synthcust schema DATA -o schema.json``, edit, pass ``--schema schema.json``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError, ParameterError
from synthcust.schema.formats import DECIMALS_SAMPLE, learn_decimals, learn_resolution
from synthcust.schema.model import Column, Kind, Role, Schema

#: Strings that mean "missing" when they occur as a whole cell (compared case-insensitively).
MISSING_MARKERS: tuple[str, ...] = (
    "?",
    "unknown",
    "n/a",
    "na",
    "nan",
    "null",
    "none",
    "-",
    "--",
    "missing",
    "not available",
    "#n/a",
    "(blank)",
    "",
)
_MARKER_SET = frozenset(MISSING_MARKERS)

#: Datetime formats tried in order; the first that parses (almost) every value wins.
DATETIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%Y%m%d",
)

_BOOL_PAIRS = (
    {"true", "false"},
    {"yes", "no"},
    {"y", "n"},
    {"t", "f"},
    {"0", "1"},
)
_ID_NAME = re.compile(r"(^|_)(id|key|uuid|guid)$|^id_|(?<=[a-z])Id$|ID$", re.IGNORECASE)
_DATE_NAME = re.compile(r"date|time|_at$|_on$|day$|timestamp|dob|birth", re.IGNORECASE)

#: Share of parsed values needed to call a text column numeric or datetime.
PARSE_SHARE = 0.95
#: Beyond this many distinct values a mostly-unique short-string column is an id, not a category.
HIGH_CARDINALITY = 0.5


def _is_string_like(s: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)


def find_missing_markers(s: pd.Series) -> tuple[str, ...]:
    """Whole-cell strings in ``s`` that mean "missing" (as written in the data)."""
    if not _is_string_like(s):
        return ()
    vc = s.dropna().astype(str)
    uniq = pd.unique(vc)
    if len(uniq) > 200_000:
        uniq = pd.unique(vc.sample(200_000, random_state=0))
    stripped = pd.Series(uniq, dtype=object).str.strip().str.lower()
    hits = [str(u) for u, low in zip(uniq, stripped, strict=True) if low in _MARKER_SET]
    # "unknown" is a marker only if it is not the majority value (then it is a real category)
    return tuple(sorted(hits))


def _clean(s: pd.Series, markers: Iterable[str]) -> pd.Series:
    markers = list(markers)
    if markers and _is_string_like(s):
        s = s.where(~s.isin(markers))
    return s


def _try_numeric(vc: pd.Series) -> tuple[pd.Series | None, float]:
    """Parse the distinct strings of a column (``vc``: value counts) as numbers.

    Returns (parsed value per distinct string, share of the rows that parse). Working on the
    distinct values keeps this fast on long columns with few categories.
    """
    if len(vc) == 0:
        return None, 0.0
    txt = pd.Series(vc.index.astype(str), index=vc.index)
    parsed = pd.to_numeric(txt.str.strip().str.replace(",", "", regex=False), errors="coerce")
    share = float(vc[parsed.notna().to_numpy()].sum() / vc.sum())
    return parsed, share


def detect_datetime_format(s: pd.Series, sample: int = 5000) -> tuple[str | None, float]:
    """Return (best format, share of non-missing values it parses) for a text column."""
    nn = s.dropna()
    if len(nn) == 0:
        return None, 0.0
    if len(nn) > sample:
        nn = nn.sample(sample, random_state=0)
    nn = nn.astype(str).str.strip()
    # cheap pre-check: dates contain digits and a separator or are 8 digits
    if not nn.str.contains(r"\d", regex=True).mean() > 0.9:
        return None, 0.0
    best, best_share = None, 0.0
    for fmt in DATETIME_FORMATS:
        parsed = pd.to_datetime(nn, format=fmt, errors="coerce")
        share = float(parsed.notna().mean())
        if share > best_share + 1e-12:
            best, best_share = fmt, share
        if share == 1.0:
            break
    if best == "%Y%m%d" and best_share > 0 and not _DATE_NAME.search(str(s.name)):
        return None, 0.0  # 8-digit numbers are usually not dates unless the name says so
    return best, best_share


def infer_column(s: pd.Series, *, n_rows: int) -> tuple[Column, list[str]]:
    """Infer one column's :class:`Column` and any warnings about it.

    Parameters
    ----------
    s : pandas.Series
        The column (its name is the column's name).
    n_rows : int
        Rows in the table.

    Returns
    -------
    column : Column
        Kind, role, missing markers and the like.
    notes : list of str
        Warnings about doubtful choices, for the user to review.

    Examples
    --------
    >>> import pandas as pd
    >>> col, notes = infer_column(pd.Series(["1", "2", "?"], name="n"), n_rows=3)
    >>> col.kind.value, col.missing_markers
    ('numeric', ('?',))
    """
    name = str(s.name)
    notes: list[str] = []
    markers = find_missing_markers(s)
    s = _clean(s, markers)
    nn = s.dropna()
    if len(nn) == 0:
        notes.append(f"column {name!r} is entirely missing; it will be reproduced as all-missing")
        return Column(
            name, Kind.CONSTANT, missing_markers=markers, note="all values missing"
        ), notes

    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        kind = Kind.BOOLEAN if nn.nunique() > 1 else Kind.CONSTANT
        return Column(name, kind, missing_markers=markers), notes

    if pd.api.types.is_datetime64_any_dtype(dtype):
        if nn.nunique() <= 1:
            return Column(name, Kind.CONSTANT, missing_markers=markers), notes
        return Column(
            name, Kind.DATETIME, missing_markers=markers, resolution=learn_resolution(nn)
        ), notes

    if pd.api.types.is_numeric_dtype(dtype):
        return _infer_numeric(name, nn, markers, notes)
    return _infer_text(name, nn, markers, notes)


def _infer_numeric(
    name: str, nn: pd.Series, markers: tuple[str, ...], notes: list[str]
) -> tuple[Column, list[str]]:
    """A column with a numeric dtype (``nn``: its present values)."""
    vals = nn.to_numpy(dtype=float)
    if not np.isfinite(vals).all():
        bad = vals[~np.isfinite(vals)][0]
        notes.append(
            f"column {name!r} contains infinite values (e.g. {bad}); they are treated as "
            "missing when fitting — replace them if they mean something"
        )
        vals = vals[np.isfinite(vals)]
        if len(vals) == 0:
            return Column(name, Kind.CONSTANT, missing_markers=markers), notes
    n_unique = len(np.unique(vals))
    if n_unique == 1:
        return Column(name, Kind.CONSTANT, missing_markers=markers), notes
    integer = bool(np.all(np.mod(vals, 1) == 0))
    if n_unique == 2 and set(np.unique(vals)) <= {0.0, 1.0} and not _ID_NAME.search(name):
        return Column(name, Kind.BOOLEAN, missing_markers=markers), notes
    if integer and _ID_NAME.search(name) and n_unique >= 0.95 * len(vals):
        return Column(name, Kind.ID, integer=True, role=Role.KEY), notes
    decimals = None if integer else learn_decimals(vals)
    return Column(
        name, Kind.NUMERIC, integer=integer, decimals=decimals, missing_markers=markers
    ), notes


def _infer_text(
    name: str, nn: pd.Series, markers: tuple[str, ...], notes: list[str]
) -> tuple[Column, list[str]]:
    """A text-like column (``nn``: its present values): boolean, numbers or dates stored as
    text, free text, ids or categories."""
    # text-like column: work on the distinct values, weighted by how often each occurs
    vc = nn.astype(str).value_counts(sort=False)
    n_unique = len(vc)
    if n_unique == 1:
        return Column(name, Kind.CONSTANT, missing_markers=markers), notes
    uniq = pd.Series(vc.index.astype(str))
    if n_unique == 2 and any(set(uniq.str.strip().str.lower()) <= pair for pair in _BOOL_PAIRS):
        return Column(name, Kind.BOOLEAN, missing_markers=markers), notes

    parsed, share = _try_numeric(vc)
    if parsed is not None and share >= PARSE_SHARE:
        if share < 1.0:
            bad = uniq[parsed.isna().to_numpy()].iloc[0]
            notes.append(
                f"column {name!r} is numbers mixed with text (e.g. {bad!r} among "
                f"{(1 - share):.1%} of values); kept as categorical — declare {bad!r} as a "
                "missing marker or fix those values to model it as numeric"
            )
        else:
            vals = parsed.to_numpy(dtype=float)
            integer = bool(np.all(np.mod(vals[np.isfinite(vals)], 1) == 0))
            return Column(
                name,
                Kind.NUMERIC,
                integer=integer,
                decimals=None if integer else learn_decimals(vals),
                missing_markers=markers,
                note="numbers stored as text",
            ), notes
    elif parsed is not None and share >= 0.5:
        bad = uniq[parsed.isna().to_numpy()].iloc[0]
        notes.append(
            f"column {name!r} mixes numbers and text ({share:.0%} numeric, e.g. {bad!r} is "
            "not); modelled as categorical"
        )

    weights = vc.to_numpy(dtype=float) / vc.sum()
    avg_len = float(uniq.str.len().to_numpy() @ weights)
    if parsed is None or share < PARSE_SHARE:
        fmt, dshare = detect_datetime_format(nn)
        if fmt is not None and dshare >= PARSE_SHARE:
            if dshare < 1.0:
                notes.append(
                    f"column {name!r} looks like dates ({fmt}) but {1 - dshare:.1%} of values do "
                    "not parse; fix them or declare them as missing markers before fitting"
                )
            few = nn if len(nn) <= DECIMALS_SAMPLE else nn.sample(DECIMALS_SAMPLE, random_state=0)
            parsed_dt = pd.to_datetime(few.astype(str).str.strip(), format=fmt, errors="coerce")
            return Column(
                name,
                Kind.DATETIME,
                datetime_format=fmt,
                missing_markers=markers,
                resolution=learn_resolution(parsed_dt),
            ), notes

    uniq_share = n_unique / max(len(nn), 1)
    words = float(uniq.str.count(r"\s+").to_numpy() @ weights) + 1
    if uniq_share > HIGH_CARDINALITY and (avg_len > 30 or words >= 4):
        return Column(name, Kind.TEXT, missing_markers=markers), notes
    if uniq_share >= 0.95 and len(nn) >= 20:
        return Column(name, Kind.ID, role=Role.KEY, missing_markers=markers), notes
    if _ID_NAME.search(name) and uniq_share > HIGH_CARDINALITY:
        return Column(name, Kind.ID, role=Role.KEY, missing_markers=markers), notes
    if n_unique > 1000 and uniq_share > 0.2:
        notes.append(
            f"column {name!r} has {n_unique:,} distinct values; rare ones are pooled when "
            "modelled — mark it 'id' or 'text' if it is not a category"
        )
    return Column(name, Kind.CATEGORICAL, missing_markers=markers), notes


def infer_schema(
    df: pd.DataFrame,
    *,
    target: str | None = None,
    detect_pii: bool = False,
) -> Schema:
    """Infer a :class:`Schema` for ``df`` (kinds, roles, missing markers; no PII marks).

    PII detection belongs to the privacy layer: the fit workflow calls
    :func:`synthcust.privacy.infer_schema_with_pii` (this function, then
    :func:`synthcust.privacy.mark_pii`).

    Parameters
    ----------
    df : pandas.DataFrame
        The customer table.
    target : str, optional
        A column to mark with the ``target`` role.
    detect_pii : bool, default False
        Kept so that ``detect_pii=False`` in existing calls still works; ``True`` raises
        :class:`~synthcust.exceptions.ParameterError` pointing to
        :func:`synthcust.privacy.infer_schema_with_pii`.

    Returns
    -------
    Schema
        One column description per column of ``df``, with notes on doubtful choices.

    Raises
    ------
    DataError
        If ``df`` has no columns or duplicate column names.

    Examples
    --------
    >>> import pandas as pd
    >>> s = infer_schema(pd.DataFrame({"age": [30, 41, 52], "plan": ["a", "b", "a"]}))
    >>> [c.kind.value for c in s]
    ['numeric', 'categorical']
    """
    if detect_pii:
        raise ParameterError(
            "infer_schema(detect_pii=True) is gone: PII detection lives in synthcust.privacy; "
            "call synthcust.privacy.infer_schema_with_pii(df) (or privacy.mark_pii(df, schema))"
        )
    if df.shape[1] == 0:
        raise DataError("the table has no columns; check the file and its delimiter")
    cols = [str(c) for c in df.columns]
    dups = sorted({c for c in cols if cols.count(c) > 1})
    if dups:
        raise DataError(f"duplicate column names {dups}; rename them so every column is unique")
    columns: list[Column] = []
    notes: list[str] = []
    for name in df.columns:
        col, w = infer_column(df[name], n_rows=len(df))
        columns.append(col)
        notes.extend(w)
    if len(df) < 2:
        notes.append(
            f"the table has only {len(df)} row(s); a model learned from it can only repeat it — "
            "synthcust refuses to fit fewer than 2 rows"
        )
    schema = Schema(tuple(columns), warnings=tuple(notes))
    if target is not None:
        schema = schema.with_target(target)
    return schema
