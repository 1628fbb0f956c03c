"""Augmentation of customer-facing text: on-brand copy variations from a few approved lines."""

from synthcust.augment.text import (
    AugmentResult,
    BrandVoiceClassifier,
    augment_text,
    distinct_n,
    read_seed_lines,
)

__all__ = [
    "AugmentResult",
    "BrandVoiceClassifier",
    "augment_text",
    "distinct_n",
    "read_seed_lines",
]
