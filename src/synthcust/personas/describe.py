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

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import ConditionError, DataError
from synthcust.personas.columns import MISSING_LEVEL, ColumnPlan
from synthcust.personas.kpi import KPI, kpi_stats, parse_kpi
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
    kpis: list[KPI] = field(default_factory=list)  # pinned KPIs: real rate and 95% CI

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
            "kpis": [k.to_dict() for k in self.kpis],
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
    kpi: list[str] = field(default_factory=list)  # the pinned KPIs' labels
    warnings: list[str] = field(default_factory=list)  # e.g. k at the edge of the range

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
            "warnings": self.warnings,
            "kpi": self.kpi,
            "method": {
                "traits": f"one persona vs the rest; distinguishing = p < {ALPHA} after Bonferroni "
                f"over {self.n_tests} tests and |effect| >= {MIN_EFFECT}",
                "numeric": "Cohen's d and Welch's t on normal scores (rank-Gauss)",
                "levels": "share vs population, lift, Cohen's h, two-proportion z test",
                "members": self.member_method,
                "kpi": "rate with Wilson's 95% score interval, or mean +- 1.96 standard errors; "
                "missing values left out",
                "collapsed": "category levels (and missingness) that pick exactly the same "
                "customers are one trait, listed under same_as",
            },
            "personas": [c.to_dict() for c in self.cards],
        }



def describe_personas(
    df: pd.DataFrame,
    segmenter: PersonaSegmenter,
    labels: np.ndarray | None = None,
    *,
    top: int = 6,
    kpi: list[str] | None = None,
) -> PersonaCards:
    """Cards (without members) for the personas of ``segmenter`` on the customers ``df``.

    Parameters
    ----------
    df
        The customers.
    segmenter
        The fitted segmenter.
    labels
        Persona id per row (default: ``segmenter.predict(df)``).
    top
        Traits the names are built from.
    kpi
        KPIs pinned on every card, each ``column`` or ``column=level``
        (:func:`~synthcust.personas.kpi.parse_kpi`): the persona's real rate (or mean) with
        its 95% CI and the population's.

    Returns
    -------
    PersonaCards
    """
    specs = [parse_kpi(df, k) for k in (kpi or [])]
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
    seen: dict[bytes, tuple[str, list[str]]] = {}  # indicator -> (its first "col = level",
    for c in plan.numeric:                          # the others that equal it)
        s = clean[c]
        is_date = c in plan.dates
        x = (s.astype("datetime64[s]").astype("int64") / 86400.0).where(s.notna()) if is_date \
            else s
        x = x.to_numpy(dtype=float)
        raw += numeric_traits(x, lab, k, c, is_date)
        if not np.isfinite(x).all() and _first(seen, ~np.isfinite(x), f"{c} missing"):
            raw += share_traits(~np.isfinite(x), lab, k, c, "missing", None)
    for c in plan.categorical:
        s = clean[c]
        for level in plan.levels[c]:
            hit = (s.isna() if level == MISSING_LEVEL else s == level).to_numpy()
            if hit.any() and _first(seen, hit, f"{c} = {level}"):
                raw += share_traits(hit, lab, k, c, "level", level)
    same = {first: tuple(rest) for first, rest in seen.values() if rest}
    raw = [(i, {**t, "same_as": same.get(_trait_key(t), ())}) for i, t in raw]
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
    for spec in specs:
        for card, stat in zip(cards, kpi_stats(df, spec, labels, ids), strict=True):
            card.kpis.append(stat)
    name_cards(cards, top)
    return PersonaCards(
        cards, len(df), plan.used, k, segmenter.chosen_by_, segmenter.selection_frame(),
        list(segmenter.notes_), n_tests, kpi=[sp.label for sp in specs],
        warnings=[w for w in [getattr(segmenter, "k_warning_", None)] if w],
    )


def _trait_key(t: dict[str, Any]) -> str:
    return f"{t['column']} missing" if t["kind"] == "missing" else f"{t['column']} = {t['level']}"


def _first(seen: dict[bytes, tuple[str, list[str]]], hit: np.ndarray, name: str) -> bool:
    """Whether the 0/1 indicator ``hit`` is new; if not, ``name`` joins the first one's list."""
    key = hashlib.blake2b(np.packbits(hit.astype(bool)).tobytes(), digest_size=16).digest()
    if key in seen:
        seen[key][1].append(name)
        return False
    seen[key] = (name, [])
    return True


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
