"""One rule for ``random_state``: how every model and study turns it into a Generator.

Every learnable object stores ``random_state`` untouched in ``__init__`` and resolves it here
in ``fit`` / ``sample`` (scikit-learn's habit), so that the same argument always means the same
thing everywhere in synthcust.
"""

from __future__ import annotations

import numbers

import numpy as np

from synthcust.exceptions import ParameterError

__all__ = ["RandomState", "resolve_rng"]

RandomState = int | np.random.Generator | None
"""What a ``random_state`` argument may be: ``None``, an integer seed or a Generator."""


def resolve_rng(
    random_state: int | np.integer | np.random.Generator | np.random.SeedSequence | None,
) -> np.random.Generator:
    """Turn a ``random_state`` argument into a NumPy ``Generator``.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or numpy.random.SeedSequence
        ``None`` draws fresh entropy from the operating system (a different result on every
        call); a non-negative integer (Python or NumPy) seeds a new generator, so the same
        integer gives the same draws; a ``Generator`` is passed through unchanged (its state
        is shared with the caller, who keeps control of the stream); a ``SeedSequence`` seeds
        a new generator.

    Returns
    -------
    numpy.random.Generator
        The generator to draw from.

    Raises
    ------
    ParameterError
        If ``random_state`` is of another type (a float, a string, a bool, a legacy
        ``RandomState``) or a negative integer. It is also a ``TypeError`` and a
        ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from synthcust._utils.rng import resolve_rng
    >>> int(resolve_rng(0).integers(100)) == int(resolve_rng(0).integers(100))
    True
    >>> g = np.random.default_rng(1)
    >>> resolve_rng(g) is g
    True
    >>> isinstance(resolve_rng(None), np.random.Generator)
    True
    >>> resolve_rng("42")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    synthcust.exceptions.ParameterError: random_state must be None, an integer seed or ...
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    is_bool = isinstance(random_state, (bool, np.bool_))
    if isinstance(random_state, numbers.Integral) and not is_bool:
        if int(random_state) < 0:
            raise ParameterError(
                f"random_state must be a non-negative integer, got {int(random_state)}; "
                "pass e.g. random_state=0"
            )
        return np.random.default_rng(int(random_state))
    raise ParameterError(
        "random_state must be None, an integer seed or a numpy.random.Generator, "
        f"not {type(random_state).__name__} ({random_state!r}); "
        "pass e.g. random_state=0 for reproducible results"
    )
