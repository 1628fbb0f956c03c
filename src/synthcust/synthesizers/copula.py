"""Gaussian copula synthesizer with exact marginals and exact conditional sampling.

How it differs from SDV's ``GaussianCopulaSynthesizer``:

* **Marginals** are empirical quantile functions with point masses
  (:mod:`synthcust.synthesizers.marginals`), not a parametric family picked per column, so
  spikes (``capital_gain == 0``), top-codes, skew, integer-ness, bounds and several modes are
  reproduced instead of smoothed away.
* **Missing values** are learned: a numeric column's missingness is its own latent coordinate,
  correlated with everything else; for a categorical column "missing" is a category.
* **Categories are ordered** by optimal scaling (the mean score on the latent's first principal
  axis, iterated) before they are mapped to intervals, so a single latent axis carries as much
  of their association with other columns as it can.
* **Conditional sampling is exact**: a condition restricts latent coordinates to intervals (a set
  of categories: a union of intervals); those are drawn from the truncated multivariate normal
  by exact rejection from GHK proposals (:mod:`synthcust.synthesizers.truncnorm`; one
  conditioned column needs no rejection at all), and the free ones from the Gaussian
  conditional. The work is bounded: rows that ``50 n`` proposals leave unfilled are
  importance-resampled and moved by Gibbs sweeps, so it cannot spin, and the output always
  honours the condition.
* Everything works on whole blocks with NumPy; no Python loop over rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import ndtr, ndtri
from threadpoolctl import threadpool_limits

from synthcust.exceptions import ConditionError, ModelError
from synthcust.synthesizers.base import BaseSynthesizer
from synthcust.synthesizers.conditions import (
    CategoricalCondition,
    Condition,
    NumericCondition,
    show_number,
)
from synthcust.synthesizers.marginals import CategoricalMarginal, EmpiricalMarginal
from synthcust.synthesizers.truncnorm import nearest_correlation, sample_conditional_mvn
from synthcust.transform.codec import Encoded

_U_EPS = 1e-12


def normal_latent(u: np.ndarray) -> np.ndarray:
    """Uniforms -> standard normal latents (``ndtri``), kept finite by clipping ``u``."""
    return ndtri(np.clip(u, _U_EPS, 1 - _U_EPS))


class GaussianCopulaSynthesizer(BaseSynthesizer):
    """Gaussian copula over empirical marginals.

    Parameters
    ----------
    random_state: seed for fitting (jitter of discrete values) and the default for sampling.
    scaling_iterations: rounds of optimal scaling of categories (0 = order by frequency).
    gibbs_sweeps: Gibbs sweeps moving the rows that exact rejection leaves unfilled (very
        unlikely conditions on two or more columns).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62, 38] * 10,
    ...                    "plan": ["basic", "pro", "pro", "basic", "pro", "basic"] * 10})
    >>> m = GaussianCopulaSynthesizer(random_state=0).fit(df)
    >>> out = m.sample(5, conditions={"plan": "pro"})
    >>> sorted(out["plan"].unique())
    ['pro']
    """

    name = "copula"

    def __init__(
        self,
        random_state: int | None = None,
        scaling_iterations: int = 2,
        gibbs_sweeps: int = 30,
    ):
        super().__init__(random_state)
        self.scaling_iterations = scaling_iterations
        self.gibbs_sweeps = gibbs_sweeps

    # ------------------------------------------------------------------ fit
    def _fit(self, enc: Encoded, rng: np.random.Generator) -> None:
        # The products here are on tall, narrow matrices: one BLAS thread is as fast, and on a
        # loaded machine multi-threaded OpenBLAS stalls now and then (seen: 0.4 s -> 4.8 s).
        with threadpool_limits(limits=1, user_api="blas"):
            self._fit_impl(enc, rng)

    #: Most latent dimensions (columns, plus one per column with missing values) the copula
    #: takes: its correlation matrix is d x d and its repair is O(d^3), so 10,000 columns
    #: would mean minutes and gigabytes. Wider tables get an error that says what to do.
    max_dimensions: ClassVar[int] = 4_000

    def _fit_impl(self, enc: Encoded, rng: np.random.Generator) -> None:
        X, C = enc.numeric, enc.codes
        d_min = X.shape[1] + C.shape[1]  # plus one per numeric column with missing values
        if d_min > self.max_dimensions:
            raise ModelError(
                f"the copula models every pair of columns; {d_min:,} columns is over its limit "
                f"of {self.max_dimensions:,} (a {d_min:,} x {d_min:,} correlation matrix). "
                "Select the columns that matter, or use the autoregressive model"
            )
        n = X.shape[0] if X.size or X.shape[0] else C.shape[0]
        self.num_names_ = list(enc.numeric_names)
        self.cat_names_ = list(enc.categorical_names)
        self.n_cats_ = [self.codec_.n_categories(c) for c in self.cat_names_]
        self.num_marg_: list[EmpiricalMarginal] = []
        self.miss_p_ = np.zeros(len(self.num_names_))
        z_num = np.full((n, len(self.num_names_)), np.nan)
        for j, name in enumerate(self.num_names_):
            col = X[:, j]
            ok = ~np.isnan(col)
            spec = self.codec_.spec(name)
            marg = EmpiricalMarginal.fit(col[ok], integer=spec.integer)
            self.num_marg_.append(marg)
            self.miss_p_[j] = 1.0 - ok.mean()
            z_num[ok, j] = normal_latent(marg.cdf_interval(col[ok], rng))
        self.miss_idx_ = np.flatnonzero(self.miss_p_ > 0)
        z_miss = np.empty((n, len(self.miss_idx_)))
        for k, j in enumerate(self.miss_idx_):
            isna = np.isnan(X[:, j])
            p = self.miss_p_[j]
            u = np.where(isna, rng.random(n) * p, p + rng.random(n) * (1 - p))
            z_miss[:, k] = normal_latent(u)

        # categorical: frequency order first, then optimal scaling
        self.cat_order_: list[np.ndarray] = []
        self.cat_marg_: list[CategoricalMarginal] = []
        base_marg = []
        for q, _name in enumerate(self.cat_names_):
            k = self.n_cats_[q]
            counts = np.bincount(np.where(C[:, q] < 0, k, C[:, q]), minlength=k + 1)
            order = np.argsort(-counts, kind="stable")  # slot -> code (k = missing)
            self.cat_order_.append(order)
            base_marg.append(counts)
        z_cat = self._cat_latents(C, rng, base_marg)
        for _ in range(self.scaling_iterations if len(self.cat_names_) else 0):
            Z = np.nan_to_num(np.hstack([z_num, z_cat, z_miss]))
            off = len(self.num_names_)
            for q in range(len(self.cat_names_)):
                k = self.n_cats_[q]
                c = np.where(C[:, q] < 0, k, C[:, q])
                others = np.delete(Z, off + q, axis=1)
                self.cat_order_[q] = _discriminant_order(c, k + 1, others)
            z_cat = self._cat_latents(C, rng, base_marg)
        Z = np.hstack([z_num, z_cat, z_miss])
        self.corr_ = self._latent_corr(Z)

    def _latent_corr(self, Z: np.ndarray) -> np.ndarray:
        """Correlation of the latent normals, corrected for the jitter inside discrete slots.

        A discrete value is jittered uniformly within its slot, which adds noise independent of
        everything else: ``corr(jittered_i, jittered_j) ~= rho_ij * v_i * v_j`` with ``v`` the
        variance of the slot means (1 for a continuous column). Dividing it out is the
        polyserial correction (exact for a discrete-continuous pair under the model, first
        order for two discrete columns), so dependence is not attenuated when sampled.
        """
        v = np.concatenate(
            [
                [slot_mean_variance(flat_slots(m.P, m.X)) for m in self.num_marg_],
                [
                    slot_mean_variance(np.column_stack([m.cum - m.probs, m.cum]))
                    for m in self.cat_marg_
                ],
                [
                    slot_mean_variance(np.array([[0.0, p], [p, 1.0]]))
                    for p in self.miss_p_[self.miss_idx_]
                ],
            ]
        )
        R = _pairwise_corr(Z, self._forced_zero_pairs())
        scale = np.sqrt(np.maximum(v, 1e-3))
        # cov(jittered) = rho * Var(m_i) * Var(m_j); corr(jittered) divides by sd = 1 each
        R = R / np.outer(scale**2, scale**2)
        np.fill_diagonal(R, 1.0)
        return nearest_correlation(np.clip(R, -0.995, 0.995) + np.diag(np.full(len(R), 0.005)))

    def _cat_latents(self, C: np.ndarray, rng, counts_list) -> np.ndarray:
        out = np.empty((C.shape[0], len(self.cat_names_)))
        self.cat_marg_ = []
        for q in range(len(self.cat_names_)):
            k = self.n_cats_[q]
            order = self.cat_order_[q]  # slot -> code
            slot_of = np.empty(k + 1, dtype=np.int64)
            slot_of[order] = np.arange(k + 1)
            counts = counts_list[q][order]
            marg = CategoricalMarginal(counts)
            self.cat_marg_.append(marg)
            codes = np.where(C[:, q] < 0, k, C[:, q])
            slots = slot_of[codes]
            hi = marg.cum[slots]
            lo = hi - marg.probs[slots]
            out[:, q] = normal_latent(lo + rng.random(len(slots)) * (hi - lo))
        return out

    def _forced_zero_pairs(self) -> list[tuple[int, int]]:
        """A column's value latent and its missingness latent are never observed together."""
        off = len(self.num_names_) + len(self.cat_names_)
        return [(int(j), off + k) for k, j in enumerate(self.miss_idx_)]

    # ------------------------------------------------------------------ sample
    def _sample(self, n: int, conds: list[Condition], rng: np.random.Generator) -> Encoded:
        n_num, n_cat = len(self.num_names_), len(self.cat_names_)
        off_miss = n_num + n_cat
        miss_pos = {int(j): off_miss + k for k, j in enumerate(self.miss_idx_)}
        latent: dict[int, np.ndarray] = {}
        for c in conds:
            if isinstance(c, NumericCondition):
                j = self.num_names_.index(c.column)
                a, b = self.num_marg_[j].range_to_u(c.low, c.high)
                if b < a or (b == a and not self._point_inside(j, c)):
                    lo, hi = self.num_marg_[j].bounds
                    raise ConditionError(
                        f"column {c.column!r}: no synthetic value can be {c.shown} — the data "
                        f"ranges from {self._show(j, lo)} to {self._show(j, hi)}; widen the range"
                    )
                latent[j] = np.array([[_z_edge(a), _z_edge(b)]])
                if j in miss_pos:  # a value is asked for, so it must not be missing
                    z_miss = float(normal_latent(np.array(self.miss_p_[j])))
                    latent[miss_pos[j]] = np.array([[z_miss, np.inf]])
            elif isinstance(c, CategoricalCondition):
                q = self.cat_names_.index(c.column)
                k = self.n_cats_[q]
                order = self.cat_order_[q]
                slot_of = np.empty(k + 1, dtype=np.int64)
                slot_of[order] = np.arange(k + 1)
                slots = [int(slot_of[k if code < 0 else code]) for code in c.codes]
                ivs = self.cat_marg_[q].intervals(slots, k + 1)  # slots are already in 0..k
                if not ivs:
                    raise ConditionError(
                        f"column {c.column!r}: values {list(c.values)} never occur in the "
                        "training data, so they cannot be sampled"
                    )
                latent[n_num + q] = np.array([[_z_edge(lo), _z_edge(hi)] for lo, hi in ivs])
        Z = sample_conditional_mvn(self.corr_, n, latent, rng, sweeps=self.gibbs_sweeps)
        U = ndtr(Z)
        num = np.empty((n, n_num))
        for j in range(n_num):
            num[:, j] = self.num_marg_[j].ppf(U[:, j])
            if j in miss_pos:
                num[U[:, miss_pos[j]] < self.miss_p_[j], j] = np.nan
        codes = np.empty((n, n_cat), dtype=np.int32)
        for q in range(n_cat):
            k = self.n_cats_[q]
            slots = np.minimum(np.searchsorted(self.cat_marg_[q].cum, U[:, n_num + q]), k)
            code = self.cat_order_[q][slots]
            codes[:, q] = np.where(code == k, -1, code)
        return Encoded(num, codes, list(self.num_names_), list(self.cat_names_))

    def _point_inside(self, j: int, c: NumericCondition) -> bool:
        lo, hi = self.num_marg_[j].bounds
        return lo <= c.low <= hi

    def _show(self, j: int, v: float) -> str:
        return show_number(self.codec_.spec(self.num_names_[j]), v)

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {"corr": self.corr_, "miss_p": self.miss_p_}
        for j, m in enumerate(self.num_marg_):
            arrays.update(m.to_arrays(f"num{j}"))
        for q, m in enumerate(self.cat_marg_):
            arrays[f"cat{q}.probs"] = m.probs
            arrays[f"cat{q}.order"] = self.cat_order_[q]
        state = {
            "num_names": self.num_names_,
            "cat_names": self.cat_names_,
            "n_cats": self.n_cats_,
            "num_integer": [m.integer for m in self.num_marg_],
        }
        return state, arrays

    def _from_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.num_names_ = list(state["num_names"])
        self.cat_names_ = list(state["cat_names"])
        self.n_cats_ = [int(k) for k in state["n_cats"]]
        self.corr_ = arrays["corr"]
        self.miss_p_ = arrays["miss_p"]
        self.miss_idx_ = np.flatnonzero(self.miss_p_ > 0)
        self.num_marg_ = [
            EmpiricalMarginal.from_arrays(arrays, f"num{j}", {"integer": integer})
            for j, integer in enumerate(state["num_integer"])
        ]
        self.cat_marg_ = [
            CategoricalMarginal(arrays[f"cat{q}.probs"]) for q in range(len(self.cat_names_))
        ]
        self.cat_order_ = [
            arrays[f"cat{q}.order"].astype(np.int64) for q in range(len(self.cat_names_))
        ]
        d = len(self.num_names_) + len(self.cat_names_) + len(self.miss_idx_)
        if self.corr_.shape != (d, d):
            raise ValueError(f"correlation matrix has shape {self.corr_.shape}, expected {(d, d)}")
        if not np.isfinite(self.corr_).all() or not np.allclose(np.diag(self.corr_), 1.0):
            raise ValueError("the correlation matrix holds NaN/inf or a diagonal other than 1")
        p = self.miss_p_
        if not (np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()):
            raise ValueError("missing-value shares must be numbers in [0, 1]")


