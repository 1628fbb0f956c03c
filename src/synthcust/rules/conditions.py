"""Sampling conditions as the user states them: fixed values, sets of values and ranges.

Python: ``{"sex": "Female", "workclass": ["Private", "State-gov"], "age": Range(30, 40)}``.
CLI: ``--condition sex=Female``, ``workclass=Private|State-gov``, ``age=30..40``, ``age>=30``.

These are plain values, known to no model: segments (:mod:`synthcust.rules.segments`) compile
to them, and :mod:`synthcust.transform.conditions` checks them against a fitted codec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from synthcust.exceptions import ConditionError

__all__ = ["Range", "parse_condition_text"]


@dataclass(frozen=True)
class Range:
    """A closed numeric (or date) range; either end may be open (``None``).

    Parameters
    ----------
    low, high : number, date text or None
        The bounds; ``None`` leaves that side open.
    low_inclusive, high_inclusive : bool
        Whether each bound itself is allowed.

    Examples
    --------
    >>> Range(30, 40)
    Range(low=30, high=40, low_inclusive=True, high_inclusive=True)
    """

    low: Any = None
    high: Any = None
    low_inclusive: bool = True
    high_inclusive: bool = True


_OP_RE = re.compile(r"^\s*([^<>=!]+?)\s*(>=|<=|==|=|>|<)\s*(.*?)\s*$")


def parse_condition_text(text: str) -> tuple[str, Any]:
    """Parse one CLI condition (``col=value``, ``col=a|b``, ``col=lo..hi``, ``col>=x``).

    Parameters
    ----------
    text : str
        The condition as typed after ``--condition``.

    Returns
    -------
    tuple of (str, value)
        The column and its condition: a value, a list of values or a :class:`Range`.

    Raises
    ------
    ConditionError
        If the text has none of the accepted forms.

    Examples
    --------
    >>> parse_condition_text("age=30..40")
    ('age', Range(low='30', high='40', low_inclusive=True, high_inclusive=True))
    >>> parse_condition_text("plan=basic|pro")
    ('plan', ['basic', 'pro'])
    """
    m = _OP_RE.match(text)
    if not m or not m.group(3):
        raise ConditionError(
            f"cannot read condition {text!r}; write col=value, col=a|b, col=low..high or col>=x"
        )
    col, op, val = m.group(1).strip(), m.group(2), m.group(3)
    if op in ("=", "=="):
        if ".." in val:
            lo, hi = val.split("..", 1)
            return col, Range(lo or None, hi or None)
        if "|" in val:
            return col, val.split("|")
        return col, val
    if op == ">=":
        return col, Range(val, None)
    if op == ">":
        return col, Range(val, None, low_inclusive=False)
    if op == "<=":
        return col, Range(None, val)
    return col, Range(None, val, high_inclusive=False)
