"""The rules every fit discovers by default: the data's own implications, orders and identities.

:func:`discover_rules` runs discovery (:func:`~synthcust.constraints.discover.suggest_constraints`)
for the kinds that are cheap and exact to enforce and keeps the rules that hold in **every**
real row:

* implications between values (``if InternetService == 'No' then OnlineSecurity == 'No
  internet service'``; enforced by overwriting the implied column,
  :mod:`synthcust.constraints.implications`), each backed by at least ``min_support`` rows;
* inequalities ``high >= low`` (enforced by modelling ``high`` as a share of the room above
  ``low``), checked on at least ``min_support`` rows;
* identities ``c == a + b`` ... (derived or the model's slips rejected).

Fixed combinations and unique keys are not added by default (implications cover the first;
keys are the schema's business). A differentially private fit never calls this: rules read
from private rows would leak them (:meth:`synthcust.synthesizers.base.BaseSynthesizer.fit`).

>>> import pandas as pd
>>> df = pd.DataFrame({"service": ["No"] * 60 + ["DSL"] * 70 + ["Fiber"] * 70,
...                    "addon": ["none"] * 60 + ["Yes", "No"] * 70})
>>> [s.constraint.describe() for s in discover_rules(df)]
["if service == 'No' then addon == 'none'", "if addon == 'none' then service == 'No'"]
"""

from __future__ import annotations

import pandas as pd

from synthcust.constraints.discover import suggest_constraints
from synthcust.constraints.discover_implications import MIN_EVIDENCE, MIN_SUPPORT
from synthcust.constraints.suggestions import Suggestion
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Schema

__all__ = ["MIN_EVIDENCE", "MIN_SUPPORT", "RULES_MODES", "discover_rules"]

#: What ``rules=`` accepts: ``"auto"`` discovers (not under DP), ``"off"`` does not.
RULES_MODES = ("auto", "off")


def discover_rules(
    df: pd.DataFrame,
    schema: Schema | None = None,
    *,
    min_support: int = MIN_SUPPORT,
    random_state: int = 0,
) -> list[Suggestion]:
    """The exact rules of ``df`` a fit enforces by default (see the module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        The real rows.
    schema : Schema, optional
        Their schema (inferred when omitted); rules it declares are not found again, and the
        rules found agree with them (a :class:`ConstraintPlan` accepts them together).
    min_support : int, default 50
        Rows a rule must be checked on (the premise of an implication; both columns present
        for an inequality or identity). Below ``2 * min_support`` rows nothing is discovered.
    random_state : int, default 0
        Seeds the screening sample of identity and inequality search.

    Returns
    -------
    list of Suggestion
        ``support``: the rows that back each rule.
    """
    if len(df) < 2 * min_support:
        return []
    if schema is None:
        schema = infer_schema(df, detect_pii=False)
    found = suggest_constraints(
        df,
        schema,
        min_rows=min_support,
        min_rule_rows=min_support,
        keys=False,
        combinations=False,
        random_state=random_state,
    )
    return [s for s in found if s.exact]
