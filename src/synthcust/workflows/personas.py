"""Personas as every face runs them: segment, describe, fit members, write, sample, label.

What ``synthcust personas segment|sample|predict`` and the service's personas job run:

1. :func:`segment_personas` - the schema (inferred with PII marks unless given), the
   latent-class segmenter, the cards, the persona model (a synthesizer that learned the persona
   label) and synthetic members on the cards;
2. :func:`write_personas` - ``personas.html`` + ``personas.json`` (the cards report),
   ``segmenter.synthcust``, ``personas.synthcust`` and ``labels.csv`` (each row's id columns,
   persona id and name; no other value of the input is copied);
3. :func:`sample_personas` - members of one persona from ``personas.synthcust``;
4. :func:`label_personas` - the most likely persona of each row, from a segmenter or a persona
   model file.

>>> from synthcust.demo import simulate_customers
>>> res = segment_personas(simulate_customers(600, random_state=0), k=2, members=0)
>>> res.cards.k, list(res.labels.columns)
(2, ['customer_id', 'persona', 'persona_name'])
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.persist import peek_kind
from synthcust.exceptions import DataError, ModelFileError
from synthcust.io import write_table
from synthcust.personas import (
    PersonaCards,
    PersonaModel,
    PersonaSegmenter,
    add_members,
    describe_personas,
    fit_persona_model,
    load_persona_model,
    sample_persona,
    write_cards,
)
from synthcust.personas.segment import KIND as SEGMENTER_KIND
from synthcust.privacy import infer_schema_with_pii
from synthcust.schema import Kind, Role, Schema
from synthcust.workflows.defaults import default_synthesizer

__all__ = [
    "PersonasResult",
    "cards_summary",
    "label_personas",
    "load_labeller",
    "prepare_outdir",
    "sample_personas",
    "segment_personas",
    "write_personas",
]

#: ``progress(step, total, message)``: called before each step of :func:`segment_personas`
Progress = Callable[[int, int, str], None]


@dataclass
class PersonasResult:
    """What :func:`segment_personas` made.

    Attributes
    ----------
    segmenter : PersonaSegmenter
        The fitted segmenter (``labels_`` per input row).
    cards : PersonaCards
        The cards, with members when asked for.
    model : PersonaModel
        The synthesizer that learned the persona label (``personas.synthcust``).
    labels : DataFrame
        Each row's id columns (``row`` when the table has none), ``persona`` and
        ``persona_name``.
    schema : Schema
        The schema the personas were built with.
    """

    segmenter: PersonaSegmenter
    cards: PersonaCards
    model: PersonaModel
    labels: pd.DataFrame
    schema: Schema

    @property
    def names(self) -> dict[str, str]:
        """Persona id -> card name."""
        return {c.id: c.name for c in self.cards.cards}


def segment_personas(
    df: pd.DataFrame,
    *,
    schema: Schema | None = None,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    criterion: str = "bic",
    columns: list[str] | None = None,
    exclude: list[str] | None = None,
    members: int = 3,
    synthesizer: str | None = None,
    kpi: list[str] | None = None,
    random_state: int | None = 0,
    members_random_state: int | None = None,
    progress: Progress | None = None,
) -> PersonasResult:
    """Find personas in ``df``, describe them and draw synthetic members of each.

    Parameters
    ----------
    df
        The customer table.
    schema
        Its schema (default: inferred, PII marked; ids, PII and free text are never used).
    k, k_range, criterion, columns, exclude
        See :class:`~synthcust.personas.PersonaSegmenter`.
    members
        Synthetic members per card (0: none).
    synthesizer
        The synthesizer that learns the personas (members, ``personas sample``); default:
        the flagship (:func:`~synthcust.workflows.defaults.default_synthesizer`).
    kpi
        KPIs or targets pinned on every card (``column`` or ``column=level``: real rate and
        95% CI per persona); the persona model learns them right after the label, so
        members keep each persona's rate. ``None``: the schema's target column (role
        ``target``), if any; ``[]``: none.
    random_state
        Seed of the segmenter.
    members_random_state
        Seed of the persona model and the members (default: ``random_state``).
    progress
        Called before each step with ``(step, total, message)``.

    Returns
    -------
    PersonasResult
    """
    if members < 0:
        raise DataError(f"members must be 0 or more, got {members}")
    say = progress or (lambda i, n, msg: None)
    seed = random_state if members_random_state is None else members_random_state
    synthesizer = synthesizer or default_synthesizer()
    if schema is None:
        schema = infer_schema_with_pii(df)
    if kpi is None:  # the schema's target, if it marks one
        kpi = [c.name for c in schema if c.role == Role.TARGET and c.name in df.columns]
    say(1, 4, "choosing k and fitting personas")
    seg = PersonaSegmenter(
        k=k, k_range=k_range, criterion=criterion, columns=columns, exclude=exclude,
        schema=schema, random_state=random_state,
    ).fit(df)
    say(2, 4, "describing personas")
    cards = describe_personas(df, seg, seg.labels_, kpi=kpi)
    names = {c.id: c.name for c in cards.cards}
    say(3, 4, f"fitting the {synthesizer} synthesizer on the personas")
    model = fit_persona_model(df, seg, seg.labels_, names=names, synthesizer=synthesizer,
                              kpi=list(dict.fromkeys(k.column for k in cards.cards[0].kpis)),
                              random_state=seed)
    if members:
        say(3, 4, f"drawing {members} synthetic members per persona")
        add_members(cards, model, members, real=df, random_state=seed)
    say(4, 4, "labelling rows")
    return PersonasResult(seg, cards, model, _labels(df, seg, names, schema), schema)


def _labels(df: pd.DataFrame, seg: PersonaSegmenter, names: dict[str, str],
            schema: Schema) -> pd.DataFrame:
    """Id/key columns (never PII) plus persona id and name; ``row`` when there is no id."""
    ids = [c.name for c in schema if c.kind == Kind.ID or c.role == Role.KEY]
    ids = [c for c in ids if c in df.columns and schema[c].pii is None]
    lab = pd.DataFrame({c: df[c].to_numpy() for c in ids}) if ids else \
        pd.DataFrame({"row": np.arange(len(df))})
    lab["persona"] = seg.labels_
    lab["persona_name"] = [names[p] for p in seg.labels_]
    return lab


def prepare_outdir(outdir: str | os.PathLike) -> Path:
    """Create the output folder (its parent must exist); refuse a file.

    Raises
    ------
    DataError
        When ``outdir`` is a file, or its parent folder does not exist.
    """
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise DataError(f"{str(out)!r} is a file; give a folder for the persona outputs")
    if not out.parent.is_dir():
        raise DataError(
            f"cannot create {str(out)!r}: its parent folder {str(out.parent)!r} does not exist"
        )
    out.mkdir(exist_ok=True)
    return out


def write_personas(result: PersonasResult, outdir: str | os.PathLike) -> dict[str, Path]:
    """Write the cards, the two model files and the labels into ``outdir`` (created if missing).

    Returns
    -------
    dict of str to Path
        ``html``, ``json``, ``segmenter``, ``model`` and ``labels``.

    Raises
    ------
    DataError
        When ``outdir`` is a file, or its parent folder does not exist.
    """
    out = prepare_outdir(outdir)
    html_path, json_path = write_cards(result.cards, out)
    paths = {"html": html_path, "json": json_path,
             "segmenter": result.segmenter.save(out / "segmenter.synthcust"),
             "model": result.model.save(out / "personas.synthcust"),
             "labels": out / "labels.csv"}
    write_table(result.labels, paths["labels"])
    return paths


def sample_personas(
    model: str | os.PathLike | PersonaModel,
    persona: str,
    n: int,
    *,
    random_state: int | None = None,
    with_names: bool = True,
    consistent: bool = True,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, str, str]:
    """``n`` synthetic customers of ``persona`` (id or name) from a persona model (or its file).

    Members are drawn from the model with the persona as a condition and kept only when the
    segmenter assigns them back to it (``consistent``, default), per KPI value so the KPI
    rates are not shifted (:func:`synthcust.personas.sample_persona`); works at any ``n``.
    ``progress(done, n, message)`` follows the members accepted.

    Returns
    -------
    tuple
        The rows, the persona id and its name.
    """
    if not isinstance(n, int | np.integer) or n <= 0:
        raise DataError(f"n must be a positive number of rows, got {n}")
    pm = model if isinstance(model, PersonaModel) else load_persona_model(model)
    pid = pm.resolve(persona)
    df = sample_persona(pm, n, pid, random_state=random_state, with_names=with_names,
                        consistent=consistent, progress=progress)
    return df, pid, pm.names_.get(pid, pid)


def load_labeller(path: str | os.PathLike) -> tuple[PersonaSegmenter, dict[str, str]]:
    """The segmenter (and persona names) in ``path``.

    ``path`` is a segmenter file (``segmenter.synthcust``, or a ``segmenter.json`` of the first
    format) or a persona model (``personas.synthcust``).
    """
    p = Path(path)
    if p.is_file() and zipfile.is_zipfile(p) and peek_kind(p) != SEGMENTER_KIND:
        pm = load_persona_model(p)
        return pm.segmenter_, dict(pm.names_)
    if not p.exists():
        raise ModelFileError(f"persona model {str(p)!r} does not exist")
    return PersonaSegmenter.load(p), {}


def label_personas(
    model: str | os.PathLike | PersonaSegmenter, df: pd.DataFrame
) -> tuple[pd.DataFrame, pd.Series]:
    """``df`` plus its most likely ``persona`` (and ``persona_name`` when names are known).

    Returns
    -------
    tuple
        The labelled rows and the count per persona (every persona, 0 included).
    """
    seg, names = (model, {}) if isinstance(model, PersonaSegmenter) else load_labeller(model)
    res = df.copy()
    res["persona"] = seg.predict(df)
    if names:
        res["persona_name"] = res["persona"].map(names)
    counts = res["persona"].value_counts().reindex(seg.personas_, fill_value=0)
    return res, counts


def cards_summary(cards: PersonaCards) -> list[dict[str, Any]]:
    """One row per persona for a terminal table: id, name, size, share, KPIs, top traits,
    agreement."""
    return [{"persona": c.id, "name": c.name, "customers": c.size, "share": c.share,
             "kpis": [k.sentence() for k in c.kpis],
             "top_traits": [t.sentence() for t in c.highlights(2)], "agreement": c.agreement}
            for c in cards.cards]
