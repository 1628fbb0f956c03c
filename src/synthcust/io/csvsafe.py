"""Spreadsheet formula neutralisation for every CSV/TSV synthcust writes (OWASP CSV injection).

A cell or header that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run
as a formula by Excel, LibreOffice and Google Sheets when the file is opened (``=HYPERLINK(...)``,
``=cmd|'/c calc'!A1``). Synthetic text columns can carry such values straight from the real
data, so :func:`write_table` (and the service's CSV answers) prefix those cells with a single
quote, which spreadsheets show as text and never evaluate. Numbers in numeric columns are left
alone (``-5`` stays a number); only text cells and headers are touched.

Opt out with ``raw_csv=True`` (CLI ``--raw-csv``) when the file feeds a program, not a person:
the quote is part of the cell for any reader that is not a spreadsheet.

>>> import pandas as pd
>>> out = neutralise_formulas(pd.DataFrame({"note": ["=1+1", "ok", None], "x": [-1, 2, 3]}))
>>> out["note"].tolist()[:2], out["x"].tolist()
(["'=1+1", 'ok'], [-1, 2, 3])
"""

from __future__ import annotations

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "line_end", "neutralise_formulas", "to_csv_text"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = r"^[=+\-@\t\r]"


def _needs_quote(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and headers cannot run as spreadsheet formulas.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame about to be written as CSV/TSV; it is not modified.

    Returns
    -------
    pandas.DataFrame
        The same frame when nothing needed quoting, else a copy in which every text cell and
        column name starting with one of :data:`FORMULA_PREFIXES` has a ``'`` in front.
    """
    out = df
    renamed = {c: f"'{c}" for c in df.columns if isinstance(c, str) and _needs_quote(c)}
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype):
                text = cats.astype(str)
                bad = text.str.contains(_PATTERN, regex=True)
                if bad.any():
                    out = out.copy() if out is df else out
                    new = text.where(~bad, "'" + text)
                    out[col] = s.cat.rename_categories(dict(zip(cats, new, strict=True)))
            continue
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        text = s.astype("string")  # object columns: every non-missing cell as its text
        bad = text.str.contains(_PATTERN, regex=True).fillna(False).to_numpy(bool)
        if bad.any():
            out = out.copy() if out is df else out
            fixed = s.astype(object).copy()
            fixed[bad] = "'" + text[bad].astype(object)
            out[col] = fixed
    if renamed:
        out = out.rename(columns=renamed)
    return out


def line_end(df: pd.DataFrame) -> str:
    """The line terminator that keeps ``df``'s cells intact in CSV: ``"\\r\\n"`` when a text
    cell holds a carriage return (Python's csv module quotes a field only for the characters of
    the terminator, so with ``"\\n"`` such a cell would be read back as two rows), else ``"\\n"``.
    """
    for col in df.columns:
        s = df[col]
        is_text = s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
        if is_text and s.astype("string").str.contains("\r", regex=False).fillna(False).any():
            return "\r\n"
    return "\n"


def to_csv_text(df: pd.DataFrame, *, sep: str = ",", raw_csv: bool = False) -> str:
    """``df`` as CSV text (no index), formulas neutralised unless ``raw_csv``.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows to serialise.
    sep : str, default ","
        Field separator (``"\\t"`` for TSV).
    raw_csv : bool, default False
        Write cells exactly as they are (no quote in front of formula-like cells).

    Returns
    -------
    str
        The CSV document (``\\n`` line ends; ``\\r\\n`` when a cell holds a ``\\r``).
    """
    frame = df if raw_csv else neutralise_formulas(df)
    return frame.to_csv(sep=sep, index=False, lineterminator=line_end(frame))
