"""Shared plumbing of the neural synthesizers (torch is imported lazily, only when used)."""
