"""Reversible transforms between customer tables and numeric blocks that models learn."""

from synthcust.transform.codec import ColumnSpec, Encoded, TableCodec

__all__ = ["ColumnSpec", "Encoded", "TableCodec"]
