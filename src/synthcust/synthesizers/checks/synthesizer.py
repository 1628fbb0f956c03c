"""Checks single-table synthesizers pass besides the generic ones: columns, dtypes, missing
values, conditions, sizes and bad training tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from synthcust.exceptions import ConditionError, DataError, ModelError
from synthcust.synthesizers.checks.case import SEED, ModelCase
from synthcust.synthesizers.conditions import Range

__all__ = [
    "SYNTHESIZER_CHECKS",
    "check_bad_training_input",
    "check_conditions_honoured",
    "check_missing_values",
    "check_sample_columns_and_dtypes",
    "check_sample_size_validation",
]


def _frame(case: ModelCase) -> pd.DataFrame:
    return case.fit_args[0]


def check_sample_columns_and_dtypes(case: ModelCase) -> None:
    """A sample has the training table's columns, in order, with its dtypes, and ``n`` rows."""
    df = _frame(case)
    out = case.fitted(SEED).sample(137)
    assert len(out) == 137, f"{case.name}: sample(137) gave {len(out)} rows"
    assert list(out.columns) == list(df.columns), f"{case.name}: columns {list(out.columns)}"
    assert out.dtypes.to_dict() == df.dtypes.to_dict(), (
        f"{case.name}: dtypes {out.dtypes.to_dict()} != {df.dtypes.to_dict()}"
    )


def check_missing_values(case: ModelCase) -> None:
    """Missing values appear where the real column has them (none where it has none; all
    where it is all missing)."""
    df = _frame(case)
    out = case.fitted(SEED).sample(2000, random_state=3)
    for c in df.columns:
        real = df[c].isna().mean()
        syn = out[c].isna().mean()
        if real == 0:
            assert syn == 0, f"{case.name}: {c!r} has no missing value but the sample has {syn}"
        elif real == 1:
            assert syn == 1, f"{case.name}: {c!r} is all missing but the sample is not"
        elif real >= 0.05:
            assert syn > 0, f"{case.name}: {c!r} is {real:.0%} missing, the sample never"


def check_conditions_honoured(case: ModelCase) -> None:
    """Conditions on a category (a value and a set) and on a number (a range) hold exactly."""
    df = _frame(case)
    model = case.fitted(SEED)
    cats = [
        c for c in df.columns
        if (df[c].dtype == object or isinstance(df[c].dtype, pd.CategoricalDtype))
        and 2 <= df[c].nunique() <= 20
    ]  # fmt: skip
    nums = [
        c for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        and df[c].nunique() > 10
    ]  # fmt: skip
    conditions: dict[str, Any] = {}
    if cats:
        values = df[cats[0]].value_counts().index[:2].tolist()
        conditions[cats[0]] = values
    if nums:
        lo, hi = float(df[nums[0]].quantile(0.25)), float(df[nums[0]].quantile(0.75))
        conditions[nums[0]] = Range(lo, hi)
    if not conditions:
        return
    out = model.sample(300, conditions=conditions, random_state=1)
    assert len(out) == 300, f"{case.name}: a conditional sample of 300 gave {len(out)} rows"
    if cats:
        assert out[cats[0]].isin(conditions[cats[0]]).all(), (
            f"{case.name}: condition {cats[0]} in {conditions[cats[0]]} not honoured"
        )
        one = model.sample(50, conditions={cats[0]: values[0]}, random_state=1)
        assert (one[cats[0]] == values[0]).all(), f"{case.name}: {cats[0]}={values[0]!r} broken"
    if nums:
        assert out[nums[0]].between(lo, hi).all(), (
            f"{case.name}: condition {nums[0]} in [{lo}, {hi}] not honoured"
        )
    try:
        model.sample(10, conditions={"no such column": 1})
    except ConditionError:
        pass
    else:
        raise AssertionError(f"{case.name}: a condition on an unknown column was accepted")


def check_sample_size_validation(case: ModelCase) -> None:
    """``sample`` refuses a size that is not a positive whole number."""
    model = case.fitted(SEED)
    for bad in (0, -5, 2.5, True):
        try:
            model.sample(bad)
        except ModelError as e:
            assert "positive whole number" in str(e), f"{case.name}: unclear message {e}"
            continue
        raise AssertionError(f"{case.name}: sample({bad!r}) did not raise ModelError")


def check_bad_training_input(case: ModelCase) -> None:
    """``fit`` refuses a non-frame, a 1-row table and duplicate column names with DataError."""
    for bad in (
        [[1, 2]],
        pd.DataFrame({"a": [1]}),
        pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]),
    ):
        try:
            case.make(SEED).fit(bad)
        except DataError:
            continue
        raise AssertionError(f"{case.name}: fit accepted {bad!r}")


#: checks single-table synthesizers pass too (``ModelCase(synthesizer=True)``)
SYNTHESIZER_CHECKS: tuple[Callable[[ModelCase], None], ...] = (
    check_sample_columns_and_dtypes,
    check_missing_values,
    check_conditions_honoured,
    check_sample_size_validation,
    check_bad_training_input,
)
