"""The evaluate workflow: synthetic rows against real train and real holdout, ids left out.

Every face measures the same way: the schema (given, or inferred once from the real rows) goes
to :func:`synthcust.evaluation.evaluate`, and columns whose schema kind is ``id`` or whose role
is ``key`` are left out everywhere (an id has no distribution to be faithful to: counting it
reports thousands of "invented categories"). Columns the schema calls ``boolean`` but that
hold numbers (0/1 flags) are compared as the two categories they are — shares of 0 and 1,
drawn as bars — not as a number binned into quantiles.

>>> from synthcust.demo.world import simulate_customers
>>> from synthcust.workflows.fit import fit
>>> from synthcust.workflows.split import split
>>> train, holdout = split(simulate_customers(400, random_state=0), target="churned")
>>> model = fit(train, synthesizer="copula", target="churned", random_state=0).model
>>> report = evaluate_model(model, train, holdout, target="churned", random_state=0)
>>> "customer_id" in report.meta["columns"]
False
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from synthcust.evaluation.evaluate import EvaluationReport
from synthcust.evaluation.evaluate import evaluate as run_evaluation
from synthcust.evaluation.privacy import GateThresholds
from synthcust.privacy import infer_schema_with_pii
from synthcust.schema.model import Kind, Schema
from synthcust.synthesizers.fitted import SynthModel
from synthcust.workflows.defaults import GATE, SEED

__all__ = ["booleans_as_categories", "evaluate", "evaluate_model", "gate_thresholds"]


def booleans_as_categories(frame: pd.DataFrame | None, schema: Schema) -> pd.DataFrame | None:
    """``frame`` with its numeric 0/1 columns that ``schema`` calls boolean as categories.

    The values stay 0 and 1 (whole numbers: ``1.0`` reads ``1``); only their type changes, so
    every metric, the category checks and the report's bar charts treat them as the two
    categories they are. Other columns, and the caller's frame, are left untouched.

    >>> from synthcust.schema.infer import infer_schema
    >>> df = pd.DataFrame({"churn": [0, 1, 1, 0], "age": [30, 41, 52, 63]})
    >>> out = booleans_as_categories(df, infer_schema(df))
    >>> str(out["churn"].dtype), out["churn"].cat.categories.tolist(), str(out["age"].dtype)
    ('category', [0, 1], 'int64')
    """
    if frame is None:
        return None
    flags = [
        c.name
        for c in schema.of_kind(Kind.BOOLEAN)
        if c.name in frame.columns
        and pd.api.types.is_numeric_dtype(frame[c.name].dtype)
        and not pd.api.types.is_bool_dtype(frame[c.name].dtype)
    ]
    if not flags:
        return frame
    out = frame.copy()
    for c in flags:
        x = pd.to_numeric(out[c], errors="coerce")
        if bool((x.dropna() % 1 == 0).all()):
            x = x.astype("Int64")
        out[c] = x.astype("category")
    return out


def gate_thresholds(
    max_exact_copies: float = GATE.max_exact_copy_rate,
    max_dcr_share: float = GATE.max_dcr_share,
    max_mia_auc: float = GATE.max_mia_auc,
) -> GateThresholds:
    """The privacy gate's bars (defaults: :data:`synthcust.workflows.defaults.GATE`)."""
    return GateThresholds(
        max_exact_copy_rate=max_exact_copies, max_dcr_share=max_dcr_share, max_mia_auc=max_mia_auc
    )


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
    progress: Callable[[str], None] | None = None,
) -> EvaluationReport:
    """Measure ``synthetic`` against real train rows and the real ``holdout``.

    Parameters
    ----------
    real : pandas.DataFrame
        The real rows the synthesizer learned.
    synthetic : pandas.DataFrame
        The synthetic rows.
    holdout : pandas.DataFrame, optional
        Real rows the synthesizer never saw (detection, utility and privacy need them).
    schema : Schema, optional
        The real data's schema (inferred once from ``real``, PII marked, when omitted); its
        id, key and handled-PII columns are left out (except ``target`` and ``sensitive``),
        its constraints and bounds drive the validity checks.
    target : str, optional
        Target column for utility (TSTR).
    sensitive : str, optional
        Sensitive column for the attribute-inference risk.
    thresholds : GateThresholds
        The privacy gate's bars.
    random_state : int
        Seed of subsampling and the models.
    exclude : sequence of str, optional
        More columns to leave out (e.g. PII-handled ones).
    progress : callable, optional
        ``progress(message)`` at each section.

    Returns
    -------
    EvaluationReport
        ``meta["left_out"]`` lists the columns left out, with the reason.
    """
    if schema is None:
        schema = infer_schema_with_pii(real)
    return run_evaluation(
        booleans_as_categories(real, schema),
        booleans_as_categories(synthetic, schema),
        booleans_as_categories(holdout, schema),
        schema=schema,
        target=target,
        sensitive=sensitive,
        random_state=random_state,
        progress=progress,
        thresholds=thresholds,
        exclude=list(exclude or []),
    )


def evaluate_model(
    model: SynthModel,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    n: int | None = None,
    target: str | None = None,
    sensitive: str | None = None,
    thresholds: GateThresholds = GATE,
    random_state: int = SEED,
    progress: Callable[[str], None] | None = None,
) -> EvaluationReport:
    """Sample from ``model`` as many rows as ``train`` holds and evaluate them.

    Only the columns the model learned from the real rows are compared
    (:attr:`SynthModel.learned_columns`: PII-handled columns, ids and free text are left out);
    the model's own source schema is used, not inferred again.

    Returns
    -------
    EvaluationReport
    """
    cols = [c for c in model.learned_columns if c in train.columns]
    synth = model.sample(len(train) if n is None else n, random_state=random_state)
    schema = model.schema.select([c for c in cols if c in model.schema])
    return evaluate(
        train[cols],
        synth[cols],
        holdout[[c for c in cols if c in holdout.columns]],
        schema=schema,
        target=target if target in cols else None,
        sensitive=sensitive,
        thresholds=thresholds,
        random_state=random_state,
        progress=progress,
    )
