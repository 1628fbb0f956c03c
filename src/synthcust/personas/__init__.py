"""Personas: segmentation of customer tables into personas, and persona cards.

>>> from synthcust.personas import PersonaSegmenter, describe_personas, sample_persona
"""

from synthcust.personas.cards import (
    PersonaCard,
    PersonaCards,
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
