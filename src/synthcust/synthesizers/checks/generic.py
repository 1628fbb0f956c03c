"""Checks every learnable model passes: the model contract and the one model file format."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from synthcust._utils.persist import FORMAT_VERSION, peek_kind, save_bundle
from synthcust.exceptions import ModelFileError, NotFittedError
from synthcust.synthesizers.checks.case import OTHER_SEED, SEED, ModelCase
from synthcust.synthesizers.checks.compare import (
    assert_same,
    fitted_attributes,
    is_fitted_name,
    model_params,
    same,
)

__all__ = [
    "GENERIC_CHECKS",
    "check_fit_returns_self",
    "check_fitted_attributes",
    "check_init_stores_params",
    "check_inputs_not_mutated",
    "check_model_file_refusals",
    "check_not_fitted",
    "check_random_state",
    "check_save_load_round_trip",
]


def check_init_stores_params(case: ModelCase) -> None:
    """``__init__`` stores its arguments untouched and learns nothing."""
    model = case.make(SEED)
    params = model_params(model)
    if "random_state" in params:
        assert params["random_state"] == SEED, (
            f"{case.name}: random_state must be stored as passed ({SEED!r}), got "
            f"{params['random_state']!r}; resolve it in fit/sample"
        )
    early = [k for k in vars(model) if is_fitted_name(k)]
    assert not early, f"{case.name}: __init__ sets fitted attribute(s) {early}; set them in fit"
    clone = type(model)(**params)
    assert_same(model_params(clone), params, f"{case.name}: get_params() after rebuilding")


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
    params = model_params(fresh)
    model = case.fitted(SEED)
    added = [k for k in vars(model) if k not in before and not k.startswith("_")]
    bad = [k for k in added if not k.endswith("_")]
    assert not bad, f"{case.name}: fit sets public attribute(s) {bad} not ending in '_'"
    assert any(is_fitted_name(k) for k in vars(model)), (
        f"{case.name}: fit set no attribute ending in '_'"
    )
    assert_same(model_params(model), params, f"{case.name}: get_params() after fit")


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
    assert_same(model_params(loaded), model_params(model), f"{case.name}: get_params() after load")
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
