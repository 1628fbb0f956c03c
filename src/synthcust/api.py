"""The public library surface: one call to fit, one to sample. The CLI and service wrap this.

>>> import synthcust.api as sc
>>> from synthcust.demo.world import simulate_customers
>>> model = sc.fit(simulate_customers(500, random_state=0), random_state=0)
>>> synthetic = model.sample(100, random_state=1)
>>> "email" in synthetic.columns   # planted PII was found and dropped before learning
False
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from synthcust.exceptions import SchemaError, SegmentError
from synthcust.privacy import infer_schema_with_pii
from synthcust.rules.segments import check_segment, load_segments
from synthcust.schema.infer import infer_column
from synthcust.schema.model import Schema
from synthcust.schema.validate import validate
from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.base import check_frame
from synthcust.synthesizers.fitted import SynthModel, load_model

__all__ = ["SynthModel", "available_synthesizers", "default_synthesizer", "fit", "load"]


def available_synthesizers() -> list[str]:
    return sorted(REGISTRY)


def default_synthesizer() -> str:
    """The flagship ``"autoregressive"`` when torch is installed, else ``"copula"``.

    The autoregressive model wins every fidelity, detection and utility figure in
    ``bench/bench_deep.py``; the copula needs no torch and fits in a fraction of a second.
    """
    from synthcust.synthesizers.neural.torchutil import torch_available

    return "autoregressive" if torch_available() else "copula"


load = load_model  # the public name: ``synthcust.api.load(path)``


def prepare_schema(
    data: pd.DataFrame, schema: Schema | None = None, target: str | None = None
) -> Schema:
    """Infer (or check) the schema of ``data``; every blocking problem raised at once."""
    if schema is None:
        schema = infer_schema_with_pii(data, target=target)
    elif target is not None:
        schema = schema.with_target(target)
    errors = [str(p) for p in validate(data, schema) if p.severity == "error"]
    if errors:
        raise SchemaError(errors)
    return schema


def fit(
    data: pd.DataFrame,
    *,
    schema: Schema | None = None,
    synthesizer: str | None = None,
    target: str | None = None,
    pii_policies: Mapping[str, str] | None = None,
    segments: Mapping[str, str] | None = None,
    random_state: int | None = None,
    hash_key: bytes | None = None,
    synthesizer_params: Mapping[str, Any] | None = None,
    constraints: Sequence[Any] | None = None,
) -> SynthModel:
    """Find and handle PII, then fit a synthesizer on ``data``.

    Nothing detected as PII reaches the model unless ``pii_policies`` says ``keep`` for it.
    ``synthesizer`` defaults to :func:`default_synthesizer` (the autoregressive model when torch
    is installed, else the Gaussian copula). ``constraints`` (objects of
    :mod:`synthcust.constraints` or text like ``"last_order >= first_order"``) are added to the
    schema's; every synthetic row obeys them.
    """
    from synthcust.privacy import apply_pii

    check_frame(data)
    if synthesizer is None:
        synthesizer = default_synthesizer()
    if synthesizer not in REGISTRY:
        raise SchemaError(
            f"unknown synthesizer {synthesizer!r}; available: {', '.join(available_synthesizers())}"
        )
    schema = prepare_schema(data, schema, target)
    if constraints:
        schema = schema.with_constraints(*constraints)
    clean, report = apply_pii(
        data,
        _pii_findings(data, schema),
        _pii_policies(schema, pii_policies),
        hash_key=hash_key,
        random_state=random_state or 0,
    )
    clean_schema = _schema_after_pii(clean, schema)
    segs = load_segments(segments or {})
    for seg in segs.values():
        missing = [c for c in seg.conditions if c not in clean.columns]
        if missing:
            raise SegmentError(
                f"segment {seg.name!r} uses columns {missing} that are not learned "
                f"(unknown, or removed as PII); learned columns: {list(clean.columns)}"
            )
        check_segment(clean, seg)
    synth = REGISTRY[synthesizer](random_state=random_state, **dict(synthesizer_params or {}))
    synth.fit(clean, clean_schema)
    order = [c for c in data.columns if c in clean.columns or c in {f.column for f in report.fakes}]
    return SynthModel(synth, schema, report, [str(c) for c in order], segs)


def _schema_after_pii(clean: pd.DataFrame, schema: Schema) -> Schema:
    """Columns PII handling left untouched keep their schema entry; changed ones are re-inferred.

    Constraints keep applying when every column they read is untouched; one that reads a PII
    column is dropped (its values are no longer the real ones it was stated for).
    """
    cols = []
    kept: set[str] = set()
    for name in clean.columns:
        if name in schema and schema[name].pii is None:
            cols.append(schema[name])
            kept.add(name)
        else:
            col, _ = infer_column(clean[name], n_rows=len(clean))
            cols.append(col)
    rules = tuple(k for k in schema.constraints if set(k.columns) <= kept)
    return Schema(tuple(cols), constraints=rules)


def _pii_findings(data: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """PII per column: the detector's findings (with evidence) plus what the schema declares."""
    from synthcust.privacy import detect_pii

    found: dict[str, Any] = dict(detect_pii(data))
    for col in schema:
        if col.pii is None:
            found.pop(col.name, None)  # the user's schema says it is not PII
        elif col.name not in found or found[col.name].kind != col.pii:
            found[col.name] = col.pii
    return found


def _pii_policies(schema: Schema, overrides: Mapping[str, str] | None) -> dict[str, str]:
    out = {c.name: c.pii_policy.value for c in schema if c.pii_policy is not None}
    out.update(overrides or {})
    return out
