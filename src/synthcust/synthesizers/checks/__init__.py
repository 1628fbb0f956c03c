"""Shared checks every learnable synthcust model must pass (like scikit-learn's
``parametrize_with_checks``).

One model contract holds for every learnable object in synthcust (single-table synthesizers,
the relational model, oversamplers, the persona segmenter, choice and journey models, the
knowledge index):

* ``__init__`` only stores its arguments (``get_params()`` returns them, unchanged, and
  ``type(m)(**m.get_params())`` rebuilds an equal unfitted model); it sets no fitted attribute;
* ``fit(...)`` returns ``self``; everything it learns lives in attributes ending in ``_``, which
  exist only after ``fit``;
* every later method (sampling, predicting, ``save``) refuses an unfitted model with
  :class:`~synthcust.exceptions.NotFittedError`;
* ``random_state`` is stored untouched and resolved in ``fit`` / ``sample`` with
  :func:`synthcust._utils.rng.resolve_rng`: the same seed gives the same output, another seed
  another output;
* the caller's frames (and other inputs) are never modified;
* ``save(path)`` / ``load(path)`` go through :mod:`synthcust._utils.persist` (the one model file
  format): the file holds the right ``kind``, the loaded model gives identical output, and a
  pickle, a file of another kind or of a newer format version is refused with
  :class:`~synthcust.exceptions.ModelFileError`.

Single-table synthesizers also pass the synthesizer checks: sampled frames keep the training
columns, their order and dtypes; missing values are reproduced where the real column has them
and never invented where it has none; conditions (a value, a set, a :class:`Range`) hold
exactly; bad sizes and bad training tables are refused with a clear error.

How to use it
-------------
Describe how to build, fit and use your model with a :class:`ModelCase`, then let pytest run
every check on it::

    from synthcust.synthesizers.checks import ModelCase, parametrize_with_checks

    CASES = [
        ModelCase(
            name="my-model",
            make=lambda random_state: MyModel(alpha=0.5, random_state=random_state),
            fit_args=(train_frame,),               # model.fit(*fit_args, **fit_kwargs)
            use=lambda m: m.predict(test_frame),   # what a fitted model produces
            kind="my_kind",                        # its model-file kind (None: no save/load)
        ),
    ]

    @parametrize_with_checks(CASES)
    def test_model_contract(case, check):
        check(case)

Other settings of :class:`ModelCase`: ``load=`` when loading is not ``type(model).load(path)``
(e.g. ``load=load_oversampler``); ``fit_method="fit_resample"`` for a model whose output comes
from its fit (``use=None``: the output is then what that method returned, and save/load is
compared on the fitted attributes); ``seeded=False`` for a model with no randomness;
``fit_kwargs=`` for keyword arguments of ``fit``. A check takes the case and raises
``AssertionError`` naming the model and the broken rule; each fits at most three models
(seed :data:`SEED` twice, :data:`OTHER_SEED` once), shared through the case's cache, so keep
the data small and the epochs few.

Single-table synthesizers have a shortcut, :func:`synthesizer_case` (any registry name or
class; data defaults to :func:`mixed_frame`), which also adds the synthesizer checks. Outside
pytest, :func:`check_model` runs every check at once and raises ``AssertionError`` naming the
first broken rule.

>>> from synthcust.synthesizers.checks import check_model, synthesizer_case
>>> check_model(synthesizer_case("copula"))   # passes silently
>>> [c.__name__ for c in checks_for(synthesizer_case("copula"))][:3]
['check_init_stores_params', 'check_fit_returns_self', 'check_fitted_attributes']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from synthcust.synthesizers.checks.case import (
    OTHER_SEED,
    SEED,
    ModelCase,
    mixed_frame,
    synthesizer_case,
)
from synthcust.synthesizers.checks.compare import assert_same, fitted_attributes, same
from synthcust.synthesizers.checks.generic import (
    GENERIC_CHECKS,
    check_fit_returns_self,
    check_fitted_attributes,
    check_init_stores_params,
    check_inputs_not_mutated,
    check_model_file_refusals,
    check_not_fitted,
    check_random_state,
    check_save_load_round_trip,
)
from synthcust.synthesizers.checks.synthesizer import (
    SYNTHESIZER_CHECKS,
    check_bad_training_input,
    check_conditions_honoured,
    check_missing_values,
    check_sample_columns_and_dtypes,
    check_sample_size_validation,
)

__all__ = [
    "GENERIC_CHECKS",
    "OTHER_SEED",
    "SEED",
    "SYNTHESIZER_CHECKS",
    "ModelCase",
    "assert_same",
    "check_bad_training_input",
    "check_conditions_honoured",
    "check_fit_returns_self",
    "check_fitted_attributes",
    "check_init_stores_params",
    "check_inputs_not_mutated",
    "check_missing_values",
    "check_model",
    "check_model_file_refusals",
    "check_not_fitted",
    "check_random_state",
    "check_sample_columns_and_dtypes",
    "check_sample_size_validation",
    "check_save_load_round_trip",
    "checks_for",
    "fitted_attributes",
    "mixed_frame",
    "parametrize_with_checks",
    "same",
    "synthesizer_case",
]


def checks_for(case: ModelCase) -> Iterator[Callable[[ModelCase], None]]:
    """The checks that apply to ``case``, in order (save/load ones only with a ``kind``)."""
    for check in GENERIC_CHECKS:
        if case.kind is None and check in (check_save_load_round_trip, check_model_file_refusals):
            continue
        yield check
    if case.synthesizer:
        yield from SYNTHESIZER_CHECKS


def check_model(case: ModelCase) -> None:
    """Run every check that applies to ``case``; raise ``AssertionError`` on the first failure."""
    for check in checks_for(case):
        check(case)


def parametrize_with_checks(cases: Sequence[ModelCase]) -> Any:
    """A ``pytest.mark.parametrize`` over every (case, check) pair, for one test function.

    The decorated test takes two arguments, ``case`` and ``check``, and calls ``check(case)``;
    test ids read ``<case name>-<check name>``.

    Parameters
    ----------
    cases
        The models to check, each described by a :class:`ModelCase`.

    Returns
    -------
    pytest.MarkDecorator
        Apply it to the test function.
    """
    import pytest  # lazily: the library itself does not need pytest

    pairs = [(case, check) for case in cases for check in checks_for(case)]
    ids = [f"{case.name}-{check.__name__.removeprefix('check_')}" for case, check in pairs]
    return pytest.mark.parametrize(("case", "check"), pairs, ids=ids)
