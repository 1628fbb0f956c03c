"""Synthetic members of personas: a synthesizer that learned the persona label as a column.

Members are never real rows: a synthesizer (the Gaussian copula by default) is fitted on the
segmenter's used columns plus the persona label, and members are drawn with the label as a
sampling condition, which the copula honours exactly (no rejection). A drawn row that equals a
real row in every used column is discarded and redrawn.

Examples
--------
>>> from synthcust.demo import simulate_customers
>>> from synthcust.personas import PersonaSegmenter
>>> df = simulate_customers(600, random_state=0, with_pii=False)
>>> seg = PersonaSegmenter(k=3, random_state=0).fit(df)
>>> model = fit_persona_model(df, seg, random_state=0)
>>> sample_persona(model, 5, "P2", random_state=1, with_names=False)["persona"].tolist()
['P2', 'P2', 'P2', 'P2', 'P2']
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from synthcust._utils.persist import load_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import (
    ConditionError,
    DataError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from synthcust.personas.describe import PersonaCards
from synthcust.personas.segment import PersonaSegmenter
from synthcust.personas.traits import unknown_persona_message
from synthcust.privacy.pii_fake import FakeSpec, fake_columns
from synthcust.schema.model import PIIKind
from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.fitted import fit_model, load_model, prepare_schema

__all__ = [
    "PERSONA_COLUMN",
    "PersonaModel",
    "add_members",
    "fit_persona_model",
    "load_persona_model",
    "persona_agreement",
    "sample_persona",
]

PERSONA_COLUMN = "persona"


class PersonaModel:
    """A synthesizer that learned the personas (their label is a column) plus the segmenter.

    ``PersonaModel(synthesizer).fit(df, segmenter)``; use :func:`sample_persona` to draw
    customers of one persona; save with :meth:`save`.

    Parameters
    ----------
    synthesizer
        A name of :data:`synthcust.synthesizers.REGISTRY` (default: the Gaussian copula).
    names
        Persona id -> card name (default: the ids).
    column
        Name of the persona label column the synthesizer learns.
    random_state
        Seed of the synthesizer (resolved by it with :func:`~synthcust._utils.rng.resolve_rng`).

    Attributes
    ----------
    synth_ : SynthModel
        The fitted synthesizer (with its schema), conditioned on ``column`` to draw members.
    segmenter_ : PersonaSegmenter
        The segmenter whose personas it learned.
    names_ : dict
        Persona id -> name.
    """

    def __init__(self, synthesizer: str = "copula", *, names: dict[str, str] | None = None,
                 column: str = PERSONA_COLUMN, random_state: int | None = 0) -> None:
        self.synthesizer = synthesizer
        self.names = names
        self.column = column
        self.random_state = random_state

    def fit(self, df: pd.DataFrame, segmenter: PersonaSegmenter,
            labels: np.ndarray | None = None) -> PersonaModel:
        """Fit the synthesizer on the segmenter's columns of ``df`` plus the persona labels.

        Parameters
        ----------
        df
            The customers (at least the segmenter's columns).
        segmenter
            A fitted :class:`~synthcust.personas.PersonaSegmenter`.
        labels
            Persona id per row (default: ``segmenter.predict(df)``).

        Returns
        -------
        PersonaModel
            ``self``, fitted.
        """
        if self.synthesizer not in REGISTRY:
            raise SchemaError(f"unknown synthesizer {self.synthesizer!r}; available: "
                              f"{', '.join(sorted(REGISTRY))}")
        if self.column in segmenter.columns_:
            raise DataError(
                f"the persona label column {self.column!r} is also a segmentation column; pick "
                "another name for the label"
            )
        if labels is None:
            labels = segmenter.predict(df)
        data = df[segmenter.columns_].copy()
        data[self.column] = np.asarray(labels, dtype=object).astype(str)
        self.synth_ = fit_model(data, prepare_schema(data), self.synthesizer,
                                random_state=self.random_state)
        self.segmenter_ = segmenter
        self.names_ = dict(self.names or {p: p for p in segmenter.personas_})
        return self

    def _check(self) -> None:
        if not hasattr(self, "synth_"):
            raise NotFittedError("this PersonaModel is not fitted; call fit(df) first")

    def resolve(self, persona: str) -> str:
        """The persona id of ``persona`` (an id like ``P2`` or a card name)."""
        self._check()
        if persona in self.names_:
            return persona
        for pid, name in self.names_.items():
            if str(persona).strip().lower() == name.lower():
                return pid
        raise ConditionError(unknown_persona_message(persona, list(self.names_.items())))

    def save(self, path: str | os.PathLike) -> Path:
        """One model file: the synthesizer's, with the personas in its metadata.

        ``synthcust sample MODEL --condition persona=P2`` reads it too.

        Returns
        -------
        Path
            The path written.
        """
        self._check()
        s = self.synth_
        extra = {  # what SynthModel.save writes, plus the personas
            "source_schema": s.schema.to_dict(),
            "pii": s.pii.to_dict() if s.pii is not None else None,
            "column_order": s.column_order,
            "segments": {k: seg.rule for k, seg in s.segments.items()},
            "personas": {"column": self.column, "names": self.names_,
                         "segmenter": self.segmenter_.to_dict(),
                         "params": {"synthesizer": self.synthesizer, "names": self.names,
                                    "random_state": self.random_state
                                    if isinstance(self.random_state, int | None) else None}},
        }
        return s.synthesizer.save(path, extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike) -> PersonaModel:
        """Load a model written by :meth:`save`.

        Raises
        ------
        ModelFileError
            When ``path`` is a synthcust model without personas, or not a model file.
        """
        meta, _ = load_bundle(path, kind="synthesizer")
        info = meta.get("personas")
        if not isinstance(info, dict):
            raise ModelFileError(
                f"{str(path)!r} is a synthcust model without personas; create one with "
                "`synthcust personas segment DATA -o OUTDIR`"
            )
        synth = load_model(path)
        params = dict(info.get("params") or {})  # files of before the params were kept
        model = cls(str(params.get("synthesizer", synth.synthesizer.name)),
                    names=params.get("names", info["names"]), column=str(info["column"]),
                    random_state=params.get("random_state", synth.synthesizer.random_state))
        model.synth_ = synth
        model.segmenter_ = PersonaSegmenter.from_dict(info.get("segmenter"), repr(str(path)))
        model.names_ = dict(info["names"])
        return model


def load_persona_model(path: str | os.PathLike) -> PersonaModel:
    """Load a :class:`PersonaModel` written by :meth:`PersonaModel.save`."""
    return PersonaModel.load(path)


def fit_persona_model(
    df: pd.DataFrame,
    segmenter: PersonaSegmenter,
    labels: np.ndarray | None = None,
    *,
    names: dict[str, str] | None = None,
    synthesizer: str = "copula",
    column: str = PERSONA_COLUMN,
    random_state: int | None = 0,
) -> PersonaModel:
    """``PersonaModel(synthesizer, ...).fit(df, segmenter, labels)``: see :class:`PersonaModel`."""
    return PersonaModel(synthesizer, names=names, column=column,
                        random_state=random_state).fit(df, segmenter, labels)


def sample_persona(
    model: PersonaModel,
    n: int,
    persona: str,
    *,
    random_state: int | None = None,
    real: pd.DataFrame | None = None,
    with_names: bool = True,
    consistent: bool = False,
) -> pd.DataFrame:
    """``n`` synthetic customers of ``persona`` (an id or a name), by exact conditional sampling.

    The synthesizer draws every row with ``persona`` as an exact condition (no rejection).
    ``real``: the real customers; a drawn row equal to one of them in every learned column is
    redrawn, so no member is a real row. ``consistent``: also redraw rows the segmenter would
    assign to another persona (a synthesizer only approximates the personas' joint shape; see
    :func:`persona_agreement`). ``with_names``: add a fake ``name`` column (Faker).

    Raises :class:`~synthcust.exceptions.ConditionError` naming the existing personas when
    ``persona`` is not one of them.
    """
    if not isinstance(n, int | np.integer) or n <= 0:
        raise DataError(f"n must be a positive number of customers, got {n!r}")
    pid = model.resolve(persona)
    seed = resolve_rng(random_state)
    out: list[pd.DataFrame] = []
    got = 0
    for _ in range(20):
        part = model.synth_.sample(n - got, conditions={model.column: pid},
                                  random_state=int(seed.integers(2**31 - 1)))
        if real is not None:
            part = part[~_equals_a_real_row(part, real, model.segmenter_.columns_)]
        if consistent and len(part):
            part = part[model.segmenter_.predict(part) == pid]
        out.append(part)
        got += len(part)
        if got >= n:
            break
    res = pd.concat(out, ignore_index=True).head(n)
    if len(res) < n:
        why = " or fell in another persona (drop consistent=True)" if consistent else ""
        raise ConditionError(
            f"persona {pid!r}: after 20 rounds only {len(res)} of {n} draws were new "
            f"customers{why}; the columns may be too few or too coarse — segment on more columns"
        )
    if with_names:
        fake = fake_columns([FakeSpec("name", PIIKind.PERSON_NAME)], len(res),
                            random_state=int(seed.integers(2**31 - 1)))
        res.insert(0, "name", fake["name"].to_numpy())
    return res


def _equals_a_real_row(synth: pd.DataFrame, real: pd.DataFrame, cols: list[str]) -> np.ndarray:
    cols = [c for c in cols if c in synth.columns and c in real.columns]
    if not cols:
        return np.zeros(len(synth), bool)

    def key(d: pd.DataFrame) -> pd.Series:
        return pd.util.hash_pandas_object(d[cols].astype(str), index=False)

    return key(synth).isin(set(key(real))).to_numpy()


def persona_agreement(
    model: PersonaModel, n: int = 300, random_state: int | None = 0
) -> dict[str, float]:
    """Share of ``n`` conditional draws of each persona that the segmenter assigns back to it.

    1.0 means the synthesizer reproduces each persona as the segmenter sees it; the Gaussian
    copula, whose dependence is one correlation matrix, typically lands lower than a model
    that can learn a mixture (measure it: it is printed on the cards).
    """
    rng = resolve_rng(random_state)
    out = {}
    for pid in model.segmenter_.personas_:
        draws = model.synth_.sample(n, conditions={model.column: pid},
                                   random_state=int(rng.integers(2**31 - 1)))
        out[pid] = float((model.segmenter_.predict(draws) == pid).mean())
    return out


def add_members(
    cards: PersonaCards,
    model: PersonaModel,
    n: int = 3,
    *,
    real: pd.DataFrame | None = None,
    random_state: int | None = 0,
    n_check: int = 300,
) -> PersonaCards:
    """Attach ``n`` representative synthetic members (fake names) to every card.

    Members are conditional draws that are not real rows and that the segmenter assigns to
    the card's persona (``consistent=True``). ``n_check`` draws per persona measure the
    synthesizer's agreement with the segmenter (:func:`persona_agreement`), shown on the card.
    """
    rng = resolve_rng(random_state)
    agree = persona_agreement(model, n_check, int(rng.integers(2**31 - 1))) if n_check else {}
    for c in cards.cards:
        c.members = sample_persona(model, n, c.id, real=real, consistent=True,
                                   random_state=int(rng.integers(2**31 - 1)))
        c.agreement = agree.get(c.id)
    cards.member_method = (
        f"{model.synth_.synthesizer.name} synthesizer fitted on the used columns plus the persona "
        "label, sampled with the label as an exact condition; rows equal to a real customer, "
        "or that the segmenter assigns to another persona, redrawn; names from Faker. "
        f"Agreement: share of {n_check} conditional draws per persona the segmenter assigns "
        "back to it"
    )
    return cards
