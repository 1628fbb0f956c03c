"""How the shared checks build, fit and use a model: :class:`ModelCase`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust.synthesizers.base import REGISTRY, BaseSynthesizer
from synthcust.synthesizers.checks.compare import fitted_attributes, snapshot

__all__ = ["OTHER_SEED", "SEED", "ModelCase", "mixed_frame", "synthesizer_case"]

#: the seed every check fits with (and a second one that must give another output)
SEED, OTHER_SEED = 0, 1


@dataclass(eq=False)
class ModelCase:
    """How to build, fit and use one model for the shared checks.

    Parameters
    ----------
    make
        ``make(random_state)`` returns a new, unfitted model seeded with ``random_state``
        (put any other settings in the function: small data, few epochs).
    fit_args, fit_kwargs
        The fit call is ``getattr(model, fit_method)(*fit_args, **fit_kwargs)``. The checks
        verify that these inputs are left unmodified.
    use
        ``use(fitted_model)`` returns what a fitted model produces (a sample, predictions,
        scores: a frame, array, Series, dict or list of them). It must raise
        :class:`~synthcust.exceptions.NotFittedError` on an unfitted model. ``None`` when the
        model produces its output in its fit method (an oversampler's ``fit_resample``): the
        output is then what ``fit_method`` returned, or the fitted attributes.
    kind
        The model-file kind ``save`` writes (``"synthesizer"``, ``"choice"``...); ``None`` for a
        model that is not saved (then the save/load checks are skipped).
    load
        ``load(path)`` returns the saved model; default ``type(model).load``.
    name
        Shown in test ids; default the class name.
    fit_method
        The method that learns (``"fit"``, or ``"fit_resample"`` for oversamplers);
        ``check_fit_returns_self`` always calls ``fit`` itself.
    seeded
        ``False`` for a model with no randomness (then two seeds may give the same output).
    synthesizer
        ``True`` for single-table synthesizers: adds :data:`SYNTHESIZER_CHECKS`.
    """

    make: Callable[[Any], Any]
    fit_args: Sequence[Any] = ()
    fit_kwargs: Mapping[str, Any] = field(default_factory=dict)
    use: Callable[[Any], Any] | None = None
    kind: str | None = None
    load: Callable[[Any], Any] | None = None
    name: str = ""
    fit_method: str = "fit"
    seeded: bool = True
    synthesizer: bool = False
    _fitted: dict[Any, tuple[Any, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = type(self.make(SEED)).__name__
        #: a copy of the inputs taken before any fit (see check_inputs_not_mutated)
        self.inputs_before = snapshot((tuple(self.fit_args), dict(self.fit_kwargs)))

    def __repr__(self) -> str:
        return f"ModelCase({self.name!r})"

    def fit(self, model: Any) -> Any:
        """Fit ``model`` on the case's inputs; return what the fit method returned."""
        return getattr(model, self.fit_method)(*self.fit_args, **dict(self.fit_kwargs))

    def fitted(self, random_state: Any = SEED) -> Any:
        """A model fitted with ``random_state``, cached: checks must not change it."""
        if random_state not in self._fitted:
            model = self.make(random_state)
            self._fitted[random_state] = (model, self.fit(model))
        return self._fitted[random_state][0]

    def fit_return(self, random_state: Any = SEED) -> Any:
        """What the fit method returned for the cached model fitted with ``random_state``."""
        self.fitted(random_state)
        return self._fitted[random_state][1]

    def output(self, model: Any, fit_return: Any = None) -> Any:
        """What a fitted model produces (see ``use``)."""
        if self.use is not None:
            return self.use(model)
        if fit_return is not None and fit_return is not model:
            return fit_return
        return fitted_attributes(model)

    def fitted_output(self, random_state: Any = SEED) -> Any:
        """:meth:`output` of the cached model fitted with ``random_state``."""
        return self.output(self.fitted(random_state), self.fit_return(random_state))

    def load_model(self, model: Any, path: Path) -> Any:
        """Load ``path`` with the case's loader (default ``type(model).load``)."""
        return (self.load or type(model).load)(path)


def synthesizer_case(
    synthesizer: str | type[BaseSynthesizer],
    data: pd.DataFrame | None = None,
    n: int = 200,
    **params: Any,
) -> ModelCase:
    """A :class:`ModelCase` for a single-table synthesizer (registry name or class).

    Parameters
    ----------
    synthesizer
        A name of :data:`synthcust.synthesizers.REGISTRY` or a :class:`BaseSynthesizer` subclass.
    data
        The training table; default :func:`mixed_frame`.
    n
        Rows sampled by ``use``.
    **params
        Passed to the class (keep them small: few epochs).

    Returns
    -------
    ModelCase
        With ``kind="synthesizer"``, loaded by :meth:`BaseSynthesizer.load`, and the synthesizer
        checks switched on.
    """
    cls = REGISTRY[synthesizer] if isinstance(synthesizer, str) else synthesizer
    frame = mixed_frame() if data is None else data
    return ModelCase(
        make=lambda random_state: cls(random_state=random_state, **params),
        fit_args=(frame,),
        use=lambda m: m.sample(n),
        kind="synthesizer",
        load=BaseSynthesizer.load,
        name=cls.name,
        synthesizer=True,
    )


def mixed_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """A small mixed-type customer table: an id, numbers, a spike at 0, missing values, dates,
    booleans, a category written ``"?"`` and a constant column.

    Examples
    --------
    >>> df = mixed_frame(100)
    >>> list(df.columns)[:4], len(df)
    (['customer_id', 'age', 'plan', 'spend'], 100)
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1])
    spend = np.where(
        rng.random(n) < 0.4, 0.0, np.round(rng.lognormal(4 + (plan == "pro"), 0.5, n), 2)
    )
    income = rng.lognormal(10 + 0.01 * age, 0.3, n)
    income[rng.random(n) < 0.1] = np.nan
    signup = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    region = rng.choice(["north", "south", "?"], n, p=[0.5, 0.4, 0.1])
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "age": age,
            "plan": plan,
            "spend": spend,
            "income": income,
            "signup": signup,
            "active": rng.random(n) < 0.7,
            "region": region,
            "country": "NL",
        }
    )