def _discriminant_order(codes: np.ndarray, k: int, others: np.ndarray) -> np.ndarray:
    """Order categories along the direction of the other latents that best separates them.

    Optimal scaling by the first linear discriminant: maximise between-category variance over
    total variance of ``others``; each category scores the projection of its mean there.
    """
    if others.shape[1] == 0:
        return np.arange(k)
    n = len(codes)
    cnt = np.bincount(codes, minlength=k).astype(float)
    means = (
        np.column_stack(
            [np.bincount(codes, weights=others[:, j], minlength=k) for j in range(others.shape[1])]
        )
        / np.maximum(cnt, 1)[:, None]
    )
    mu = others.mean(axis=0)
    p = cnt / n
    dm = means - mu
    B = (dm * p[:, None]).T @ dm
    S = np.cov(others, rowvar=False, bias=True)
    S = np.atleast_2d(S) + 1e-6 * np.eye(others.shape[1])
    L = np.linalg.cholesky(S)
    Li = np.linalg.inv(L)
    _, v = np.linalg.eigh(Li @ B @ Li.T)
    a = Li.T @ v[:, -1]
    scores = dm @ a
    scores[cnt == 0] = 0.0
    return np.argsort(scores, kind="stable")


def flat_slots(P: np.ndarray, X: np.ndarray) -> np.ndarray:
    """u-intervals of the point masses (flat segments) of a quantile function."""
    flat = (np.diff(X) == 0) & (np.diff(P) > 0)
    return np.column_stack([P[:-1][flat], P[1:][flat]])


