"""Sampling conditions: fixed values, sets of values and numeric/date ranges per column.

Python: ``{"sex": "Female", "workclass": ["Private", "State-gov"], "age": Range(30, 40)}``.
CLI: ``--condition sex=Female``, ``workclass=Private|State-gov``, ``age=30..40``, ``age>=30``.

The definitions live lower down, so that constraints and segments can use them:
:mod:`synthcust.rules.conditions` (the values a user states) and
:mod:`synthcust.transform.conditions` (compiled against a fitted codec).
"""

from __future__ import annotations

from synthcust.rules.conditions import Range, parse_condition_text
from synthcust.transform.conditions import (
    CategoricalCondition,
    Condition,
    NumericCondition,
    compile_conditions,
    show_number,
    to_number,
)

__all__ = [
    "CategoricalCondition",
    "Condition",
    "NumericCondition",
    "Range",
    "compile_conditions",
    "parse_condition_text",
    "show_number",
    "to_number",
]
