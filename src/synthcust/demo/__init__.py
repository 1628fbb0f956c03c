"""Bundled demo data: a documented, deterministic simulator of a retailer's customers."""

from synthcust.demo.world import (
    COLUMN_DESCRIPTIONS,
    DEMO_PII_COLUMNS,
    DEMO_UNIQUE_PII_COLUMNS,
    WORLD_DESCRIPTION,
    Persona,
    WorldParams,
    simulate_customers,
)

__all__ = [
    "COLUMN_DESCRIPTIONS",
    "DEMO_PII_COLUMNS",
    "DEMO_UNIQUE_PII_COLUMNS",
    "WORLD_DESCRIPTION",
    "Persona",
    "WorldParams",
    "simulate_customers",
]
