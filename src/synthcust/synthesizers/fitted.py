"""A fitted single-table model as the user sees it: synthesizer + source schema + PII plan.

:class:`SynthModel` is what :func:`synthcust.fit` returns and :func:`load_model` reads back. It
lives here, below the workflows, so that personas, studies and scale can use a fitted model
without importing the public faces (``synthcust.api``, ``synthcust.workflows``).

>>> import pandas as pd
>>> from synthcust.synthesizers import GaussianCopulaSynthesizer
>>> from synthcust.schema.infer import infer_schema
>>> df = pd.DataFrame({"age": [20, 30, 40, 50] * 25, "plan": ["a", "b"] * 50})
>>> s = infer_schema(df)
>>> m = SynthModel(GaussianCopulaSynthesizer(random_state=0).fit(df, s), s, None, list(df))
>>> len(m.sample(10, random_state=0))
10
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.persist import CORRUPT_MODEL_ERRORS, load_bundle
from synthcust.exceptions import (
    ConditionError,
    ModelFileError,
    SchemaError,
    SegmentError,
)
from synthcust.privacy import PIIReport, apply_pii, detect_pii
from synthcust.rules.segments import Segment, check_segment, load_segments
from synthcust.schema.infer import infer_column, infer_schema
from synthcust.schema.model import Schema
from synthcust.schema.validate import validate
from synthcust.synthesizers.base import REGISTRY, BaseSynthesizer
from synthcust.synthesizers.neural.training import heartbeat, progress_to

__all__ = ["SynthModel", "fit_model", "load_model", "prepare_schema"]


@dataclass
class SynthModel:
    """A fitted synthesizer plus what surrounds it: the source schema, the PII plan and segments.

    Use :meth:`sample` to draw synthetic customers, :meth:`save` / :func:`load_model` to
    persist.

    Parameters
    ----------
    synthesizer : BaseSynthesizer
        The fitted synthesizer (it learned the frame after PII handling).
    schema : Schema
        The schema of the source data, before PII handling.
    pii : PIIReport or None
        What PII was found and how it was handled (fakes are regenerated at sample time).
    column_order : list of str
        The output columns, in the source's order.
    segments : dict
        Named segments (:class:`synthcust.rules.segments.Segment`) defined at fit time.
    ledger_charge : dict or None
        For a differentially private fit charged to a workspace: the ledger entry it was
        charged under (``charge_id``, ``fingerprint``, ``epsilon``, ``delta``, ``mechanism``,
        ``workspace``), kept in the model file so the spend can be checked later.
    """

    synthesizer: BaseSynthesizer
    schema: Schema
    pii: Any  # synthcust.privacy.PIIReport or None
    column_order: list[str]
    segments: dict[str, Segment] = field(default_factory=dict)
    ledger_charge: dict[str, Any] | None = None

    def sample(
        self,
        n: int,
        *,
        conditions: Mapping[str, Any] | None = None,
        segment: str | Segment | None = None,
        random_state: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> pd.DataFrame:
        """Draw ``n`` synthetic customers, optionally of one segment and/or with conditions.

        Parameters
        ----------
        n : int
            Number of rows.
        conditions : mapping, optional
            ``{column: value}``; a value may be a list of allowed values or a
            :class:`synthcust.synthesizers.Range`.
        segment : str or Segment, optional
            A segment defined at fit time (by name) or an ad-hoc one.
        random_state : int, optional
            Same seed, same rows.
        progress : callable, optional
            ``progress(message)`` with the status of long sampling: every ~10 s (every second
            on a terminal) that it still runs and for how long, or finer where the model
            counts rows (see :func:`synthcust.synthesizers.neural.training.progress_to`).
            Without one, sampling longer than ~10 s prints the same status lines on stderr.

        Returns
        -------
        pandas.DataFrame
            ``n`` rows with the source's columns (learned, plus regenerated fake PII).
        """
        conds = dict(conditions or {})
        if segment is not None:
            seg = self._segment(segment)
            clash = sorted(set(conds) & set(seg.conditions))
            if clash:
                raise ConditionError(
                    f"conditions on {clash} clash with segment {seg.name!r} ({seg.rule}); "
                    "put them in the segment rule instead"
                )
            conds.update(seg.conditions)
        fakes = self.pii.fakes if self.pii is not None else []
        bad = sorted(set(conds) & {f.column for f in fakes})
        if bad:
            raise ConditionError(
                f"columns {bad} hold generated fake PII; they cannot be conditioned on"
            )
        what = f"sampling {n:,} rows ({self.synthesizer.name})"
        with progress_to(progress), heartbeat(what):
            out = self.synthesizer.sample(n, conditions=conds, random_state=random_state)
        if fakes:
            seed = (
                int(np.random.default_rng().integers(2**31))
                if random_state is None
                else int(np.random.default_rng([random_state, 1]).integers(2**31))
            )
            out = self.pii.plan.add_fakes(out, random_state=seed)
        return out[[c for c in self.column_order if c in out.columns]]

    def _segment(self, segment: str | Segment) -> Segment:
        if isinstance(segment, Segment):
            return segment
        if segment in self.segments:
            return self.segments[segment]
        known = ", ".join(sorted(self.segments)) or "none (define them with --segments at fit time)"
        raise SegmentError(f"unknown segment {segment!r}; this model knows: {known}")

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model file (the one synthcust format, kind ``"synthesizer"``)."""
        extra = {
            "source_schema": self.schema.to_dict(),
            "pii": self.pii.to_dict() if self.pii is not None else None,
            "column_order": self.column_order,
            "segments": {k: s.rule for k, s in self.segments.items()},
            "ledger_charge": self.ledger_charge,
        }
        return self.synthesizer.save(path, extra=extra)

    @property
    def training_warnings(self) -> list[str]:
        """Warnings about how training ended (kept in the model file): a fit stopped by its
        time budget while its validation loss was still falling says so here
        (:class:`~synthcust.exceptions.TrainingBudgetWarning` at fit time)."""
        log = getattr(self.synthesizer, "training_log_", None)
        if log is None:
            return []
        msg = log.budget_warning(self.synthesizer.name)
        return [msg] if msg else []

    @property
    def notes(self) -> list[str]:
        """What the synthesizer noted while fitting (dropped columns, caveats)."""
        return self.synthesizer.notes

    @property
    def learned_columns(self) -> list[str]:
        """Columns learned from the real data, the ones to evaluate against it.

        Leaves out columns whose PII was handled (dropped, faked, hashed, generalised,
        redacted: they no longer hold real values), ids (regenerated) and free text.
        """
        handled = set(self.pii.actions) if self.pii is not None else set()
        s = self.synthesizer
        plan = getattr(s, "plan_", None)
        keys = {k.column for k in plan.keys} if plan is not None else set()
        return [
            c
            for c in s.output_columns
            if c not in handled | keys and s.column_spec(c).kind not in ("id", "text")
        ]


