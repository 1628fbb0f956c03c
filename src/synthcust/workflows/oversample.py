"""Imbalanced targets and small data as every face runs them: rebalance a table, run the augment
study.

What ``synthcust rebalance`` and ``synthcust augment-study`` run:

1. :func:`rebalance_table` - leave out the columns asked, build the oversampler
   (:func:`~synthcust.synthesizers.oversampling.oversample.make_oversampler`) and add rows to
   every class below the ratio; :func:`class_counts` says what changed per class;
2. :func:`study_methods`, :func:`positive_label` and :func:`run_augment_study` - the methods
   to compare, the class F1/AUC are about, and the study itself
   (:func:`synthcust.studies.augment.augment_study`); :func:`write_study` writes its figures
   (JSON) and report (HTML).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.exceptions import DataError
from synthcust.io.atomic import atomic_write_text
from synthcust.studies.augment import DEFAULT_METHODS, AugmentStudyResult, augment_study
from synthcust.synthesizers.oversampling.oversample import (
    BaseOversampler,
    make_oversampler,
    resample_frame,
)

__all__ = [
    "RebalanceResult",
    "check_writable",
    "class_counts",
    "drop_columns",
    "positive_label",
    "rebalance_table",
    "run_augment_study",
    "split_list",
    "study_methods",
    "study_steps",
    "write_study",
]


def split_list(items: str | Sequence[str] | None) -> list[str]:
    """Comma-separated text (or several such texts) -> the non-empty names.

    Examples
    --------
    >>> split_list(["a,b", " c "])
    ['a', 'b', 'c']
    """
    text = items if isinstance(items, str) or items is None else ",".join(items)
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def drop_columns(
    df: pd.DataFrame, drop: str | Sequence[str] | None
) -> tuple[pd.DataFrame, list[str]]:
    """``df`` without the columns named in ``drop`` (comma-separated); unknown names are an
    error. Returns the frame and the columns dropped."""
    cols = split_list(drop)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"--drop: columns {missing} are not in the data")
    return df.drop(columns=cols), cols


@dataclass
class RebalanceResult:
    """A rebalanced table and what was done: the fitted oversampler and the columns dropped."""

    frame: pd.DataFrame
    sampler: BaseOversampler
    dropped: list[str] = field(default_factory=list)
    n_input_rows: int = 0


def rebalance_table(
    df: pd.DataFrame,
    target: str,
    *,
    method: str = "smote",
    ratio: float = 1.0,
    k_neighbors: int = 5,
    synthesizer: str = "copula",
    smote_share: float = 0.5,
    categorical: str | Sequence[str] | None = None,
    drop: str | Sequence[str] | None = None,
    random_state: int | None = None,
    rules: str = "auto",
) -> RebalanceResult:
    """Add rows to every class of ``target`` below ``ratio`` x the largest class.

    Parameters
    ----------
    df
        The table holding the target; it is not modified.
    target
        The class column.
    method, ratio, k_neighbors, synthesizer, smote_share, random_state
        As :func:`~synthcust.synthesizers.oversampling.oversample.make_oversampler` takes them
        (``ratio`` is its ``sampling_strategy``).
    categorical
        Columns to treat as categorical (comma-separated names or a list).
    drop
        Columns to leave out first (e.g. free text).
    rules
        ``"auto"`` (default): the new rows obey the exact rules of the features (implications,
        ``A <= B``, identities, each true of every real row); ``"off"``: left as drawn.

    Returns
    -------
    RebalanceResult
        Same columns and dtypes out as in (minus ``drop``); original rows first, new rows after.
    """
    frame, dropped = drop_columns(df, drop)
    sampler = make_oversampler(
        method,
        sampling_strategy=ratio,
        k_neighbors=k_neighbors,
        synthesizer=synthesizer,
        smote_share=smote_share,
        categorical=split_list(categorical) or None,
        random_state=random_state,
        rules=rules,
    )
    out, sampler = resample_frame(frame, target, sampler)
    return RebalanceResult(out, sampler, dropped, len(frame))


def class_counts(sampler: BaseOversampler) -> list[tuple[Any, int, int, int]]:
    """(class, rows before, rows after, new rows) per class, largest class first."""
    rows = []
    for cls, after in sorted(sampler.counts_after_.items(), key=lambda kv: -kv[1]):
        before = sampler.counts_before_.get(cls, 0)
        rows.append((cls, before, after, after - before))
    return rows


def check_writable(*paths: str | os.PathLike[str] | None) -> None:
    """Fail before minutes of work, not after: every given path's folder must exist."""
    for p in paths:
        if p is not None and not Path(p).expanduser().resolve().parent.is_dir():
            raise DataError(f"cannot write {p}: its directory does not exist")


def study_methods(methods: str | None, synthesizers: str | None = None) -> list[str]:
    """The methods the augment study compares: ``methods`` (comma-separated; default
    :data:`~synthcust.studies.augment.DEFAULT_METHODS`) plus ``augment:NAME`` and
    ``generative:NAME`` for each extra synthesizer.

    Examples
    --------
    >>> study_methods("none,smote", "ctgan")
    ['none', 'smote', 'augment:ctgan', 'generative:ctgan']
    """
    ms = split_list(methods) or list(DEFAULT_METHODS)
    for name in split_list(synthesizers):
        ms += [m for m in (f"augment:{name}", f"generative:{name}") if m not in ms]
    return ms


def positive_label(df: pd.DataFrame, target: str, positive: str | None) -> Any:
    """The class F1/AUC are about, as the target holds it (a number for a numeric target)."""
    if positive is not None and target in df.columns and df[target].dtype.kind in "iuf":
        try:
            return int(positive)
        except ValueError:
            return positive
    return positive


def run_augment_study(
    df: pd.DataFrame,
    target: str,
    *,
    methods: Sequence[str],
    repeats: int = 20,
    full: bool = True,
    small: bool = True,
    ratio: float = 1.0,
    k_neighbors: int = 5,
    positive: Any = None,
    classifier: str = "hgb",
    n_boot: int = 300,
    drop: str | Sequence[str] | None = None,
    random_state: int = 0,
    n_jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> AugmentStudyResult:
    """Run :func:`synthcust.studies.augment.augment_study` with the CLI's conventions
    (``drop`` comma-separated); ``progress`` is called once per seed and method."""
    return augment_study(
        df,
        target,
        methods=list(methods),
        repeats=repeats,
        full=full,
        small=small,
        ratio=ratio,
        k_neighbors=k_neighbors,
        positive=positive,
        classifier=classifier,
        n_boot=n_boot,
        drop=split_list(drop),
        random_state=random_state,
        n_jobs=n_jobs,
        progress=progress,
    )


def study_steps(methods: Sequence[str], repeats: int, full: bool, small: bool) -> int:
    """How many progress steps :func:`run_augment_study` reports."""
    return repeats * len(methods) * (int(full) + int(small))


def write_study(
    result: AugmentStudyResult,
    json_out: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
) -> list[tuple[str, Path]]:
    """Write the study's figures (JSON) and report (HTML), atomically; returns what was
    written, as (``"figures"`` or ``"report"``, path)."""
    written = []
    if json_out is not None:
        atomic_write_text(json_out, result.to_json() + "\n")
        written.append(("figures", Path(json_out)))
    if report is not None:
        atomic_write_text(report, result.to_html())
        written.append(("report", Path(report)))
    return written
