"""The one exception tree of synthcust.

::

    SynthcustError                  base of everything synthcust raises on purpose
    ├── DataError                   the user's data cannot be used as given
    │   ├── ReadError               a source could not be read (empty, binary, ragged, ...)
    │   └── WriteError              an output could not be written (nothing half-written is left)
    ├── ParameterError              an argument has the wrong type or value (e.g. ``random_state``)
    ├── SchemaError                 a schema (or an edit of one) is invalid; lists every problem
    ├── PIIError                    a PII policy cannot be applied
    ├── ModelError                  a synthesizer could not fit or sample
    │   ├── NotFittedError          a method needing a fitted model was called before ``fit``
    │   └── ModelFileError          a saved model is corrupt, foreign or from a future version
    ├── ConditionError              a sampling condition is impossible (unknown value, empty range)
    ├── SegmentError                a segment rule is malformed or matches no customer
    └── ConstraintError             a constraint is contradictory, broken, or cannot be met

    TrainingBudgetWarning           (a warning) training stopped by its time budget before it
                                    converged: the model may be under-trained

Every message names the column/value at fault and says what to do next.
"""

from __future__ import annotations


class SynthcustError(Exception):
    """Base class of every error synthcust raises deliberately."""


class DataError(SynthcustError, ValueError):
    """The input data cannot be used as given."""


class ReadError(DataError):
    """A data source could not be read."""


class WriteError(DataError):
    """An output could not be written; any existing file is left untouched."""


class ParameterError(SynthcustError, TypeError, ValueError):
    """An argument has the wrong type or value.

    It is both a ``TypeError`` and a ``ValueError`` so callers catching either keep working.
    """


class SchemaError(SynthcustError, ValueError):
    """A schema or a schema edit is invalid.

    ``problems`` holds every problem found, so a user can fix them all at once.
    """

    def __init__(self, problems: list[str] | str):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        if len(self.problems) == 1:
            msg = self.problems[0]
        else:
            msg = f"{len(self.problems)} schema problems: " + "; ".join(self.problems)
        super().__init__(msg)


class PIIError(SynthcustError, ValueError):
    """A PII policy cannot be applied to a column."""


class ModelError(SynthcustError):
    """A synthesizer could not fit or sample."""


class NotFittedError(ModelError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class ModelFileError(ModelError, ValueError):
    """A saved model file is corrupt, not a synthcust model, or from a future version."""


class ConditionError(SynthcustError, ValueError):
    """A sampling condition cannot be met (unknown column or value, empty range)."""


class SegmentError(SynthcustError, ValueError):
    """A segment rule is malformed, unsupported, or matches no customer in the data."""


class ConstraintError(SynthcustError, ValueError):
    """A constraint is contradictory, broken by the real data, or cannot be met when sampling."""


class TrainingBudgetWarning(UserWarning):
    """Training was stopped by ``max_training_time`` before it converged.

    The model is usable but may be under-trained; the message says after how many seconds and
    at which epoch it stopped, and what to change (raise ``max_training_time`` or lower
    ``epochs``).
    """