def _charge(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("charge_id"), int):
        raise ValueError(f"ledger_charge must name its charge_id, got {value!r:.80}")
    return dict(value)


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"column_order must be a list of column names, got {value!r:.80}")
    return list(value)


def load_model(path: str | os.PathLike) -> SynthModel:
    """Load a model written by :meth:`SynthModel.save` (never unpickles anything).

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    SynthModel

    Raises
    ------
    ModelFileError
        When the file is missing, corrupt, of another kind, or incomplete.
    """
    meta, arrays = load_bundle(path)
    synth = BaseSynthesizer.from_bundle(meta, arrays, str(path))
    try:
        pii = PIIReport.from_dict(meta["pii"]) if meta.get("pii") else None
        return SynthModel(
            synthesizer=synth,
            schema=Schema.from_dict(meta["source_schema"]),
            pii=pii,
            column_order=_names(meta["column_order"]),
            segments=load_segments(meta.get("segments") or {}),
            ledger_charge=_charge(meta.get("ledger_charge")),
        )
    except CORRUPT_MODEL_ERRORS as e:
        raise ModelFileError(f"{str(path)!r}: model file is incomplete ({e}); re-fit") from e


def prepare_schema(
    data: pd.DataFrame,
    schema: Schema | None = None,
    target: str | None = None,
    *,
    findings: Mapping[str, Any] | None = None,
) -> Schema:
    """Infer (or check) the schema of ``data``, PII marked; every blocking problem at once.

    Parameters
    ----------
    data : pandas.DataFrame
        The real table.
    schema : Schema, optional
        A schema to check ``data`` against instead of inferring one.
    target : str, optional
        The target column (its role is set on the schema).
    findings : mapping, optional
        PII findings already made on ``data`` (:func:`synthcust.privacy.detect_pii`); found
        here when omitted and a schema is inferred.

    Returns
    -------
    Schema

    Raises
    ------
    SchemaError
        Every error-level problem of ``data`` against the schema, in one message.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"email": ["ann@example.com", "bob@example.org"] * 5, "age": range(10)})
    >>> prepare_schema(df)["email"].pii.value
    'email'
    """
    if schema is None:
        schema = infer_schema(data)
        found = detect_pii(data) if findings is None else findings
        marks = {
            name: {"pii": f.kind.value, "note": f.evidence}
            for name, f in found.items()
            if hasattr(f, "kind") and schema[name].pii is None
        }
        schema = schema.edit(marks) if marks else schema
        if target is not None:
            schema = schema.with_target(target)
    elif target is not None:
        schema = schema.with_target(target)
    errors = [str(p) for p in validate(data, schema) if p.severity == "error"]
    if errors:
        raise SchemaError(errors)
    return schema


