"""Small checks and messages shared by every layer (nothing here knows a schema or a model)."""

from __future__ import annotations

import difflib

__all__ = ["unknown_column_message"]


def unknown_column_message(name: object, known: list[str]) -> str:
    """The message for a column that is not in the data: a close match and the known names.

    Parameters
    ----------
    name : object
        The column asked for.
    known : list of str
        The columns that exist (the first 20 are shown).

    Returns
    -------
    str
        ``"unknown column 'agee': did you mean 'age'? known columns are age, plan"``.

    Examples
    --------
    >>> unknown_column_message("agee", ["age", "plan"])
    "unknown column 'agee': did you mean 'age'? known columns are age, plan"
    """
    hint = difflib.get_close_matches(str(name), known, n=1)
    sugg = f"did you mean {hint[0]!r}? " if hint else ""
    shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
    return f"unknown column {name!r}: {sugg}known columns are {shown}"
