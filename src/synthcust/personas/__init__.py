"""Personas: segmentation of customer tables and persona cards."""
