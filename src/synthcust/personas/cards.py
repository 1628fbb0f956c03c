"""Persona cards: who each persona is, what sets it apart, and synthetic members to meet.

This module gathers the cards' public names; they live in

* :mod:`synthcust.personas.traits` - :class:`Trait` and how traits are measured;
* :mod:`synthcust.personas.describe` - :class:`PersonaCard`, :class:`PersonaCards`,
  :func:`describe_personas`;
* :mod:`synthcust.personas.naming` - names and descriptions from the top traits;
* :mod:`synthcust.personas.members` - :class:`PersonaModel` and synthetic members;
* :mod:`synthcust.personas.report` - the HTML + JSON report of the cards.

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

from synthcust.personas.describe import PersonaCard, PersonaCards, describe_personas
from synthcust.personas.members import (
    PERSONA_COLUMN,
    PersonaModel,
    add_members,
    fit_persona_model,
    load_persona_model,
    persona_agreement,
    sample_persona,
)
from synthcust.personas.report import PersonaCardsReport, render_html, write_cards
from synthcust.personas.traits import ALPHA, MIN_EFFECT, Trait

__all__ = [
    "ALPHA",
    "MIN_EFFECT",
    "PERSONA_COLUMN",
    "PersonaCard",
    "PersonaCards",
    "PersonaCardsReport",
    "PersonaModel",
    "Trait",
    "add_members",
    "describe_personas",
    "fit_persona_model",
    "load_persona_model",
    "persona_agreement",
    "render_html",
    "sample_persona",
    "write_cards",
]
