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

import copy
import inspect
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.persist import FORMAT_VERSION, peek_kind, save_bundle
from synthcust.exceptions import (
    ConditionError,
    DataError,
    ModelError,
    ModelFileError,
    NotFittedError,
)
from synthcust.synthesizers.base import REGISTRY, BaseSynthesizer
from synthcust.synthesizers.conditions import Range

__all__ = [
    "GENERIC_CHECKS",
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

#: the seed every check fits with (and a second one that must give another output)
SEED, OTHER_SEED = 0, 1


# ============================================================================ describing a model
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
        self.inputs_before = _snapshot((tuple(self.fit_args), dict(self.fit_kwargs)))

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


# ============================================================================ comparing outputs
def same(a: Any, b: Any) -> bool:
    """Whether two model outputs are identical (frames, arrays, dicts, lists, scalars)."""
    try:
        assert_same(a, b)
    except AssertionError:
        return False
    return True


def assert_same(a: Any, b: Any, where: str = "output") -> None:
    """Raise ``AssertionError`` (naming the first difference) unless ``a`` and ``b`` are equal.

    Frames and Series must match in values, dtypes, index and names; arrays in shape, dtype
    and values (missing values equal each other); mappings and sequences item by item.
    """
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        _expect(isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame), where, a, b)
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif isinstance(a, pd.Series) or isinstance(b, pd.Series):
        _expect(isinstance(a, pd.Series) and isinstance(b, pd.Series), where, a, b)
        pd.testing.assert_series_equal(a, b, obj=where)
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        _expect(a.shape == b.shape and a.dtype == b.dtype, where, a.shape, b.shape)
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, Mapping) and isinstance(b, Mapping):
        _expect(list(a) == list(b), f"{where} keys", list(a), list(b))
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        # a tuple comes back from a JSON model file as a list: the same value
        _expect(len(a) == len(b), where, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        _expect(a == b or (np.isnan(a) and np.isnan(b)), where, a, b)
    else:
        try:
            equal = bool(a == b)
        except (TypeError, ValueError):  # objects without a plain ==: compare their state
            equal = type(a) is type(b) and same(vars(a), vars(b))
        _expect(equal, where, a, b)


def _expect(ok: bool, where: str, a: Any, b: Any) -> None:
    if not ok:
        raise AssertionError(f"{where} differs: {_short(a)} != {_short(b)}")


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 200 else text[:200] + "..."


def fitted_attributes(model: Any) -> dict[str, Any]:
    """The attributes ``fit`` learned: public names ending in ``_`` (sorted by name)."""
    return {k: v for k, v in sorted(vars(model).items()) if _is_fitted_name(k)}


def _is_fitted_name(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_")


def _params(model: Any) -> dict[str, Any]:
    if hasattr(model, "get_params"):
        return dict(model.get_params())
    sig = inspect.signature(type(model).__init__)
    names = [
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    missing = [k for k in names if not hasattr(model, k)]
    if missing:
        raise AssertionError(
            f"{type(model).__name__}.__init__ does not store its argument(s) {missing} as "
            "attributes of the same name"
        )
    return {k: getattr(model, k) for k in names}


def _snapshot(x: Any) -> Any:
    if isinstance(x, pd.DataFrame | pd.Series | np.ndarray):
        return x.copy()
    if isinstance(x, Mapping):
        return {k: _snapshot(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_snapshot(v) for v in x)
    try:
        return copy.deepcopy(x)
    except Exception:
        return x


# ============================================================================ generic checks
def check_init_stores_params(case: ModelCase) -> None:
    """``__init__`` stores its arguments untouched and learns nothing."""
    model = case.make(SEED)
    params = _params(model)
    if "random_state" in params:
        assert params["random_state"] == SEED, (
            f"{case.name}: random_state must be stored as passed ({SEED!r}), got "
            f"{params['random_state']!r}; resolve it in fit/sample"
        )
    early = [k for k in vars(model) if _is_fitted_name(k)]
    assert not early, f"{case.name}: __init__ sets fitted attribute(s) {early}; set them in fit"
    clone = type(model)(**params)
    assert_same(_params(clone), params, f"{case.name}: get_params() after rebuilding")


def check_fit_returns_self(case: ModelCase) -> None:
    """``fit`` returns the model itself (so ``Model(...).fit(data).sample(n)`` works)."""
    if case.fit_method == "fit":
        model, out = case.fitted(SEED), case.fit_return(SEED)
    else:
        model = case.make(SEED)
        out = model.fit(*case.fit_args, **dict(case.fit_kwargs))
    assert out is model, f"{case.name}: fit returned {type(out).__name__}, not self"


def check_fitted_attributes(case: ModelCase) -> None:
    """What ``fit`` learns ends in ``_``; ``fit`` does not change the parameters."""
    fresh = case.make(SEED)
    before = set(vars(fresh))
    params = _params(fresh)
    model = case.fitted(SEED)
    added = [k for k in vars(model) if k not in before and not k.startswith("_")]
    bad = [k for k in added if not k.endswith("_")]
    assert not bad, f"{case.name}: fit sets public attribute(s) {bad} not ending in '_'"
    assert any(_is_fitted_name(k) for k in vars(model)), (
        f"{case.name}: fit set no attribute ending in '_'"
    )
    assert_same(_params(model), params, f"{case.name}: get_params() after fit")


def check_not_fitted(case: ModelCase) -> None:
    """An unfitted model refuses ``use`` and ``save`` with ``NotFittedError``."""
    model = case.make(SEED)
    calls: list[tuple[str, Callable[[], Any]]] = []
    if case.use is not None:
        calls.append(("use", lambda: case.use(model)))  # type: ignore[misc]
    if case.kind is not None:
        tmp = Path(tempfile.mkdtemp()) / "unfitted.synthcust"
        calls.append(("save", lambda: model.save(tmp)))
    for what, call in calls:
        try:
            call()
        except NotFittedError:
            continue
        except Exception as e:
            raise AssertionError(
                f"{case.name}: {what} on an unfitted model raised {type(e).__name__} ({e}), "
                "not NotFittedError"
            ) from e
        raise AssertionError(f"{case.name}: {what} on an unfitted model did not raise")


def check_random_state(case: ModelCase) -> None:
    """The same ``random_state`` gives the same output; another gives another output."""
    first = case.fitted_output(SEED)
    again = case.make(SEED)
    ret = case.fit(again)
    assert_same(case.output(again, ret), first, f"{case.name}: output with the same seed")
    if case.seeded:
        other = case.fitted_output(OTHER_SEED)
        assert not same(first, other), (
            f"{case.name}: random_state={SEED} and random_state={OTHER_SEED} give the same "
            "output; is random_state used?"
        )


def check_inputs_not_mutated(case: ModelCase) -> None:
    """Neither ``fit`` nor ``use`` modifies the caller's frames or other inputs."""
    before = case.inputs_before
    case.fitted_output(SEED)
    after = (tuple(case.fit_args), dict(case.fit_kwargs))
    assert_same(after, before, f"{case.name}: the inputs after fit and use")


def check_save_load_round_trip(case: ModelCase) -> None:
    """``save`` writes a model file of the case's kind; ``load`` gives identical output;
    saving the same fitted model twice gives the same bytes."""
    if case.kind is None:
        return
    model = case.fitted(SEED)
    folder = Path(tempfile.mkdtemp())
    path = folder / "model.synthcust"
    written = model.save(path)
    path = Path(written) if written is not None else path
    kind = peek_kind(path)
    assert kind == case.kind, f"{case.name}: the file's kind is {kind!r}, not {case.kind!r}"
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["arrays.npz", "synthcust.json"], (
            f"{case.name}: not the one model file format (synthcust._utils.persist)"
        )
    loaded = case.load_model(model, path)
    assert type(loaded) is type(model), f"{case.name}: load returned {type(loaded).__name__}"
    assert_same(_params(loaded), _params(model), f"{case.name}: get_params() after load")
    if case.use is None:  # the output came from the fit: compare what the fit learned
        assert_same(fitted_attributes(loaded), fitted_attributes(model), f"{case.name}: after load")
    else:
        expected = case.fitted_output(SEED)
        assert_same(case.output(loaded), expected, f"{case.name}: output after save/load")
    second = folder / "again.synthcust"
    model.save(second)
    assert second.read_bytes() == path.read_bytes(), (
        f"{case.name}: saving the same model twice gives different files"
    )


def check_model_file_refusals(case: ModelCase) -> None:
    """``load`` refuses a pickle, a pickled array, another kind and a newer format version."""
    if case.kind is None:
        return
    model = case.fitted(SEED)
    folder = Path(tempfile.mkdtemp())
    good = folder / "model.synthcust"
    model.save(good)
    with zipfile.ZipFile(good) as zf:
        header = json.loads(zf.read("synthcust.json"))
        arrays = zf.read("arrays.npz")
    pickled = folder / "pickle.synthcust"
    pickled.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K*.")  # pickle of 42
    objects = io.BytesIO()
    np.savez(objects, evil=np.array([{"a": 1}], dtype=object))
    bad_arrays = _rewrite(folder / "objects.synthcust", header, objects.getvalue())
    future = _rewrite(
        folder / "future.synthcust", {**header, "format_version": FORMAT_VERSION + 1}, arrays
    )
    other = folder / "other.synthcust"
    save_bundle(other, {}, {}, kind=f"not-{case.kind}")
    for label, p, pattern in (
        ("a pickle", pickled, ""),
        ("a pickled object array", bad_arrays, ""),
        ("a newer format version", future, "newer"),
        ("a file of another kind", other, ""),
    ):
        try:
            case.load_model(model, p)
        except ModelFileError as e:
            assert pattern in str(e), f"{case.name}: loading {label}: message {e} lacks {pattern!r}"
            continue
        except Exception as e:
            raise AssertionError(
                f"{case.name}: loading {label} raised {type(e).__name__} ({e}), not ModelFileError"
            ) from e
        raise AssertionError(f"{case.name}: loading {label} did not raise ModelFileError")


def _rewrite(path: Path, header: dict[str, Any], arrays: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("synthcust.json", json.dumps(header))
        zf.writestr("arrays.npz", arrays)
    return path


# ============================================================================ synthesizer checks
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


#: checks every learnable model passes
GENERIC_CHECKS: tuple[Callable[[ModelCase], None], ...] = (
    check_init_stores_params,
    check_fit_returns_self,
    check_fitted_attributes,
    check_not_fitted,
    check_random_state,
    check_inputs_not_mutated,
    check_save_load_round_trip,
    check_model_file_refusals,
)
#: checks single-table synthesizers pass too (``ModelCase(synthesizer=True)``)
SYNTHESIZER_CHECKS: tuple[Callable[[ModelCase], None], ...] = (
    check_sample_columns_and_dtypes,
    check_missing_values,
    check_conditions_honoured,
    check_sample_size_validation,
    check_bad_training_input,
)


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
