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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.persist import load_bundle
from synthcust.exceptions import ConditionError, ModelFileError, SegmentError
from synthcust.privacy import PIIReport
from synthcust.rules.segments import Segment, load_segments
from synthcust.schema.model import Schema
from synthcust.synthesizers.base import BaseSynthesizer

__all__ = ["SynthModel", "load_model"]


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
    """

    synthesizer: BaseSynthesizer
    schema: Schema
    pii: Any  # synthcust.privacy.PIIReport or None
    column_order: list[str]
    segments: dict[str, Segment] = field(default_factory=dict)

    def sample(
        self,
        n: int,
        *,
        conditions: Mapping[str, Any] | None = None,
        segment: str | Segment | None = None,
        random_state: int | None = None,
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
        }
        return self.synthesizer.save(path, extra=extra)

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
        keys = {k.column for k in s.plan_.keys} if getattr(s, "plan_", None) else set()
        return [
            c
            for c in s.output_columns
            if c not in handled | keys and s.column_spec(c).kind not in ("id", "text")
        ]


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
            column_order=list(meta["column_order"]),
            segments=load_segments(meta.get("segments") or {}),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{str(path)!r}: model file is incomplete ({e}); re-fit") from e
