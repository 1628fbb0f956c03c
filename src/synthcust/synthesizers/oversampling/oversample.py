"""Oversampling for imbalanced targets: the SMOTE family and generative oversampling.

Every oversampler takes a feature frame ``X`` and class labels ``y`` and returns them with new
rows of the small classes appended (``fit_resample``), so it drops into an
``imblearn.pipeline.Pipeline`` in front of any classifier. :func:`rebalance` does the same on
one table holding the target. The caller's frames are never modified; the output has the same
columns, in the same order and with the same dtypes, original rows first (in their order,
fresh ``RangeIndex``), then the new rows; ``synthetic_mask_`` says which rows are new.

Methods (``method=`` of :func:`make_oversampler` / :func:`rebalance`):

``smote``
    SMOTE (Chawla et al. 2002): a new row lies on the segment between a minority row and one of
    its ``k_neighbors`` nearest same-class neighbours. Numeric features are standardised first
    (so distances do not follow the units of the largest column) and mapped back after. With
    categorical features present it becomes **SMOTE-NC** automatically (a note says so): SMOTE
    cannot interpolate categories.
``smotenc``
    SMOTE-NC: numeric features interpolated, each categorical feature set to the value most
    frequent among the neighbours (distance adds the median numeric spread per differing
    category). Without categorical features it is plain SMOTE; without numeric ones, SMOTE-N.
``smoten``
    SMOTE-N: all features categorical, neighbours by the value difference metric.
``borderline``
    Borderline-SMOTE-1 (Han et al. 2005): only minority rows "in danger" (most of their
    ``m_neighbors`` nearest rows of any class are other classes) seed new rows.
``adasyn``
    ADASYN (He et al. 2008): more new rows around minority rows with more other-class
    neighbours; the counts reached are approximately, not exactly, the ones asked for.
``generative``
    A synthcust synthesizer (default the Gaussian copula) draws the new rows. With
    ``per_class=True`` (default) one model is fitted on each raised class's own rows, so the
    class's joint distribution is not averaged with the majority's (on Credit default this
    lifted minority F1 over the joint model: see the README); with ``per_class=False`` one model
    learns the whole table, target included, and ``sample(n, conditions={target: class})``
    draws them. No neighbours, so it works for any class size >= 1 and every column kind.
``hybrid``
    ``smote_share`` of the new rows of each class from SMOTE (``smote_kind``), the rest from the
    generative model.

Borderline-SMOTE and ADASYN are numeric-only in imbalanced-learn; on mixed data the categorical
features are one-hot encoded (each level scaled to half the median standard deviation of the
standardised numeric features of the minority rows, as SMOTE-NC does), interpolated, and decoded
by taking the level with the largest interpolated weight, so every value stays in the seen set.

Column handling (kinds from :func:`synthcust.schema.infer.infer_schema`, overridable with
``categorical=``):

* numeric dtype columns are interpolated; whole-number columns are rounded, every numeric column
  is clipped to its observed range, and the dtype is kept (``int64`` stays ``int64``);
* datetimes are interpolated as seconds and come back as the same datetime dtype;
* text-like, boolean, ``category`` dtype and 0/1 columns are categorical: values come only from
  the seen set, dtype kept;
* **missing values**: in a categorical column "missing" is a level of its own (a new row can be
  missing where its neighbours are); in a numeric column the gaps are filled with the column
  median for the neighbour search and a missing-indicator (a categorical feature) travels with
  the row, so a new row is missing in that column when the indicator says so;
* **id columns** (unique keys) are not features: new rows get fresh ids (``max + 1, ...`` for
  numbers, ``"synthetic-<n>"`` for text) that clash with no existing id;
* **free-text columns are refused** (the error names them): neither interpolation nor a
  category model makes sense for prose; drop them first (``--drop COL`` on the command line).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"age": rng.integers(18, 70, 300),
...                    "plan": rng.choice(["basic", "pro"], 300),
...                    "churn": np.where(rng.random(300) < 0.1, "yes", "no")})
>>> out = rebalance(df, "churn", method="smote", ratio=1.0, random_state=0)
>>> out["churn"].value_counts().tolist(), str(out["age"].dtype)
([278, 278], 'int64')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError
from synthcust.synthesizers.oversampling.base import OVERSAMPLERS, BaseOversampler, load_oversampler
from synthcust.synthesizers.oversampling.generative import (
    MIN_ROWS_PER_CLASS,
    build_synthesizer,
    conform,
    fit_conditional,
    fit_per_class,
    generative_rows,
)
from synthcust.synthesizers.oversampling.layout import Layout, layout
from synthcust.synthesizers.oversampling.smote import SMOTE_KINDS, smote_rows
from synthcust.synthesizers.oversampling.target import MAX_CLASSES, check_target, target_counts

__all__ = [
    "MAX_CLASSES",
    "METHODS",
    "MIN_ROWS_PER_CLASS",
    "OVERSAMPLERS",
    "SMOTE_KINDS",
    "BaseOversampler",
    "GenerativeOversampler",
    "HybridOversampler",
    "Layout",
    "SMOTEOversampler",
    "build_synthesizer",
    "check_target",
    "conform",
    "fit_conditional",
    "fit_per_class",
    "generative_rows",
    "layout",
    "load_oversampler",
    "make_oversampler",
    "rebalance",
    "resample_frame",
    "smote_rows",
    "target_counts",
]

#: Every method :func:`make_oversampler` and :func:`rebalance` accept.
METHODS = (*SMOTE_KINDS, "generative", "hybrid")


class SMOTEOversampler(BaseOversampler):
    """SMOTE, SMOTE-NC, SMOTE-N, Borderline-SMOTE-1 or ADASYN (imbalanced-learn) on frames.

    Parameters
    ----------
    kind : {"smote", "smotenc", "smoten", "borderline", "adasyn"}
        The method (see the module docstring for what each does and how categoricals are
        handled).
    sampling_strategy : float or dict
        Ratio minority / majority after resampling (``1.0`` = balanced), or rows per class.
    k_neighbors : int
        Same-class neighbours to interpolate with (ADASYN's ``n_neighbors``); every class that is
        raised needs at least ``k_neighbors + 1`` rows.
    m_neighbors : int
        Borderline-SMOTE only: neighbours (any class) deciding whether a row is in danger.
    categorical : list of str, optional
        Columns to treat as categorical whatever their dtype.
    random_state : int, optional
        Seed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> X = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    >>> y = pd.Series(np.where(X["x"] > 1.2, 1, 0), name="y")
    >>> Xr, yr = SMOTEOversampler(sampling_strategy=0.5, random_state=0).fit_resample(X, y)
    >>> yr.value_counts().sort_index().tolist()
    [186, 93]
    """

    def __init__(
        self,
        kind: str = "smote",
        sampling_strategy: float | Mapping[Any, int] = 1.0,
        k_neighbors: int = 5,
        m_neighbors: int = 10,
        categorical: Sequence[str] | None = None,
        random_state: int | None = None,
        rules: str = "auto",
    ):
        self.rules = rules
        self.kind = kind
        self.sampling_strategy = sampling_strategy
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.categorical = categorical
        self.random_state = random_state

    def _new_rows(self, X, y, n_new, lay, rng):  # type: ignore[no-untyped-def]
        return smote_rows(
            X, y, n_new, lay, self.kind, self.k_neighbors, self.m_neighbors, rng, self.notes_
        )


class GenerativeOversampler(BaseOversampler):
    """New minority rows drawn by conditional sampling from a synthcust synthesizer.

    The synthesizer (``"copula"`` by default; any name of
    :data:`synthcust.synthesizers.REGISTRY`, or an unfitted instance to copy the settings of) is
    fitted once per ``fit_resample``: on each raised class's own rows (``per_class=True``,
    default), or on the whole table with the target as a column, the rows of class ``c`` then
    coming from ``sample(n, conditions={target: c})``. Values are then conformed to the input:
    whole-number columns rounded, numbers clipped to the observed range, a category the real
    data never shows (or a missing value where the real column has none) replaced by the most
    frequent value of that class (counted in ``notes_``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> X = pd.DataFrame({"age": rng.integers(18, 70, 400),
    ...                   "plan": rng.choice(["basic", "pro", "team"], 400)})
    >>> y = pd.Series(np.where(rng.random(400) < 0.1, "yes", "no"), name="churn")
    >>> Xr, yr = GenerativeOversampler(random_state=0).fit_resample(X, y)
    >>> (yr == "yes").sum() == (yr == "no").sum(), set(Xr["plan"]) <= {"basic", "pro", "team"}
    (np.True_, True)
    """

    def __init__(
        self,
        synthesizer: Any = "copula",
        synthesizer_params: Mapping[str, Any] | None = None,
        sampling_strategy: float | Mapping[Any, int] = 1.0,
        categorical: Sequence[str] | None = None,
        random_state: int | None = None,
        per_class: bool = True,
        rules: str = "auto",
    ):
        self.rules = rules
        self.synthesizer = synthesizer
        self.synthesizer_params = synthesizer_params
        self.sampling_strategy = sampling_strategy
        self.categorical = categorical
        self.random_state = random_state
        self.per_class = per_class

    def _new_rows(self, X, y, n_new, lay, rng):  # type: ignore[no-untyped-def]
        return generative_rows(
            X, y, n_new, self.synthesizer, self.synthesizer_params, rng, self.notes_,
            per_class=self.per_class, rules=self.rules,
        )  # fmt: skip


class HybridOversampler(BaseOversampler):
    """``smote_share`` of each class's new rows from SMOTE (``smote_kind``), the rest generative.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> X = pd.DataFrame({"x": rng.normal(size=300), "z": rng.normal(size=300)})
    >>> y = pd.Series(np.where(X["x"] > 1.0, "a", "b"))
    >>> Xr, yr = HybridOversampler(random_state=0).fit_resample(X, y)
    >>> int((yr == "a").sum()) == int((yr == "b").sum())
    True
    """

    def __init__(
        self,
        smote_share: float = 0.5,
        smote_kind: str = "smote",
        synthesizer: Any = "copula",
        synthesizer_params: Mapping[str, Any] | None = None,
        sampling_strategy: float | Mapping[Any, int] = 1.0,
        k_neighbors: int = 5,
        categorical: Sequence[str] | None = None,
        random_state: int | None = None,
        per_class: bool = True,
        rules: str = "auto",
    ):
        self.rules = rules
        self.smote_share = smote_share
        self.smote_kind = smote_kind
        self.synthesizer = synthesizer
        self.synthesizer_params = synthesizer_params
        self.sampling_strategy = sampling_strategy
        self.k_neighbors = k_neighbors
        self.categorical = categorical
        self.random_state = random_state
        self.per_class = per_class

    def _new_rows(self, X, y, n_new, lay, rng):  # type: ignore[no-untyped-def]
        if not 0 <= self.smote_share <= 1:
            raise DataError(f"smote_share must be in [0, 1], got {self.smote_share}")
        part_s = {c: round(self.smote_share * n) for c, n in n_new.items()}
        part_g = {c: n - part_s[c] for c, n in n_new.items()}
        part_s = {c: n for c, n in part_s.items() if n > 0}
        part_g = {c: n for c, n in part_g.items() if n > 0}
        frames, ys = [], []
        if part_s:
            Xs, ys_ = smote_rows(
                X, y, part_s, lay, self.smote_kind, self.k_neighbors, 10, rng, self.notes_
            )
            frames.append(Xs)
            ys.append(ys_)
        if part_g:
            Xg, yg = generative_rows(
                X, y, part_g, self.synthesizer, self.synthesizer_params, rng, self.notes_,
                per_class=self.per_class,
            )  # fmt: skip
            frames.append(Xg)
            ys.append(yg)
        return pd.concat(frames, ignore_index=True), np.concatenate(ys)


def make_oversampler(
    method: str,
    *,
    sampling_strategy: float | Mapping[Any, int] = 1.0,
    k_neighbors: int = 5,
    synthesizer: Any = "copula",
    synthesizer_params: Mapping[str, Any] | None = None,
    smote_share: float = 0.5,
    categorical: Sequence[str] | None = None,
    random_state: int | None = None,
    rules: str = "auto",
) -> BaseOversampler:
    """The oversampler for ``method`` (one of :data:`METHODS`).

    ``rules="auto"`` (default): the new rows obey the exact rules of the data (implications,
    ``A <= B``, identities; :func:`~synthcust.synthesizers.oversampling.rules.obey_rules`);
    ``"off"``: they are left as drawn.

    Examples
    --------
    >>> type(make_oversampler("borderline")).__name__
    'SMOTEOversampler'
    """
    if method in SMOTE_KINDS:
        return SMOTEOversampler(
            method,
            sampling_strategy=sampling_strategy,
            k_neighbors=k_neighbors,
            categorical=categorical,
            random_state=random_state,
            rules=rules,
        )
    if method == "generative":
        return GenerativeOversampler(
            synthesizer,
            synthesizer_params,
            sampling_strategy=sampling_strategy,
            categorical=categorical,
            random_state=random_state,
            rules=rules,
        )
    if method == "hybrid":
        return HybridOversampler(
            smote_share,
            synthesizer=synthesizer,
            synthesizer_params=synthesizer_params,
            sampling_strategy=sampling_strategy,
            k_neighbors=k_neighbors,
            categorical=categorical,
            random_state=random_state,
            rules=rules,
        )
    raise DataError(f"unknown oversampling method {method!r}; use one of {', '.join(METHODS)}")


def resample_frame(
    df: pd.DataFrame, target: str, sampler: BaseOversampler
) -> tuple[pd.DataFrame, BaseOversampler]:
    """Run ``sampler`` on a table holding its target; the fitted sampler says what it did."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if target not in df.columns:
        raise DataError(
            f"target {target!r} is not a column; columns: {', '.join(map(str, df.columns))}"
        )
    if df.shape[1] < 2:
        raise DataError(f"the table has no feature column besides the target {target!r}")
    Xr, yr = sampler.fit_resample(df.drop(columns=[target]), df[target].rename(target))
    Xr[target] = yr.to_numpy()
    Xr[target] = Xr[target].astype(df[target].dtype)
    return Xr[list(df.columns)], sampler


def rebalance(
    df: pd.DataFrame,
    target: str,
    method: str = "smote",
    ratio: float = 1.0,
    **kwargs: Any,
) -> pd.DataFrame:
    """Rebalance ``df`` on ``target`` so every class has at least ``ratio`` x the majority.

    Same columns, order and dtypes out as in; original rows first, new rows after. ``kwargs``
    go to :func:`make_oversampler` (``k_neighbors``, ``synthesizer``, ``smote_share``,
    ``categorical``, ``random_state``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=100), "y": [1] * 10 + [0] * 90})
    >>> rebalance(df, "y", "smote", 0.5, random_state=0)["y"].value_counts().tolist()
    [90, 45]
    """
    out, _ = resample_frame(df, target, make_oversampler(method, sampling_strategy=ratio, **kwargs))
    return out
