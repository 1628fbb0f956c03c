"""The constraint declarations, re-exported from :mod:`synthcust.rules`.

What a constraint *means* (its dataclass and vectorised check, :mod:`synthcust.rules.constraints`;
its JSON and text forms, :mod:`synthcust.rules.constraint_text`) is a rule and lives below the
schema that carries constraints;
this package keeps how they are enforced (:mod:`synthcust.constraints.plan`) and discovered
(:mod:`synthcust.constraints.discover`).
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
    combo_keys,
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
    "combo_keys",
    "constraint_from_dict",
    "parse_constraint",
]
