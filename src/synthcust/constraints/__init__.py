"""Business-rule constraints: declare, discover, enforce and check them.

>>> from synthcust.constraints import parse_constraint
>>> parse_constraint("last_order >= first_order").describe()
'last_order >= first_order'
"""

from synthcust.rules.constraint_text import KINDS, constraint_from_dict, parse_constraint
from synthcust.rules.constraints import (
    AllowedValues,
    Constraint,
    FixedCombinations,
    Identity,
    Inequality,
    Range,
    Rule,
    UniqueKey,
)

__all__ = [
    "KINDS",
    "AllowedValues",
    "Constraint",
    "FixedCombinations",
    "Identity",
    "Inequality",
    "Range",
    "Rule",
    "UniqueKey",
    "constraint_from_dict",
    "parse_constraint",
]
