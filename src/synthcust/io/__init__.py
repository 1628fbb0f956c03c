"""Reading and writing tables: CSV, Parquet, DuckDB and SQL, with atomic writes.

>>> from synthcust.io import read_table, write_table  # doctest: +SKIP
"""

from synthcust.io.atomic import (
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    sweep_stale_temps,
)
from synthcust.io.csvsafe import neutralise_formulas, to_csv_text
from synthcust.io.limits import DEFAULT_LIMITS, LimitError, ReadLimits
from synthcust.io.readers import PROVENANCE_KEY, read_table
from synthcust.io.sniff import sniff_format
from synthcust.io.writers import DEFAULT_TABLE, write_table

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TABLE",
    "PROVENANCE_KEY",
    "LimitError",
    "ReadLimits",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "neutralise_formulas",
    "read_table",
    "sniff_format",
    "sweep_stale_temps",
    "to_csv_text",
    "write_table",
]
