"""Personas: segmentation of customer tables into personas, cards, interviews and panels.

* :mod:`~synthcust.personas.segment` - :class:`PersonaSegmenter`, a latent-class mixture
  (:mod:`~synthcust.personas.columns`: which columns and how; :mod:`~synthcust.personas.mixture`:
  the EM);
* :mod:`~synthcust.personas.cards` - the cards' public names (traits, describe, naming,
  members, report);
* :mod:`~synthcust.personas.knowledge` - the retrieval index; :mod:`~synthcust.personas.interview`
  and :mod:`~synthcust.personas.panel` - language-model personas.

>>> from synthcust.personas import PersonaSegmenter, describe_personas, sample_persona
"""

from synthcust.personas.cards import (
    PersonaCard,
    PersonaCards,
    PersonaCardsReport,
    PersonaModel,
    Trait,
    add_members,
    describe_personas,
    fit_persona_model,
    load_persona_model,
    persona_agreement,
    render_html,
    sample_persona,
    write_cards,
)
from synthcust.personas.segment import (
    CRITERIA,
    KDiagnostics,
    PersonaSegmenter,
    align_labels,
    plan_columns,
)

__all__ = [
    "CRITERIA",
    "KDiagnostics",
    "PersonaCard",
    "PersonaCards",
    "PersonaCardsReport",
    "PersonaModel",
    "PersonaSegmenter",
    "Trait",
    "add_members",
    "align_labels",
    "describe_personas",
    "fit_persona_model",
    "load_persona_model",
    "persona_agreement",
    "plan_columns",
    "render_html",
    "sample_persona",
    "write_cards",
]
