"""The constraint declarations, re-exported from :mod:`synthcust.rules.constraints`.

What a constraint *means* (its dataclass, JSON form, text form and vectorised check) is a rule
and lives in :mod:`synthcust.rules.constraints`, below the schema that carries constraints;
this package keeps how they are enforced (:mod:`synthcust.constraints.plan`) and discovered
(:mod:`synthcust.constraints.discover`).
"""

from synthcust.rules.constraints import (
    KINDS,
    AllowedValues,
    Constraint,
    FixedCombinations,
    Identity,
    Inequality,
    Range,
    Rule,
    UniqueKey,
    combo_keys,
    constraint_from_dict,
    parse_constraint,
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
