"""Persona cards: who each persona is, what sets it apart (its traits) and typical values.

A card holds the persona's size, its **distinguishing traits** (every used column compared with
the population; see :mod:`synthcust.personas.traits`), typical values, and a name and a short
description generated from the top traits by fixed templates (deterministic; see
:mod:`synthcust.personas.naming`). Synthetic members are added by
:func:`synthcust.personas.members.add_members`.

Examples
--------
>>> from synthcust.demo import simulate_customers
>>> from synthcust.personas import PersonaSegmenter, describe_personas
>>> df = simulate_customers(800, random_state=0, with_pii=False)
>>> seg = PersonaSegmenter(k=3, random_state=0).fit(df)
>>> cards = describe_personas(df, seg)
>>> [c.id for c in cards.cards]
['P1', 'P2', 'P3']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import ConditionError, DataError
from synthcust.personas.columns import MISSING_LEVEL, ColumnPlan
from synthcust.personas.naming import name_cards
from synthcust.personas.segment import PersonaSegmenter
from synthcust.personas.traits import (
    ALPHA,
    MIN_EFFECT,
    Trait,
    jsonable,
    numeric_traits,
    share_traits,
    unknown_persona_message,
)

__all__ = ["PersonaCard", "PersonaCards", "describe_personas"]


@dataclass
class PersonaCard:
    """Everything shown for one persona."""

    id: str
    name: str
    description: str
    size: int
    share: float
    traits: list[Trait]  # distinguishing ones first, by |effect|
    typical: dict[str, Any]
    members: pd.DataFrame | None = None
    agreement: float | None = None  # share of conditional draws assigned back to the persona

    def highlights(self, n: int = 3) -> list[Trait]:
        """The top ``n`` distinguishing traits, leaving out "less often missing than usual"."""
        return [t for t in self.shown_traits() if not (t.kind == "missing" and t.effect < 0)][:n]

    def shown_traits(self) -> list[Trait]:
        """Distinguishing traits by |effect|, "less often missing than usual" ones last."""
        dist = [t for t in self.traits if t.distinguishing]
        return sorted(dist, key=lambda t: t.kind == "missing" and t.effect < 0)  # stable

    def to_dict(self) -> dict[str, Any]:
        """The card as a JSON-able dict (``personas.json`` entry)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "size": self.size,
            "share": self.share,
            "traits": [asdict(t) for t in self.traits],
            "typical": {k: jsonable(v) for k, v in self.typical.items()},
            "synthetic_agreement": self.agreement,
            "members": None if self.members is None else [
                {k: jsonable(v) for k, v in r.items()} for r in self.members.to_dict("records")
            ],
        }


@dataclass
class PersonaCards:
    """The cards of every persona plus how they were found (``selection``: one row per k)."""

    cards: list[PersonaCard]
    n_rows: int
    columns: list[str]
    k: int
    chosen_by: str
    selection: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    n_tests: int = 0
    member_method: str | None = None

    def card(self, persona: str) -> PersonaCard:
        """The card of ``persona`` (id or name); ``ConditionError`` naming the known ones."""
        for c in self.cards:
            if persona in (c.id, c.name):
                return c
        raise ConditionError(unknown_persona_message(persona, [(c.id, c.name) for c in self.cards]))

    def to_dict(self) -> dict[str, Any]:
        """Every figure of the cards (``personas.json``)."""
        return {
            "n_rows": self.n_rows,
            "columns": self.columns,
            "k": self.k,
            "chosen_by": self.chosen_by,
            "selection": [{k: jsonable(v) for k, v in r.items()}
                          for r in self.selection.to_dict("records")],
            "notes": self.notes,
            "method": {
                "traits": f"one persona vs the rest; distinguishing = p < {ALPHA} after Bonferroni "
                f"over {self.n_tests} tests and |effect| >= {MIN_EFFECT}",
                "numeric": "Cohen's d and Welch's t on normal scores (rank-Gauss)",
                "levels": "share vs population, lift, Cohen's h, two-proportion z test",
                "members": self.member_method,
            },
            "personas": [c.to_dict() for c in self.cards],
        }



def describe_personas(
    df: pd.DataFrame,
    segmenter: PersonaSegmenter,
    labels: np.ndarray | None = None,
    *,
    top: int = 6,
) -> PersonaCards:
    """Cards (without members) for the personas of ``segmenter`` on the customers ``df``.

    ``labels``: persona id per row (default: ``segmenter.predict(df)``).
    """
    if labels is None:
        labels = segmenter.predict(df)
    labels = np.asarray(labels, dtype=object)
    if len(labels) != len(df):
        raise DataError(f"labels has {len(labels)} entries for {len(df)} rows")
    ids = list(segmenter.personas_)
    unknown = sorted(set(labels) - set(ids), key=str)
    if unknown:
        raise ConditionError(unknown_persona_message(unknown[0], [(i, i) for i in ids]))
    k = len(ids)
    lab = pd.Categorical(labels, categories=ids).codes.astype(np.int64)
    clean = segmenter.clean(df)
    plan = segmenter.plan_
    raw: list[tuple[int, dict]] = []
    for c in plan.numeric:
        s = clean[c]
        is_date = c in plan.dates
        x = (s.astype("datetime64[s]").astype("int64") / 86400.0).where(s.notna()) if is_date \
            else s
        x = x.to_numpy(dtype=float)
        raw += numeric_traits(x, lab, k, c, is_date)
        if not np.isfinite(x).all():
            raw += share_traits(~np.isfinite(x), lab, k, c, "missing", None)
    for c in plan.categorical:
        s = clean[c]
        for level in plan.levels[c]:
            hit = (s.isna() if level == MISSING_LEVEL else s == level).to_numpy()
            if hit.any():
                raw += share_traits(hit, lab, k, c, "level", level)
    n_tests = len(raw)
    alpha = ALPHA / max(n_tests, 1)
    per: list[list[Trait]] = [[] for _ in range(k)]
    for i, t in raw:
        dist = t["p_value"] < alpha and abs(t["effect"]) >= MIN_EFFECT
        per[i].append(Trait(distinguishing=bool(dist), **t))
    sizes = np.bincount(lab, minlength=k)
    cards = []
    for i, pid in enumerate(ids):
        traits = sorted(per[i], key=lambda t: (not t.distinguishing, -abs(t.effect), t.column))
        typical = _typical(clean[lab == i], plan)
        cards.append(PersonaCard(pid, "", "", int(sizes[i]), float(sizes[i] / len(df)),
                                 traits, typical))
    name_cards(cards, top)
    return PersonaCards(
        cards, len(df), plan.used, k, segmenter.chosen_by_, segmenter.selection_frame(),
        list(segmenter.notes_), n_tests,
    )


def _typical(part: pd.DataFrame, plan: ColumnPlan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in plan.numeric:
        s = part[c].dropna()
        if len(s) == 0:
            out[c] = None
        elif c in plan.dates:
            out[c] = s.sort_values().iloc[len(s) // 2].date().isoformat()
        else:
            out[c] = float(s.median())
    for c in plan.categorical:
        vc = part[c].fillna(MISSING_LEVEL).value_counts()
        out[c] = str(vc.index[0]) if len(vc) else None
    return out
