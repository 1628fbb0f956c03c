"""Rules: the one safe expression language and what is written in it.

- :mod:`synthcust.rules.expr`: the parser/evaluator every rule goes through (constraints,
  segments, ``sample --where``), with one shape of error message;
- :mod:`synthcust.rules.constraints`: the constraint declarations (what they mean, vectorised
  check) and :mod:`synthcust.rules.constraint_text` their JSON and text forms;
  :mod:`synthcust.constraints` enforces and discovers them (and re-exports all of these);
- :mod:`synthcust.rules.conditions`: sampling conditions as the user states them (values,
  lists, :class:`Range`, the CLI's ``col=a|b`` / ``col=lo..hi``);
- :mod:`synthcust.rules.segments`: named segments, compiled to exact sampling conditions.

The constraint ``Range`` (``low <= column <= high``) is :class:`synthcust.rules.constraints.Range`;
the ``Range`` exported here is the sampling condition.

>>> from synthcust.rules import parse_rule
>>> parse_rule("plan == 'pro' and age < 30")["plan"]
'pro'
"""

from synthcust.rules.conditions import Range, parse_condition_text
from synthcust.rules.expr import FUNCTIONS, Expr, expression_error, parse
from synthcust.rules.segments import (
    Segment,
    check_segment,
    load_segments,
    parse_rule,
    segment_mask,
)

__all__ = [
    "FUNCTIONS",
    "Expr",
    "Range",
    "Segment",
    "check_segment",
    "expression_error",
    "load_segments",
    "parse",
    "parse_condition_text",
    "parse_rule",
    "segment_mask",
]