def fit_model(
    data: pd.DataFrame,
    schema: Schema,
    synthesizer: str,
    *,
    params: Mapping[str, Any] | None = None,
    findings: Mapping[str, Any] | None = None,
    pii_policies: Mapping[str, str] | None = None,
    segments: Mapping[str, str] | None = None,
    random_state: int | None = None,
    hash_key: bytes | None = None,
    progress: Callable[[str], None] | None = None,
    rules: str = "auto",
) -> SynthModel:
    """Handle PII, check segments, then fit ``synthesizer`` on the clean frame.

    The building block below the fit workflow (:func:`synthcust.workflows.fit.fit`, which adds
    the defaults, differential privacy and the ledger): studies and personas that fit a model
    of a named kind call it directly.

    Parameters
    ----------
    data : pandas.DataFrame
        The real rows (never modified).
    schema : Schema
        Their schema, from :func:`prepare_schema` (PII marked).
    synthesizer : str
        A registered synthesizer name.
    params : mapping, optional
        Its parameters.
    findings : mapping, optional
        PII findings already made on ``data`` (found here when omitted).
    pii_policies : mapping, optional
        ``{column: policy}`` overriding the schema's and the defaults.
    segments : mapping, optional
        ``{name: rule}``.
    random_state : int, optional
        Seed of PII handling and the synthesizer.
    hash_key : bytes, optional
        Key of the ``hash`` policy.
    progress : callable, optional
        ``progress(message)`` with the training's status (epochs, losses, seconds): every
        epoch when stderr is a terminal, else every ~10 s (models without epochs: that the fit
        still runs, and for how long); a fit stopped by its time budget
        before convergence also warns (:class:`~synthcust.exceptions.TrainingBudgetWarning`,
        kept in :attr:`SynthModel.training_warnings`).
    rules : {"auto", "off"}, default "auto"
        Discover and enforce the clean frame's own exact rules (never under DP; see
        :meth:`~synthcust.synthesizers.base.BaseSynthesizer.fit`).

    Returns
    -------
    SynthModel
    """
    if synthesizer not in REGISTRY:
        raise SchemaError(
            f"unknown synthesizer {synthesizer!r}; available: {', '.join(sorted(REGISTRY))}"
        )
    if findings is None:
        findings = detect_pii(data)
    clean, report = apply_pii(
        data,
        _pii_findings(findings, schema),
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
    synth = REGISTRY[synthesizer](random_state=random_state, **dict(params or {}))
    with progress_to(progress), heartbeat(f"fitting {synthesizer} on {len(clean):,} rows"):
        synth.fit(clean, clean_schema, rules=rules)
    fakes = {f.column for f in report.fakes}
    order = [c for c in data.columns if c in clean.columns or c in fakes]
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


def _pii_findings(found: Mapping[str, Any], schema: Schema) -> dict[str, Any]:
    """PII per column: the detector's findings (with evidence) plus what the schema declares."""
    out: dict[str, Any] = dict(found)
    for col in schema:
        if col.pii is None:
            out.pop(col.name, None)  # the user's schema says it is not PII
        elif col.name not in out or out[col.name].kind != col.pii:
            out[col.name] = col.pii
    return out


def _pii_policies(schema: Schema, overrides: Mapping[str, str] | None) -> dict[str, str]:
    out = {c.name: c.pii_policy.value for c in schema if c.pii_policy is not None}
    out.update(overrides or {})
    return out
