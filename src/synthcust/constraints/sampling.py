"""The sampling loop: draw, check every constraint and condition, keep the rows that pass.

It draws in at most :data:`MAX_ROUNDS` rounds and :data:`MAX_FACTOR` ``* n`` rows, after
which a :class:`~synthcust.exceptions.ConstraintError` names the constraint that fails most:
the result has exactly ``n`` rows or an error, never fewer rows, never an endless loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from synthcust.constraints.common import frame_of_columns
from synthcust.exceptions import ConstraintError

__all__ = ["MAX_FACTOR", "MAX_ROUNDS", "RowChecks", "sample_rows"]

#: Rounds of drawing at most.
MAX_ROUNDS = 10
#: Rows drawn at most, as a multiple of the rows asked for.
MAX_FACTOR = 200


class RowChecks(Protocol):
    """What the loop needs from a :class:`~synthcust.constraints.plan.ConstraintPlan`."""

    def settle_rules(
        self, out: pd.DataFrame, rng: np.random.Generator, donors: pd.DataFrame | None = None
    ) -> int:
        """Repair broken implications in place (values from ``donors`` when given)."""
        ...

    def settle_identities(self, out: pd.DataFrame, mode: str | None) -> tuple[np.ndarray, str]:
        """Which rows obey every identity (repairing them in ``"repair"`` mode)."""
        ...

    def check(
        self, df: pd.DataFrame, reference: pd.DataFrame | None = None, *, full: bool = True
    ) -> dict[str, np.ndarray]:
        """Per constraint: which rows obey it."""
        ...

    def rebuilt_in_range(self, out: pd.DataFrame) -> np.ndarray:
        """Rows whose rebuilt values lie inside the real range."""
        ...

    def condition_mask(self, df: pd.DataFrame, conds: list[Any]) -> np.ndarray:
        """Rows that meet the compiled conditions."""
        ...


def sample_rows(
    checks: RowChecks,
    n: int,
    draw: Callable[[int], pd.DataFrame],
    post_conds: list[Any],
    rng: np.random.Generator | None = None,
    donor_draw: Callable[[int], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """``n`` rows obeying every constraint and condition, from ``draw(m)`` (inverse applied).

    Parameters
    ----------
    checks : RowChecks
        The fitted plan whose constraints the rows must obey.
    n : int
        Rows wanted.
    draw : callable
        ``draw(m)``: ``m`` fresh rows from the model, in the user's columns.
    post_conds : list
        Compiled conditions checked on the output (those the model cannot take directly).
    rng : numpy.random.Generator, optional
        Picks the donor rows of implication repairs (a fixed seed when omitted).
    donor_draw : callable, optional
        ``donor_draw(m)``: ``m`` unconditional rows; implication repairs take their values
        from them instead of the (conditional) batch itself, so a conditional sample matches
        the model's unconditional rows repaired and then filtered to the condition.

    Returns
    -------
    pandas.DataFrame
        Exactly ``n`` rows.

    Raises
    ------
    ConstraintError
        When ``MAX_ROUNDS`` rounds or ``MAX_FACTOR * n`` rows were not enough; names the
        constraint that held least often.
    """
    parts: list[pd.DataFrame] = []
    have, drawn, rate = 0, 0, 1.0
    passed: dict[str, int] = {}
    mode: str | None = None  # identities: decided on the first batch, kept for the call
    rng = np.random.default_rng(0) if rng is None else rng
    # the first round draws n (+8): most rows pass, and a short second round is cheaper
    # than drawing spares every time; later rounds scale by the pass rate seen, + 10%
    for r in range(MAX_ROUNDS):
        need = n - have
        spare = 1.0 if r == 0 else 1.1
        m = min(math.ceil(need / max(rate, 1e-3) * spare) + 8, MAX_FACTOR * n - drawn)
        if m <= 0:
            break
        out = draw(m)
        drawn += m
        checks.settle_rules(out, rng, None if donor_draw is None else donor_draw(m))
        _, mode = checks.settle_identities(out, mode)
        masks = checks.check(out, full=False)
        masks["rebuilt values inside the real range"] = checks.rebuilt_in_range(out)
        if post_conds:
            masks["the sampling conditions"] = checks.condition_mask(out, post_conds)
        ok = np.ones(len(out), dtype=bool)
        for name, msk in masks.items():
            passed[name] = passed.get(name, 0) + int(msk.sum())
            ok &= msk
        if ok.all() and len(out) <= need:
            parts.append(out)
        else:  # column by column: no consolidation of the frame into 2-D blocks
            idx = np.flatnonzero(ok)[:need]
            parts.append(
                frame_of_columns(
                    {
                        c: out[c].to_numpy()[idx]
                        if isinstance(out[c].dtype, np.dtype) and out[c].dtype.kind in "biufcM"
                        else out[c].iloc[idx]
                        for c in out.columns
                    },
                    len(idx),
                )
            )
        have += min(int(ok.sum()), need)
        rate = max(int(ok.sum()), 1) / len(out)
        if have >= n:
            break
    if have < n:
        worst = min(passed, key=lambda k: passed[k]) if passed else "?"
        share = passed.get(worst, 0) / max(drawn, 1)
        raise ConstraintError(
            f"could generate only {have:,} of {n:,} rows that obey every constraint "
            f"({drawn:,} rows drawn in {MAX_ROUNDS} rounds at most): '{worst}' held in "
            f"{share:.2%} of generated rows; loosen or remove it, or check that it agrees "
            "with the data and the other constraints"
        )
    return (
        pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    )
