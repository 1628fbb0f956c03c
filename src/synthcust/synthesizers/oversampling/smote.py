"""New rows from the SMOTE family (imbalanced-learn) on mixed tables."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError, ModelError
from synthcust.synthesizers.oversampling.layout import Encoder, Layout, draw_seed

__all__ = ["SMOTE_KINDS", "smote_rows"]

#: SMOTE-family methods (imbalanced-learn).
SMOTE_KINDS = ("smote", "smotenc", "smoten", "borderline", "adasyn")


def _dense_inverse_ohe() -> Any:
    """SMOTE-NC's default one-hot encoder, decoding from a dense matrix.

    imbalanced-learn hands the encoder a sparse matrix to decode and scipy's sparse row-wise
    ``argmax`` is a Python loop per row (5 s of 8 on Bank); the dense one is vectorised.
    """
    from scipy import sparse
    from sklearn.preprocessing import OneHotEncoder

    class DenseInverseOneHotEncoder(OneHotEncoder):
        def inverse_transform(self, X: Any) -> Any:
            return super().inverse_transform(X.toarray() if sparse.issparse(X) else X)

    return DenseInverseOneHotEncoder(handle_unknown="ignore")


def smote_rows(
    X: pd.DataFrame,
    y: pd.Series,
    n_new: dict[Any, int],
    lay: Layout,
    kind: str,
    k: int,
    m: int,
    rng: np.random.Generator,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray]:
    """New rows (only) from one SMOTE-family method; ``notes`` gets what was decided."""
    from imblearn.over_sampling import ADASYN, SMOTE, SMOTEN, SMOTENC, BorderlineSMOTE

    if kind not in SMOTE_KINDS:
        raise DataError(f"unknown SMOTE kind {kind!r}; use one of {', '.join(SMOTE_KINDS)}")
    counts = y.value_counts()
    _check_neighbours(kind, k, counts, n_new)
    enc = Encoder(X, lay)
    n_num, n_cat = enc.Z.shape[1], enc.C.shape[1]
    kind = _effective_kind(kind, lay, notes)
    codes_y, classes = pd.factorize(y)
    cls_code = {c: i for i, c in enumerate(classes)}
    strategy = {cls_code[c]: int(counts[c]) + n for c, n in n_new.items()}
    seed = draw_seed(rng)
    onehot: list[slice] | None = None
    if kind == "smoten":
        M = enc.C.astype(float)
        sampler: Any = SMOTEN(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
    elif kind == "smotenc":
        M = np.hstack([enc.Z, enc.C.astype(float)])
        sampler = SMOTENC(
            categorical_features=list(range(n_num, n_num + n_cat)),
            categorical_encoder=_dense_inverse_ohe(),
            sampling_strategy=strategy,
            k_neighbors=k,
            random_state=seed,
        )
    else:
        scale = 1.0
        if n_cat:
            minority = np.isin(codes_y, list(strategy))
            sd = enc.Z[minority].std(axis=0) if n_num else np.array([])
            scale = float(np.median(sd)) / 2 if sd.size and np.median(sd) > 0 else 0.5
            notes.append(
                f"{kind}: categorical features {lay.categorical} one-hot encoded (each level "
                "weighted half the median numeric spread, as SMOTE-NC does) and decoded to "
                "the level with the largest interpolated weight"
            )
        M, onehot = enc.one_hot(scale) if n_cat else (enc.Z, [])
        if kind == "borderline":
            sampler = BorderlineSMOTE(
                sampling_strategy=strategy, k_neighbors=k, m_neighbors=m, random_state=seed
            )
        elif kind == "adasyn":
            sampler = ADASYN(sampling_strategy=strategy, n_neighbors=k, random_state=seed)
        else:
            sampler = SMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Mr, yr = sampler.fit_resample(M, codes_y)
    except (ValueError, RuntimeError) as e:
        raise ModelError(
            f"{kind} could not oversample this data ({e}); try method='smote' or 'generative'"
        ) from e
    new, y_new = Mr[len(M) :], np.asarray(yr[len(M) :])
    if kind == "smoten":
        Zn, Cn = np.empty((len(new), 0)), np.rint(new).astype(np.int64)
    elif kind == "smotenc":
        Zn, Cn = new[:, :n_num], np.rint(new[:, n_num:]).astype(np.int64)
    else:
        Zn = new[:, :n_num]
        Cn = (
            np.column_stack([new[:, s].argmax(axis=1) for s in onehot]).astype(np.int64)
            if onehot
            else np.zeros((len(new), 0), dtype=np.int64)
        )
    if kind == "borderline" and len(new) < sum(n_new.values()):
        notes.append(
            "borderline: classes with no row in danger (no other class among its "
            "m_neighbors) get no new rows"
        )
    return enc.decode(Zn, Cn), np.asarray(classes, dtype=object)[y_new]


def _check_neighbours(kind: str, k: Any, counts: pd.Series, n_new: dict[Any, int]) -> None:
    """Refuse a ``k`` that is not a whole number >= 1 or that a raised class is too small for."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise DataError(f"k_neighbors must be a whole number >= 1, got {k!r}")
    for cls in n_new:
        have = int(counts[cls])
        if have <= k:
            fix = (
                f"the largest workable k_neighbors is {have - 1} (--k-neighbors {have - 1})"
                if have >= 2
                else "no k works with a single row"
            )
            raise DataError(
                f"class {cls!r} has only {have} row(s), too few for k_neighbors={k}: "
                f"{kind} interpolates between a row and its k nearest same-class neighbours, so "
                f"it needs k + 1 rows; {fix}, or use method='generative', which needs no "
                "neighbours"
            )


def _effective_kind(kind: str, lay: Layout, notes: list[str]) -> str:
    """The SMOTE variant the columns allow (SMOTE-NC with categories, SMOTE-N without numbers)."""
    has_cat = bool(lay.categorical)
    if kind == "smote" and has_cat:
        kind = "smotenc" if lay.numeric else "smoten"
        notes.append(
            f"categorical features {lay.categorical} present: SMOTE cannot interpolate them, "
            f"so {kind.upper().replace('SMOTENC', 'SMOTE-NC').replace('SMOTEN', 'SMOTE-N')} "
            "was used"
        )
    elif kind == "smotenc" and not has_cat:
        kind = "smote"
        notes.append("no categorical feature: SMOTE-NC is plain SMOTE here")
    elif kind == "smotenc" and not lay.numeric:
        kind = "smoten"
        notes.append("no numeric feature: SMOTE-NC needs one, SMOTE-N was used")
    elif kind == "smoten" and lay.numeric:
        raise DataError(
            f"smoten is for tables whose features are all categorical; {lay.numeric} are "
            "numeric. Use method='smotenc' (numbers interpolated, categories voted)"
        )
    return kind