def slot_mean_variance(slots: np.ndarray) -> float:
    """Var(E[z | slot]) for z ~ N(0,1) cut into the given u-slots (elsewhere continuous)."""
    if len(slots) == 0:
        return 1.0
    a = ndtri(np.clip(slots[:, 0], 0, 1))
    b = ndtri(np.clip(slots[:, 1], 0, 1))
    p = slots[:, 1] - slots[:, 0]
    ok = p > 1e-15
    a, b, p = a[ok], b[ok], p[ok]
    fa, fb = np.isfinite(a), np.isfinite(b)
    a0, b0 = np.where(fa, a, 0.0), np.where(fb, b, 0.0)
    pa = np.where(fa, np.exp(-0.5 * a0**2), 0.0) / np.sqrt(2 * np.pi)
    pb = np.where(fb, np.exp(-0.5 * b0**2), 0.0) / np.sqrt(2 * np.pi)
    aa, bb = a0 * pa, b0 * pb
    mean = (pa - pb) / p
    var_in = 1 + (aa - bb) / p - mean**2
    return float(np.clip(1.0 - np.sum(p * var_in), 1e-3, 1.0))


def _z_edge(u: float) -> float:
    if u <= 0:
        return -np.inf
    if u >= 1:
        return np.inf
    return float(ndtri(u))


def _pairwise_corr(Z: np.ndarray, zero_pairs: list[tuple[int, int]]) -> np.ndarray:
    """Pearson correlation on pairwise-complete rows, for all pairs at once (matrix products)."""
    d = Z.shape[1]
    if d == 0:
        return np.zeros((0, 0))
    M = (~np.isnan(Z)).astype(float)
    Z0 = np.nan_to_num(Z)
    N = M.T @ M
    A = Z0.T @ M  # A[i, j] = sum of z_i over rows where i and j are both present
    Q = (Z0 * Z0).T @ M
    XY = Z0.T @ Z0
    with np.errstate(invalid="ignore", divide="ignore"):
        Nn = np.maximum(N, 1)
        mi = A / Nn
        mj = A.T / Nn
        cov = XY / Nn - mi * mj
        vi = Q / Nn - mi**2
        vj = Q.T / Nn - mj**2
        R = cov / np.sqrt(vi * vj)
    R[(N < 10) | ~np.isfinite(R)] = 0.0
    for i, j in zero_pairs:
        R[i, j] = R[j, i] = 0.0
    np.fill_diagonal(R, 1.0)
    return np.clip(R, -1, 1)
