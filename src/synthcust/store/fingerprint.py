"""Content fingerprints of real tables: the key the privacy ledger charges against.

:func:`fingerprint_frame` is the SHA-256 of a canonical serialisation of a DataFrame's content.
It covers, and only covers:

* the **column names** (as ``str``) and, for each column, a coarse **dtype family**: ``bool``,
  ``integer``, ``float``, ``complex``, ``datetime``, ``timedelta``, ``text`` or ``other``
  (a ``category`` column counts as the family of its categories);
* the **number of rows**;
* every **cell value**, through ``pandas.util.hash_pandas_object(frame, index=False)``: one
  64-bit SipHash per row (fixed key) combining that row's values, missing values included.

It deliberately ignores:

* **row index labels** (``index=False``): ``df`` and ``df.reset_index(drop=True)`` are one table;
* **row order**: the row hashes are sorted before hashing, so a shuffled copy of the same
  customers is the same dataset and shares its privacy budget;
* **column order**: columns are sorted by name first;
* the **storage flavour** inside a family: ``object`` vs ``str`` text (pandas 2 vs 3 reading one
  CSV), ``int64`` vs nullable ``Int64``, a ``category`` column vs its plain values, and the unit
  of ``datetime64`` values (normalised to nanoseconds where they fit), so that one file read by
  two pandas versions keeps one fingerprint and one budget.

Any change of a value, a column name or the set of rows gives a different fingerprint. The
converse limit matters for privacy: a fingerprint identifies *this exact table*, not the people
in it. A copy with one row edited, a column dropped or rows appended is a *new* dataset with a
fresh budget as far as the ledger can tell; the budget is honest only if the same real table is
fingerprinted each time (synthcust fingerprints the table as read, before PII handling).

Text values are hashed through their ``str`` form in ``object`` columns (pandas' own rule), so in
a mixed ``object`` column ``1`` and ``"1"`` hash alike; such a collision can only merge two
budgets, never split one, which errs on the side of privacy.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError

__all__ = ["FINGERPRINT_VERSION", "dtype_family", "fingerprint_frame"]

#: Part of every serialisation: bump it if the canonical form ever changes.
FINGERPRINT_VERSION = "synthcust-fingerprint-v1"


def dtype_family(dtype) -> str:
    """The coarse family of a pandas/numpy dtype that enters the fingerprint.

    >>> dtype_family(pd.Series([1, 2]).dtype), dtype_family(pd.Series(["a"], dtype=object).dtype)
    ('integer', 'text')
    """
    if isinstance(dtype, pd.CategoricalDtype):
        return dtype_family(dtype.categories.dtype)
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_complex_dtype(dtype):
        return "complex"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "text"
    return "other"


def _canonical_column(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(s.dtype):
        try:
            return s.dt.as_unit("ns")
        except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
            return s  # outside the nanosecond range: keep the unit it was read with
    return s


def fingerprint_frame(df: pd.DataFrame) -> str:
    """SHA-256 (64 hex characters) of ``df``'s content; see the module docs for what it covers.

    Vectorised (one pass of pandas hashing, then one sort), so it takes about a second per
    ten million cells.

    Raises
    ------
    DataError
        If ``df`` is not a DataFrame or has two columns with the same name.

    >>> a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    >>> fingerprint_frame(a) == fingerprint_frame(a.iloc[::-1][["y", "x"]])
    True
    >>> fingerprint_frame(a) == fingerprint_frame(a.assign(x=[1, 3]))
    False
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"a dataset fingerprint needs a pandas DataFrame, got {type(df).__name__}; "
            "read the table first (synthcust.io.read_table)"
        )
    names = [str(c) for c in df.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(
            f"cannot fingerprint a table with duplicate column names {dupes}; rename them first"
        )
    order = sorted(range(len(names)), key=names.__getitem__)
    cols = {names[i]: _canonical_column(df.iloc[:, i]).reset_index(drop=True) for i in order}
    frame = pd.DataFrame(cols, index=pd.RangeIndex(len(df)))
    header = {
        "version": FINGERPRINT_VERSION,
        "columns": [[names[i], dtype_family(df.dtypes.iloc[i])] for i in order],
        "rows": len(df),
    }
    h = hashlib.sha256(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
    if len(frame) and len(frame.columns):
        rows = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64))
        h.update(rows.astype("<u8", copy=False).tobytes())
    return h.hexdigest()
