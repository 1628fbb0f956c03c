"""New rows obey the data's own rules: implications, ``A <= B`` and identities.

SMOTE picks each categorical value of a new row from the neighbours independently (and
interpolates numbers), and a generative model of one class learns from few rows: both can
write combinations the real table never shows ("no internet service" in the service column,
an add-on answer in an add-on column). :func:`obey_rules` discovers the exact rules of the
whole feature table (:func:`synthcust.constraints.auto.discover_rules`: each true of every
real row, backed by at least 50 rows) and repairs the new rows only:

* an implication's implied column takes the value of a row (real or new) that meets the
  premise and obeys it (:mod:`synthcust.constraints.implications`);
* an identity's derived column is computed from its inputs;
* ``high >= low``: a high below its low is raised to the low (an interpolation of two rows
  that obey it obeys it already; this catches the model-drawn rows).

What still breaks a rule after that is counted in the oversampler's ``notes_``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthcust.constraints.auto import RULES_MODES, discover_rules
from synthcust.constraints.plan import ConstraintPlan
from synthcust.exceptions import DataError
from synthcust.rules.constraints import Inequality
from synthcust.schema.infer import infer_schema

__all__ = ["obey_rules"]


def obey_rules(
    X: pd.DataFrame,
    Xn: pd.DataFrame,
    rng: np.random.Generator,
    notes: list[str],
    mode: str = "auto",
) -> pd.DataFrame:
    """``Xn`` (new rows, ``X``'s columns) repaired to obey the exact rules of ``X``.

    Parameters
    ----------
    X : pandas.DataFrame
        The real feature rows.
    Xn : pandas.DataFrame
        The new rows (not modified; a repaired copy is returned).
    rng : numpy.random.Generator
        Picks donor rows for implications.
    notes : list of str
        Gets a line saying what was repaired (and what could not be).
    mode : {"auto", "off"}
        ``"off"`` returns ``Xn`` unchanged.

    Returns
    -------
    pandas.DataFrame
    """
    if mode not in RULES_MODES:
        raise DataError(f"rules must be one of {', '.join(RULES_MODES)}, got {mode!r}")
    if mode == "off" or not len(Xn) or not len(X.columns):
        return Xn
    schema = infer_schema(X, detect_pii=False)
    found = discover_rules(X, schema)
    if not found:
        return Xn
    full = schema.with_constraints(*(s.constraint for s in found))
    plan = ConstraintPlan(full.constraints, full).fit(X)
    frame = pd.concat([X, Xn[X.columns]], ignore_index=True)
    fixed = plan.settle_rules(frame, rng)  # real rows obey every rule: only new rows change
    out = frame.iloc[len(X) :].reset_index(drop=True)
    before = out.copy()
    plan.settle_identities(out, "repair")
    _raise_highs(out, plan)
    fixed += int((before.ne(out) & ~(before.isna() & out.isna())).to_numpy().sum())
    masks = plan.check(out, X, full=True)
    bad = np.zeros(len(out), dtype=bool)
    for ok in masks.values():
        bad |= ~ok
    msg = (
        f"{len(found)} exact rule(s) of the data enforced on the new rows "
        f"({fixed:,} value(s) repaired)"
    )
    if bad.any():
        msg += f"; {int(bad.sum()):,} new row(s) still break one"
    notes.append(msg)
    return out


def _raise_highs(out: pd.DataFrame, plan: ConstraintPlan) -> int:
    """``high = low`` where a non-strict ``high >= low`` is broken (in place); values changed."""
    n = 0
    for c in plan.constraints:
        if not isinstance(c, Inequality) or c.strict:
            continue
        typed = plan.typed(out, [c.low, c.high])
        bad = ~c.check(typed)
        if not bad.any():
            continue
        col = out[c.high].copy()
        low = out[c.low]
        if col.dtype != low.dtype and isinstance(col.dtype, np.dtype) and isinstance(
            low.dtype, np.dtype
        ):
            col = col.astype(np.result_type(col.dtype, low.dtype))
        col[bad] = low[bad].to_numpy()
        out[c.high] = col
        n += int(bad.sum())
    return n
