"""Synthesizers: models that learn a customer table and sample synthetic customers."""

from synthcust.synthesizers.autoregressive import AutoregressiveSynthesizer
from synthcust.synthesizers.base import REGISTRY, BaseSynthesizer
from synthcust.synthesizers.conditions import Range
from synthcust.synthesizers.copula import GaussianCopulaSynthesizer

__all__ = [
    "REGISTRY",
    "AutoregressiveSynthesizer",
    "BaseSynthesizer",
    "GaussianCopulaSynthesizer",
    "Range",
]
