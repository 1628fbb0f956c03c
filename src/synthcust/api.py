"""The public library face: fit, load, sample, split, evaluate. A thin layer over the workflows.

The command line and the HTTP service call the same workflows (:mod:`synthcust.workflows`), so
the library fits the same default model, measures the same way, and records DP fits in the
same privacy ledger.

>>> import synthcust.api as sc
>>> from synthcust.demo.world import simulate_customers
>>> model = sc.fit(simulate_customers(500, random_state=0), synthesizer="copula", random_state=0)
>>> synthetic = model.sample(100, random_state=1)
>>> "email" in synthetic.columns   # planted PII was found and dropped before learning
False
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from synthcust.evaluation.evaluate import EvaluationReport
from synthcust.evaluation.privacy import GateThresholds
from synthcust.rules.segments import Segment
from synthcust.schema.model import Schema
from synthcust.store import Workspace
from synthcust.synthesizers.fitted import SynthModel, load_model, prepare_schema
from synthcust.workflows import evaluate as _evaluate_wf
from synthcust.workflows import fit as _fit_wf
from synthcust.workflows import sample as _sample_wf
from synthcust.workflows import split as _split_wf
from synthcust.workflows.defaults import (
    DP_DELTA,
    GATE,
    HOLDOUT,
    SEED,
    SPLIT_SEED,
    available_synthesizers,
    default_synthesizer,
)

__all__ = [
    "SynthModel",
    "available_synthesizers",
    "default_synthesizer",
    "evaluate",
    "fit",
    "load",
    "prepare_schema",
    "sample",
    "split",
]


def load(path: str | os.PathLike) -> SynthModel:
    """Load a model written by :meth:`SynthModel.save` (never unpickles anything).

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    SynthModel

    Examples
    --------
    >>> # model = synthcust.load("customers.synthcust"); model.sample(1000)
    """
    return load_model(path)


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
    dp_epsilon: float | None = None,
    dp_delta: float = DP_DELTA,
    bounds: Mapping[str, Any] | None = None,
    workspace: str | os.PathLike | Workspace | None = None,
    dataset_name: str | None = None,
    save_to: str | os.PathLike | None = None,
    rules: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> SynthModel:
    """Find and handle PII, then fit a synthesizer on ``data``.

    Nothing detected as PII reaches the model unless ``pii_policies`` says ``keep`` for it.
    ``synthesizer`` defaults to :func:`default_synthesizer` (the autoregressive model when torch
    is installed, else the Gaussian copula), as on the command line and the service.

    With ``dp_epsilon`` the fit is differentially private (``dp_marginal`` unless
    ``synthesizer`` is ctgan, tvae or autoregressive: DP-SGD), and the spend is charged to the
    dataset's budget in the ``workspace`` ledger before the data is read; a fit over budget is
    refused (:class:`synthcust.store.BudgetError`), exactly as ``synthcust fit --dp-epsilon``.

    Parameters
    ----------
    data : pandas.DataFrame
        The real customers (never modified).
    schema : Schema, optional
        Their schema (inferred when omitted).
    synthesizer : str, optional
        One of :func:`available_synthesizers`.
    target : str, optional
        The target column.
    pii_policies : mapping, optional
        ``{column: "drop" | "hash" | "fake" | "generalise" | "redact" | "keep"}``.
    segments : mapping, optional
        ``{name: rule}``, e.g. ``{"young": "age < 30"}``.
    random_state : int, optional
        Seed.
    hash_key : bytes, optional
        Key of the ``hash`` policy.
    synthesizer_params : mapping, optional
        Synthesizer parameters, e.g. ``{"epochs": 50}``.
    constraints : sequence, optional
        Rules every synthetic row obeys, e.g. ``"last_order >= first_order"``.
    dp_epsilon, dp_delta : float, optional
        Differential privacy (charged to the ledger).
    bounds : mapping, optional
        Public bounds ``{column: (low, high)}`` for ``dp_marginal``.
    workspace : str, path or Workspace, optional
        The ledger's workspace (default: ``$SYNTHCUST_HOME/workspace.db``).
    dataset_name : str, optional
        The dataset's name in the workspace.
    save_to : str or path, optional
        Save the model there (and record it in the workspace when one is used).
    rules : {"auto", "off"}, default "auto"
        Discover the data's own exact rules (implications, ``A <= B``, identities) and enforce
        them on every sample; ``"off"``: only ``constraints``. Never under DP.
    progress : callable, optional
        ``progress(message)`` for each step and, during long training, a status line every
        ~10 s (what the CLI shows as its progress lines).

    Returns
    -------
    SynthModel

    Examples
    --------
    >>> from synthcust.demo.world import simulate_customers
    >>> m = fit(simulate_customers(300, random_state=0), synthesizer="copula", random_state=0)
    >>> len(m.sample(10, random_state=0))
    10
    """
    return _fit_wf.fit(
        data,
        schema=schema,
        synthesizer=synthesizer,
        target=target,
        pii_policies=pii_policies,
        segments=segments,
        random_state=random_state,
        hash_key=hash_key,
        synthesizer_params=synthesizer_params,
        constraints=constraints,
        dp_epsilon=dp_epsilon,
        dp_delta=dp_delta,
        bounds=bounds,
        workspace=workspace,
        dataset_name=dataset_name,
        save_to=save_to,
        rules=rules,
        progress=progress,
    ).model


def sample(
    model: SynthModel | str | os.PathLike,
    n: int,
    *,
    conditions: Mapping[str, Any] | Iterable[str] | None = None,
    segment: str | Segment | None = None,
    where: str | None = None,
    random_state: int | None = None,
    gate: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    thresholds: GateThresholds = GATE,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Draw ``n`` synthetic customers from a model (or a model file).

    See :func:`synthcust.workflows.sample.sample` for the parameters.

    Examples
    --------
    >>> from synthcust.demo.world import simulate_customers
    >>> m = fit(simulate_customers(300, random_state=0), synthesizer="copula", random_state=0)
    >>> int(sample(m, 20, where="age < 40", random_state=0)["age"].max()) < 40
    True
    """
    return _sample_wf.sample(
        model, n, conditions=conditions, segment=segment, where=where,
        random_state=random_state, gate=gate, thresholds=thresholds, progress=progress,
    )  # fmt: skip


def split(
    data: pd.DataFrame,
    *,
    target: str | None = None,
    holdout: float = HOLDOUT,
    random_state: int = SPLIT_SEED,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Real train (80%) and real holdout (20%), stratified by ``target``, as every figure uses.

    Examples
    --------
    >>> import pandas as pd
    >>> train, holdout = split(pd.DataFrame({"x": range(10)}))
    >>> len(train), len(holdout)
    (8, 2)
    """
    return _split_wf.split(data, target=target, holdout=holdout, random_state=random_state)


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    schema: Schema | None = None,
    target: str | None = None,
    sensitive: str | None = None,
    thresholds: GateThresholds = GATE,
    random_state: int = SEED,
    exclude: Sequence[str] | None = None,
) -> EvaluationReport:
    """Measure ``synthetic`` against the real train rows and the real ``holdout``.

    Id and key columns (and handled PII) of the schema are left out, as on every face; see
    :func:`synthcust.workflows.evaluate.evaluate`.

    Returns
    -------
    EvaluationReport
        Every figure; :func:`synthcust.reporting.write_report` writes it as HTML + JSON.
    """
    return _evaluate_wf.evaluate(
        real, synthetic, holdout, schema=schema, target=target, sensitive=sensitive,
        thresholds=thresholds, random_state=random_state, exclude=exclude,
    )  # fmt: skip
