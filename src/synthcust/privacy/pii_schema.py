"""PII marks on a schema: the fit workflow's step after :func:`~synthcust.schema.infer_schema`.

The schema layer knows no privacy; this module runs :func:`detect_pii` and writes what it
finds into the schema's ``pii`` marks, which the user can then review and edit.
"""

from __future__ import annotations

import warnings

import pandas as pd

from synthcust.privacy.pii_detect import detect_pii
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Schema

__all__ = ["infer_schema_with_pii", "mark_pii"]


def mark_pii(df: pd.DataFrame, schema: Schema) -> Schema:
    """Mark the columns :func:`detect_pii` flags with their PII kind.

    Columns the schema already marks (e.g. edited by the user) keep their mark.

    Parameters
    ----------
    df : pandas.DataFrame
        The table the schema describes.
    schema : Schema
        Its schema.

    Returns
    -------
    Schema
        The schema with ``pii`` and a ``note`` (the evidence) on every flagged column.

    Examples
    --------
    >>> import pandas as pd
    >>> from synthcust.schema.infer import infer_schema
    >>> df = pd.DataFrame({"email": ["ann@example.com", "bob@example.org"], "age": [31, 45]})
    >>> mark_pii(df, infer_schema(df))["email"].pii.value
    'email'
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        findings = detect_pii(df)
    if not findings:
        return schema
    changes = {}
    for name, f in findings.items():
        col = schema[name]
        if col.pii is None:
            changes[name] = {"pii": f.kind.value, "note": f.evidence}
    return schema.edit(changes) if changes else schema


def infer_schema_with_pii(df: pd.DataFrame, *, target: str | None = None) -> Schema:
    """Infer a schema for ``df`` and mark its PII columns, as every fit does.

    Parameters
    ----------
    df : pandas.DataFrame
        The customer table.
    target : str, optional
        A column to mark with the ``target`` role.

    Returns
    -------
    Schema
        :func:`~synthcust.schema.infer.infer_schema` followed by :func:`mark_pii`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"email": ["ann@example.com", "bob@example.org"], "age": [31, 45]})
    >>> s = infer_schema_with_pii(df)
    >>> [(c.name, c.pii.value if c.pii else None) for c in s]
    [('email', 'email'), ('age', None)]
    """
    schema = infer_schema(df)
    schema = mark_pii(df, schema)
    if target is not None:
        schema = schema.with_target(target)
    return schema
