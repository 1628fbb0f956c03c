"""The oversampler template (``fit_resample`` validates and plans; subclasses write
``_new_rows``) and its model file (kind ``"oversampler"``)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from synthcust._utils.persist import load_bundle, save_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError, ModelFileError, NotFittedError
from synthcust.synthesizers.base import REGISTRY, BaseSynthesizer
from synthcust.synthesizers.oversampling.layout import Layout, layout, new_ids
from synthcust.synthesizers.oversampling.rules import obey_rules
from synthcust.synthesizers.oversampling.target import check_target, target_counts

__all__ = ["OVERSAMPLERS", "BaseOversampler", "load_oversampler"]

_KIND = "oversampler"
#: every oversampler class by name (filled as they are defined): what a model file may hold
OVERSAMPLERS: dict[str, type[BaseOversampler]] = {}


class BaseOversampler(BaseEstimator):
    """Template: ``fit_resample`` validates and plans; subclasses write ``_new_rows``."""

    sampling_strategy: float | Mapping[Any, int]
    categorical: Sequence[str] | None
    random_state: int | None

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        OVERSAMPLERS[cls.__name__] = cls

    def fit_resample(self, X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, pd.Series]:
        """Return ``X`` and ``y`` with new rows of every class below the ratio appended.

        Parameters
        ----------
        X : pandas.DataFrame
            Features (a NumPy array is wrapped as a frame with columns ``x0, x1, ...``).
        y : array-like
            Class labels, one per row of ``X``.

        Returns
        -------
        (pandas.DataFrame, pandas.Series)
            Original rows first, then the new ones; same columns and dtypes as the input.
        """
        if not isinstance(X, pd.DataFrame):
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise DataError(f"X must be a 2-d table, got shape {arr.shape}")
            X = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        y = check_target(y)
        if len(X) != len(y):
            raise DataError(f"X has {len(X):,} rows but y has {len(y):,}; they must match")
        X = X.reset_index(drop=True)
        self.notes_: list[str] = []
        self.counts_before_ = {k: int(v) for k, v in y.value_counts().items()}
        want = target_counts(y, self.sampling_strategy)
        n_new = {
            k: want[k] - self.counts_before_[k] for k in want if want[k] > self.counts_before_[k]
        }
        lay = layout(X, self.categorical)
        rng = resolve_rng(self.random_state)
        feats = [c for c in X.columns if c not in set(lay.ids)]
        Xn, yn = self._new_rows(X[feats], y, n_new, lay, rng)
        # the new rows obey the exact rules of the features (implications, A <= B, identities)
        Xn = obey_rules(X[feats], Xn, rng, self.notes_, getattr(self, "rules", "auto"))
        for c in lay.ids:  # keys are not features: fresh ones that clash with none
            Xn[c] = new_ids(X[c], len(Xn)).to_numpy()
        X_out = pd.concat([X, Xn[X.columns]], ignore_index=True)
        y_out = pd.Series(
            np.concatenate([y.to_numpy(dtype=object), np.asarray(yn, dtype=object)]),
            name=y.name,
        ).astype(y.dtype)
        self.synthetic_mask_ = np.r_[np.zeros(len(X), bool), np.ones(len(Xn), bool)]
        self.counts_after_ = {k: int(v) for k, v in y_out.value_counts().items()}
        self.n_synthetic_ = len(Xn)
        short = {k: want[k] - self.counts_after_.get(k, 0) for k in n_new}
        short = {k: v for k, v in short.items() if v > 0}
        if short:
            self.notes_.append(
                "fewer rows than asked were generated for "
                + ", ".join(f"class {k!r} ({v:,} short)" for k, v in short.items())
            )
        return X_out, y_out

    def fit(self, X: pd.DataFrame, y: Any) -> Self:
        """Run :meth:`fit_resample` for its side effects (counts, notes); return ``self``."""
        self.fit_resample(X, y)
        return self

    def save(self, path: str | os.PathLike) -> Path:
        """Save the settings and what the last fit did (counts, notes, which rows are new).

        The file is the one model file format (:mod:`synthcust._utils.persist`, kind
        ``"oversampler"``); :func:`load_oversampler` (or ``type(self).load``) reads it back.
        """
        self._check_fitted()
        meta = {
            "oversampler": type(self).__name__,
            "params": {k: _encode_param(v) for k, v in self.get_params().items()},
            "fitted": {
                "counts_before_": list(self.counts_before_.items()),
                "counts_after_": list(self.counts_after_.items()),
                "n_synthetic_": self.n_synthetic_,
                "notes_": list(self.notes_),
            },
        }
        return save_bundle(path, meta, {"synthetic_mask_": self.synthetic_mask_}, kind=_KIND)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Any:
        """Load an oversampler saved by :meth:`save` (never unpickles anything)."""
        obj = load_oversampler(path)
        if not isinstance(obj, cls):
            raise ModelFileError(
                f"{str(path)!r} holds a {type(obj).__name__}, not a {cls.__name__}"
            )
        return obj

    def _check_fitted(self) -> None:
        if not hasattr(self, "counts_before_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call fit(X, y) or fit_resample(X, y) first"
            )

    def _new_rows(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        n_new: dict[Any, int],
        lay: Layout,
        rng: np.random.Generator,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        raise NotImplementedError


def _encode_param(v: Any) -> Any:
    """A parameter as JSON: a template synthesizer by name and settings, mappings as pairs."""
    if isinstance(v, BaseSynthesizer):
        return {"__synthesizer__": v.name, "params": v.get_params()}
    if isinstance(v, Mapping):
        return {"__pairs__": [[k, x] for k, x in v.items()]}
    if isinstance(v, tuple):
        return list(v)
    return v


def _decode_param(v: Any) -> Any:
    if isinstance(v, dict) and "__synthesizer__" in v:
        return REGISTRY[v["__synthesizer__"]](**v["params"])
    if isinstance(v, dict) and "__pairs__" in v:
        return {k: x for k, x in v["__pairs__"]}
    return v


def load_oversampler(path: str | os.PathLike) -> BaseOversampler:
    """Load any oversampler saved with ``save`` (SMOTE, generative or hybrid).

    Raises
    ------
    ModelFileError
        When ``path`` is not an oversampler model file (another kind, corrupt, newer).
    """
    meta, arrays = load_bundle(path, kind=_KIND)
    cls = OVERSAMPLERS.get(meta.get("oversampler", ""))
    if cls is None:
        raise ModelFileError(
            f"{str(path)!r} holds an unknown oversampler {meta.get('oversampler')!r}; "
            "upgrade synthcust"
        )
    try:
        obj = cls(**{k: _decode_param(v) for k, v in meta["params"].items()})
        fitted = meta["fitted"]
        obj.counts_before_ = {k: int(v) for k, v in fitted["counts_before_"]}
        obj.counts_after_ = {k: int(v) for k, v in fitted["counts_after_"]}
        obj.n_synthetic_ = int(fitted["n_synthetic_"])
        obj.notes_ = list(fitted["notes_"])
        obj.synthetic_mask_ = np.asarray(arrays["synthetic_mask_"], dtype=bool)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{str(path)!r}: oversampler file is corrupt ({e}); re-fit") from e
    return obj
