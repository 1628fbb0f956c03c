"""Synthesizers: models that learn a customer table and sample synthetic customers."""

from synthcust.synthesizers.autoregressive import AutoregressiveSynthesizer
from synthcust.synthesizers.base import REGISTRY, BaseSynthesizer
from synthcust.synthesizers.conditions import Range
from synthcust.synthesizers.copula import GaussianCopulaSynthesizer
from synthcust.synthesizers.ctgan import CTGANSynthesizer
from synthcust.synthesizers.dp_marginal import DPMarginalSynthesizer as DPMarginalSynthesizer
from synthcust.synthesizers.tvae import TVAESynthesizer

__all__ = [
    "REGISTRY",
    "AutoregressiveSynthesizer",
    "BaseSynthesizer",
    "CTGANSynthesizer",
    "GaussianCopulaSynthesizer",
    "Range",
    "TVAESynthesizer",
]
