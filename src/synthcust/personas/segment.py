"""Personas from a mixed-type customer table: a latent-class mixture model fitted by EM.

Method
------
Each customer belongs to one of ``k`` latent classes (personas). Within a class the columns are
independent (the *local independence* of latent class analysis, as in LatentGOLD or StepMix):

* a **numeric** (or date) column is Yeo-Johnson transformed when it is skewed (lambda by
  maximum likelihood), standardised, and modelled as a Gaussian per class. Ties are not
  squeezed onto one point: a value that occurs more than once owns the *interval* reaching
  half-way to its neighbouring values (open-ended at the smallest and largest value), and
  enters the likelihood as the class's probability of that interval (an interval-censored
  Gaussian: ordinal probit for integer scales, Tobit for a point mass at the minimum). So point
  masses (``spend == 0``, ``pdays == -1``) and small integer scales (ratings 1-5) are modelled
  instead of producing the infinite-density spikes that make a plain Gaussian mixture collapse
  onto tied values. (A marginal rank-Gauss transform was tried and rejected: it squeezes
  well-separated groups together and distorts their within-group shape, so BIC over-splits.)
* its **missingness** has its own probability per class (missing is informative: customers who
  never ordered have no order value);
* a **categorical** (or boolean) column has a categorical distribution per class; "missing" is
  a level; levels beyond ``max_levels`` are pooled as ``(other)``.

Why not a Gaussian mixture on standardised numbers plus one-hot columns: one-hot dummies are
not Gaussian, so that model is misspecified and its BIC meaningless; k-prototypes has no
likelihood at all, so the number of segments cannot be chosen by BIC. The latent-class model
has a proper likelihood over mixed data and missing values, so BIC/ICL are well defined.

EM is fully vectorised: every column is reduced to its distinct *cells* (categories, tied
values, single values read at 1/200 of a standard deviation), stacked over all columns; the
E-step evaluates cells x classes in one pass and gathers them into rows, the M-step aggregates
responsibilities per cell with one sparse product and uses truncated-normal moments for
interval cells. The cost per iteration grows with rows only through that gather and product.

Choosing the number of personas
--------------------------------
For every ``k`` in ``k_range`` (default 2..8) ``n_init`` fits are run, each on a different
random 80% of a selection sample (at most ``selection_rows`` rows), each from a different
k-means++ start. Then, on the selection sample:

* ``bic`` (default): the best fit, refined by EM on the whole sample; k with the lowest BIC.
* ``icl``: BIC plus twice the classification entropy; prefers well-separated personas.
* ``silhouette``: silhouette of the hard labels on the design matrix (standardised numbers and
  one-hot/sqrt(2)); k with the highest value.
* ``stability``: mean adjusted Rand index between the ``n_init`` fits' labels on the sample
  (different subsamples and starts); among the k whose stability is within
  ``stability_tolerance`` (0.05) of the most stable one, the largest (k = 2 is often trivially
  stable).

Only k whose smallest persona holds at least ``min_share`` of the customers are candidates
(when any is). Every figure for every k is kept in ``selection_``. The chosen k is then refitted
on all rows (warm start from the selection fit).

Stable labels
-------------
Personas are ordered by size (largest first) and named ``P1``, ``P2`` ...; ``fit(df,
reference=previous)`` instead aligns them to an earlier model's personas by Hungarian matching
on their agreement, and :func:`align_labels` does the same for any two labelings.

Examples
--------
>>> from synthcust.demo import simulate_customers
>>> df = simulate_customers(600, random_state=0, with_pii=False)
>>> seg = PersonaSegmenter(k=3, random_state=0).fit(df)
>>> seg.personas_
['P1', 'P2', 'P3']
>>> seg.predict(df.head(3)).shape
(3,)
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from threadpoolctl import threadpool_limits

from synthcust._utils.persist import load_bundle, save_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError, ModelFileError, NotFittedError
from synthcust.personas.columns import MISSING_LEVEL, OTHER_LEVEL, ColumnPlan, plan_columns
from synthcust.personas.mixture import (
    CellData,
    LatentClassMixture,
    MixtureParams,
    NumEncoder,
    cell_data,
    design_matrix,
    kmeans_labels,
)
from synthcust.schema.model import Schema

__all__ = [
    "CRITERIA",
    "KIND",
    "MISSING_LEVEL",
    "OTHER_LEVEL",
    "ColumnPlan",
    "KDiagnostics",
    "PersonaSegmenter",
    "align_labels",
    "edge_warning",
    "plan_columns",
]

CRITERIA = ("bic", "icl", "silhouette", "stability")
#: the model-file kind of a saved segmenter (see :mod:`synthcust._utils.persist`)
KIND = "personas"
#: the tag of the segmenter's dict form (:meth:`PersonaSegmenter.to_dict`) and of the plain
#: JSON files written before the one model file format (still loaded)
FORMAT = "synthcust-personas"
FORMAT_VERSION = 1
MIN_ROWS_PER_PERSONA = 5


@dataclass(frozen=True)
class KDiagnostics:
    """The figures of one candidate number of personas, measured on the selection sample."""

    k: int
    loglik: float
    n_params: int
    bic: float
    icl: float
    silhouette: float
    stability: float
    min_share: float


def edge_warning(k: int, tried: tuple[int, int], criterion: str,
                 k_range: tuple[int, int], n_rows: int) -> str | None:
    """The warning for a k chosen at an edge of the range tried, or None.

    At the upper edge the criterion might prefer still more personas; at the lower edge (above
    2) fewer; at k = 2 the data may hold no well-separated personas. Each message says which
    edge and what to do.

    >>> edge_warning(8, (2, 8), "bic", (2, 8), 5000)[:60]
    'k = 8 is the largest k tried (2..8): bic might prefer more p'
    >>> edge_warning(4, (2, 8), "bic", (2, 8), 5000) is None
    True
    """
    lo, hi = tried
    if lo == hi:
        return None
    if k == hi:
        capped = hi < int(k_range[1])
        why = f" (the most {n_rows:,} rows allow at {MIN_ROWS_PER_PERSONA} rows per persona)" \
            if capped else ""
        fix = "give more rows, or fix k (--k)" if capped else \
            f"widen the range (--max-k {2 * hi}) or fix k (--k)"
        return (f"k = {k} is the largest k tried ({lo}..{hi}){why}: {criterion} might prefer "
                f"more personas; {fix}")
    if k == lo and lo > 2:
        return (f"k = {k} is the smallest k tried ({lo}..{hi}): {criterion} might prefer "
                f"fewer personas; lower the range (--min-k 2) or fix k (--k)")
    if k == lo:
        return (f"k = 2 is the smallest k allowed ({lo}..{hi}): {criterion} found no finer "
                "split worth its parameters, so the data may hold no well-separated personas; "
                "check the cards' traits, or fix k (--k) to see a finer split")
    return None


def align_labels(labels: np.ndarray, reference: np.ndarray) -> dict[Any, Any]:
    """Map each label of ``labels`` to the ``reference`` label it agrees with most.

    Hungarian matching on the contingency table (maximum total agreement); labels left
    unmatched (more classes than the reference) map to themselves.

    >>> m = align_labels(np.array([1, 1, 0, 0]), np.array(["a", "a", "b", "b"]))
    >>> {int(k): str(v) for k, v in m.items()}
    {0: 'b', 1: 'a'}
    """
    a, ai = np.unique(np.asarray(labels), return_inverse=True)
    b, bi = np.unique(np.asarray(reference), return_inverse=True)
    table = np.zeros((len(a), len(b)))
    np.add.at(table, (ai, bi), 1)
    rows, cols = linear_sum_assignment(-table)
    out = {a[i]: a[i] for i in range(len(a))}
    out.update({a[r]: b[c] for r, c in zip(rows, cols, strict=True)})
    return out


def _no_nan(d: dict[str, Any]) -> dict[str, Any]:
    """NaN as None, so the JSON is strict (no NaN tokens)."""
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in d.items()}


def _diagnostics(d: dict[str, Any]) -> KDiagnostics:
    """A :class:`KDiagnostics` from its JSON form (``None`` read back as NaN)."""
    vals: dict[str, Any] = {k: np.nan if v is None else v for k, v in d.items()}
    return KDiagnostics(**vals)


class PersonaSegmenter:
    """Latent-class personas for a mixed-type customer table (see the module docstring).

    Parameters
    ----------
    k: number of personas; ``None`` chooses it over ``k_range`` by ``criterion``.
    k_range: smallest and largest k tried (inclusive).
    criterion: ``bic`` | ``icl`` | ``silhouette`` | ``stability``.
    columns: columns to segment on (default: every usable one, see ``exclude``).
    exclude: columns to leave out of the automatic choice.
    schema: a :class:`~synthcust.schema.Schema` (default: inferred; ids, PII, free text and
        constant columns are never used).
    n_init: fits per k (different subsamples and starts).
    selection_rows: rows of the sample on which k is chosen (the final fit uses all rows).
    min_share: smallest persona share for a k to be a candidate.
    stability_tolerance: see ``criterion="stability"``.
    max_levels: categorical levels kept per column (the rest pooled as ``(other)``).
    max_iter, tol: EM limits (relative log-likelihood change).
    random_state: seed of subsamples and starts.
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        k_range: tuple[int, int] = (2, 8),
        criterion: str = "bic",
        columns: list[str] | None = None,
        exclude: list[str] | None = None,
        schema: Schema | None = None,
        n_init: int = 4,
        selection_rows: int = 4000,
        min_share: float = 0.02,
        stability_tolerance: float = 0.05,
        max_levels: int = 30,
        max_iter: int = 300,
        tol: float = 1e-6,
        random_state: int | None = None,
    ):
        self.k = k
        self.k_range = k_range
        self.criterion = criterion
        self.columns = columns
        self.exclude = exclude
        self.schema = schema
        self.n_init = n_init
        self.selection_rows = selection_rows
        self.min_share = min_share
        self.stability_tolerance = stability_tolerance
        self.max_levels = max_levels
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, reference: PersonaSegmenter | None = None) -> PersonaSegmenter:
        """Choose k (unless given), fit the mixture on every row, and label the rows.

        ``reference``: an earlier fitted segmenter; the new personas take the ids of the
        earlier ones they agree with most (Hungarian matching on this table's rows).
        """
        # one BLAS thread: the products are small and threads only contend (10x slower)
        with threadpool_limits(1):
            return self._fit(df, reference)

    def _fit(self, df: pd.DataFrame, reference: PersonaSegmenter | None) -> PersonaSegmenter:
        if self.criterion not in CRITERIA:
            raise DataError(
                f"unknown criterion {self.criterion!r}; use one of {', '.join(CRITERIA)}"
            )
        if not isinstance(df, pd.DataFrame) or len(df) == 0:
            raise DataError("the customer table is empty; give at least a few rows")
        n = len(df)
        k_lo, k_hi = self._k_candidates(n)
        plan = plan_columns(
            df, schema=self.schema, columns=self.columns, exclude=self.exclude,
            max_levels=self.max_levels,
        )
        clean = plan.clean(df)
        encs = [NumEncoder.learn(c, clean[c].to_numpy(dtype=float), c not in plan.dates)
                for c in plan.numeric]
        self.plan_, self.encoders_ = plan, encs
        self.notes_ = list(plan.notes)
        data = self._data(clean)
        mix = LatentClassMixture(np.array([e.has_missing for e in encs], bool), plan.n_levels)
        rng = resolve_rng(self.random_state)
        sel = np.sort(rng.choice(n, self.selection_rows, replace=False)) \
            if n > self.selection_rows else np.arange(n)
        dsel = self._data(clean.iloc[sel]) if len(sel) < n else data  # only its own cells
        xsel = design_matrix(dsel)
        diags, fits = [], {}
        for k in range(k_lo, k_hi + 1):
            diag, p = self._select_fit(mix, dsel, xsel, k, rng)
            diags.append(diag)
            fits[k] = p
        self.selection_ = diags
        chosen = self.k if self.k is not None else self._choose(diags)
        self.k_warning_ = None if self.k is not None else \
            edge_warning(chosen, (k_lo, k_hi), self.criterion, self.k_range, n)
        if self.k_warning_:
            self.notes_.append(self.k_warning_)
        p = fits[chosen]
        p, r, ll, it = mix.em(data, p, self.max_iter, self.tol)
        if it >= self.max_iter:
            self.notes_.append(
                f"EM stopped after {it} iterations before converging (tol {self.tol})"
            )
        order = np.lexsort((np.arange(chosen), -r.sum(axis=0)))  # size desc, stable
        p, r = p.permute(order), r[:, order]
        self.params_, self.mixture_ = p, mix
        self.k_ = chosen
        self.personas_ = [f"P{i + 1}" for i in range(chosen)]
        self.loglik_ = ll
        self.n_rows_ = n
        self.chosen_by_ = "given" if self.k is not None else self.criterion
        hard = r.argmax(axis=1)
        empty = [self.personas_[i] for i in range(chosen) if not (hard == i).any()]
        if empty:
            self.notes_.append(
                f"personas {empty} hold no customer as their most likely persona; try a smaller k"
            )
        if reference is not None:
            self._align_to(reference, df, hard)
        self.labels_ = np.asarray(self.personas_, dtype=object)[hard]
        return self

    def _align_to(self, reference: PersonaSegmenter, df: pd.DataFrame, hard: np.ndarray) -> None:
        ref = reference.predict(df)
        mapping = align_labels(hard, ref)
        used = set(mapping.values())
        spare = iter(f"P{i}" for i in range(1, 10 * self.k_ + 10) if f"P{i}" not in used)
        ids = []
        for i in range(self.k_):
            v = mapping.get(i, i)
            ids.append(v if isinstance(v, str) else next(spare))
        self.personas_ = ids

    def _k_candidates(self, n: int) -> tuple[int, int]:
        if self.k is not None:
            k = int(self.k)
            if k < 2:
                raise DataError(f"k={k}: personas need k >= 2 (one persona is everyone)")
            if k * MIN_ROWS_PER_PERSONA > n:
                raise DataError(
                    f"k={k} personas need at least {k * MIN_ROWS_PER_PERSONA} rows "
                    f"({MIN_ROWS_PER_PERSONA} per persona) but the table has {n}; "
                    f"use k <= {max(n // MIN_ROWS_PER_PERSONA, 1)}"
                )
            return k, k
        lo, hi = (int(v) for v in self.k_range)
        if lo < 2 or hi < lo:
            raise DataError(f"k_range {self.k_range}: need 2 <= low <= high, e.g. (2, 8)")
        top = n // MIN_ROWS_PER_PERSONA
        if top < lo:
            raise DataError(
                f"{n} rows are too few for {lo} personas ({MIN_ROWS_PER_PERSONA} rows per "
                f"persona needed); give at least {lo * MIN_ROWS_PER_PERSONA} rows"
            )
        return lo, min(hi, top)

    def _data(self, clean: pd.DataFrame) -> CellData:
        return cell_data(self.plan_, self.encoders_, clean)

    def _select_fit(
        self, mix: LatentClassMixture, d: CellData, x: np.ndarray, k: int, rng: np.random.Generator
    ) -> tuple[KDiagnostics, MixtureParams]:
        from sklearn.metrics import adjusted_rand_score, silhouette_score

        runs, labels = [], []
        m = d.n
        for _ in range(max(self.n_init, 1)):
            rows = np.sort(rng.choice(m, max(int(0.8 * m), k * MIN_ROWS_PER_PERSONA),
                                      replace=False))
            seed = int(rng.integers(2**31 - 1))
            start = kmeans_labels(x[rows], k, np.random.default_rng(seed))
            r0 = np.eye(k)[start] * 0.9 + 0.1 / k
            sub = d.subset(rows)
            p = mix.m_step(r0, sub)
            p, _, _, _ = mix.em(sub, p, 150, 1e-5)
            r, ll = mix.e_step(p, d)
            runs.append((ll, p))
            labels.append(r.argmax(axis=1))
        best = int(np.argmax([ll for ll, _ in runs]))
        p, r, ll, _ = mix.em(d, runs[best][1], 100, 1e-6)
        hard = r.argmax(axis=1)
        npar = mix.n_params(k)
        bic = -2 * ll + npar * np.log(m)
        ent = -float((r * np.log(np.clip(r, 1e-300, None))).sum())
        pairs = [(i, j) for i in range(len(labels)) for j in range(i + 1, len(labels))]
        stab = float(np.mean([adjusted_rand_score(labels[i], labels[j]) for i, j in pairs])) \
            if pairs else float("nan")
        sil = float("nan")
        if len(np.unique(hard)) > 1 and x.shape[1] > 0:
            sil = float(silhouette_score(x, hard, sample_size=min(m, 2000),
                                         random_state=int(rng.integers(2**31 - 1))))
        share = np.bincount(hard, minlength=k) / m
        diag = KDiagnostics(k, ll, npar, float(bic), float(bic + 2 * ent), sil, stab,
                            float(share.min()))
        return diag, p

    def _choose(self, diags: list[KDiagnostics]) -> int:
        ok = [d for d in diags if d.min_share >= self.min_share] or diags
        if len(ok) < len(diags):
            dropped = [d.k for d in diags if d not in ok]
            self.notes_.append(
                f"k in {dropped} not considered: their smallest persona holds less than "
                f"{self.min_share:.0%} of the customers"
            )
        c = self.criterion
        if c == "bic":
            return min(ok, key=lambda d: d.bic).k
        if c == "icl":
            return min(ok, key=lambda d: d.icl).k
        if c == "silhouette":
            return max(ok, key=lambda d: np.nan_to_num(d.silhouette, nan=-2)).k
        best = max(np.nan_to_num(d.stability, nan=-2) for d in ok)
        return max(d.k for d in ok if np.nan_to_num(d.stability, nan=-2)
                   >= best - self.stability_tolerance)

    # -- using ---------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError("this PersonaSegmenter is not fitted; call fit(df) first")

    def predict_proba(self, df: pd.DataFrame) -> pd.DataFrame:
        """Posterior probability of each persona for each row (columns = persona ids)."""
        self._check()
        clean = self.plan_.clean(df, check=True)
        with threadpool_limits(1):
            r, _ = self.mixture_.e_step(self.params_, self._data(clean))
        return pd.DataFrame(r, index=df.index, columns=self.personas_)

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """The most likely persona id of each row (new rows, synthetic rows ...)."""
        proba = self.predict_proba(df)
        return np.asarray(self.personas_, dtype=object)[proba.to_numpy().argmax(axis=1)]

    def clean(self, df: pd.DataFrame) -> pd.DataFrame:
        """The used columns of ``df`` as the model sees them (numbers, dates, category text)."""
        self._check()
        return self.plan_.clean(df, check=True, keep_dates=True)

    @property
    def columns_(self) -> list[str]:
        """The columns the personas were built on (numeric, then categorical)."""
        self._check()
        return self.plan_.used

    def selection_frame(self) -> pd.DataFrame:
        """The figures of every candidate k (one row each)."""
        self._check()
        return pd.DataFrame([asdict(d) for d in self.selection_])

    # -- persistence (JSON, never pickle) --------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fitted model as a JSON-able dict (tagged ``synthcust-personas``)."""
        self._check()
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "params": {
                "k": self.k, "k_range": list(self.k_range), "criterion": self.criterion,
                "n_init": self.n_init, "selection_rows": self.selection_rows,
                "min_share": self.min_share, "stability_tolerance": self.stability_tolerance,
                "max_levels": self.max_levels, "max_iter": self.max_iter, "tol": self.tol,
                "random_state": self.random_state
                if isinstance(self.random_state, int | None) else None,  # a Generator: not kept
                "columns": None if self.columns is None else list(self.columns),
                "exclude": None if self.exclude is None else list(self.exclude),
                "schema": None if self.schema is None else self.schema.to_dict(),
            },
            "k": self.k_,
            "personas": self.personas_,
            "chosen_by": self.chosen_by_,
            "loglik": self.loglik_,
            "n_rows": self.n_rows_,
            "notes": self.notes_,
            "k_warning": getattr(self, "k_warning_", None),
            "selection": [_no_nan(asdict(d)) for d in self.selection_],
            "plan": self.plan_.to_dict(),
            "encoders": [e.to_dict() for e in self.encoders_],
            "model": self.params_.to_dict(),
        }

    @staticmethod
    def from_dict(d: Any, where: str = "") -> PersonaSegmenter:
        """A fitted segmenter from :meth:`to_dict`'s dict; ``where`` names the source in errors."""
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ModelFileError(f"{where or 'input'} is not a synthcust persona model")
        if int(d.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelFileError(
                f"{where or 'persona model'} is from a newer synthcust (format version "
                f"{d['format_version']}); upgrade synthcust"
            )
        try:
            pr = dict(d["params"])
            pr["k_range"] = tuple(pr["k_range"])
            if pr.get("schema") is not None:
                pr["schema"] = Schema.from_dict(pr["schema"])
            seg = PersonaSegmenter(**pr)
            seg.plan_ = ColumnPlan.from_dict(d["plan"])
            seg.encoders_ = [NumEncoder.from_dict(e) for e in d["encoders"]]
            seg.params_ = MixtureParams.from_dict(
                d["model"], len(seg.encoders_), sum(seg.plan_.n_levels)
            )
            seg.mixture_ = LatentClassMixture(
                np.array([e.has_missing for e in seg.encoders_], bool), seg.plan_.n_levels
            )
            seg.k_ = int(d["k"])
            seg.personas_ = [str(p) for p in d["personas"]]
            seg.chosen_by_ = str(d["chosen_by"])
            seg.loglik_ = float(d["loglik"])
            seg.n_rows_ = int(d["n_rows"])
            seg.notes_ = list(d.get("notes", []))
            seg.k_warning_ = d.get("k_warning")
            seg.selection_ = [_diagnostics(s) for s in d["selection"]]
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(
                f"{where or 'persona model'} is incomplete or corrupt ({e}); refit it"
            ) from e
        return seg

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model as one synthcust model file (kind ``"personas"``).

        Parameters
        ----------
        path
            Destination file (written atomically; by convention ``segmenter.synthcust``).

        Returns
        -------
        Path
            The path written.
        """
        return save_bundle(path, {"segmenter": self.to_dict()}, {}, kind=KIND)

    @classmethod
    def load(cls, path: str | os.PathLike) -> PersonaSegmenter:
        """Load a segmenter saved by :meth:`save`, or a plain-JSON ``segmenter.json`` of old.

        Raises
        ------
        ModelFileError
            When ``path`` does not exist or holds something else.
        """
        p = Path(path)
        if p.is_file() and zipfile.is_zipfile(p):
            meta, _ = load_bundle(p, kind=KIND)
            return cls.from_dict(meta.get("segmenter"), repr(str(p)))
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ModelFileError(f"persona model {str(p)!r} does not exist") from e
        except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError) as e:
            raise ModelFileError(f"persona model {str(p)!r} is not a synthcust model file or "
                                 f"JSON ({e})") from e
        return cls.from_dict(d, repr(str(p)))
