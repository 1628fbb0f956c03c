"""Mode-specific normalisation: the reversible table <-> matrix transform of CTGAN and TVAE.

Method (Xu et al., "Modeling Tabular Data using Conditional GAN", NeurIPS 2019, section 4.2,
and SDV's ``ClusterBasedNormalizer`` in RDT): each continuous column is modelled as a mixture
of Gaussians; a value ``x`` is represented by the mixture component ``k`` it belongs to (a
one-hot, drawn from the posterior ``p(k | x)`` as in the paper) and the scalar
``alpha = (x - mu_k) / (4 sigma_k)`` clipped to ``[-0.99, 0.99]``. A categorical column is a
one-hot. The networks then see only bounded numbers and one-hots.

What differs from SDV / the ``ctgan`` package, and why:

* **The mixtures are fitted in one batched EM for all columns** instead of one scikit-learn
  ``BayesianGaussianMixture`` per column (a known bottleneck). Each column is reduced to at most
  ``n_bins`` weighted points first (its distinct values with their counts, or equal-count bins
  of a subsample of ``max_fit_values`` values with their within-bin variance), so the EM works
  on ``(columns, n_bins, max_modes)`` arrays. Mixture weights get the variational update of a
  Dirichlet prior (``exp E[log w]``, concentration ``1e-3``, as SDV's prior), components below
  ``weight_threshold`` are pruned while iterating so the survivors re-absorb their points, and
  a variance floor (a quarter unit for integer columns) stops components collapsing onto a
  single integer.
* **Point masses are exact modes.** A value carrying at least ``point_mass_share`` of the rows
  and standing out from its neighbours (``capital_gain == 0``, ``pdays == -1``,
  ``hours_per_week == 40``) gets its own one-hot slot and is reproduced exactly; in a column
  with at most ``2 max_modes`` distinct values every such value is a point mass (at most
  ``max_modes`` of them). A smooth integer column such as
  ``age``, whose values each carry about ``1 / n_distinct`` of the rows, is not chopped up.
* **Missing values** are one more slot of the column's one-hot (numbers and categories).
* **Integers are rounded back and values clipped** to the training minimum and maximum.
* **Layout**: all ``alpha`` columns come first, then the one-hot spans sorted by width, so
  spans of equal width are contiguous and a model can apply its softmax to each group as one
  reshaped block instead of looping over columns (:attr:`DataTransformer.output_info`).

The module also holds the rejection sampler the neural models share for conditions they cannot
impose directly (:func:`sample_until`): it works on decoded blocks, with a bounded number of
rounds and a :class:`~synthcust.exceptions.ConditionError` naming the condition and the
acceptance rate when the model rarely produces such rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Self

import numpy as np
from scipy.special import digamma
from threadpoolctl import threadpool_limits

from synthcust.exceptions import ConditionError, ModelError, NotFittedError
from synthcust.synthesizers.conditions import CategoricalCondition, Condition, NumericCondition
from synthcust.transform.codec import Encoded

_ALPHA0 = 1e-3  # Dirichlet concentration of the mixture weights (SDV uses 0.001 too)
_STATE_ARRAYS = (
    *("lo_", "hi_", "integer_", "num_missing_", "n_cont_", "n_point_"),
    *("mu_", "sd_", "logw_", "points_", "n_cats_", "cat_missing_"),
)


class Span(NamedTuple):
    """A block of the transformed matrix: ``kind`` is ``"tanh"`` (alpha) or ``"softmax"``."""

    start: int
    width: int
    kind: str
    column: str


class DataTransformer:
    """Reversible mode-specific normalisation of encoded blocks (see the module docstring).

    Parameters
    ----------
    max_modes : most Gaussian components per continuous column.
    weight_threshold : components lighter than this are dropped.
    point_mass_share : a value needs at least this share of the rows to be a point mass.
    max_fit_values : the mixtures are fitted on a subsample of at most this many values.
    n_bins : a column is reduced to at most this many weighted points before the EM.
    max_iter : EM iterations at most (all columns iterate together).
    tol : the EM stops when no column's mean log-likelihood moves by more than this.

    Examples
    --------
    >>> import numpy as np
    >>> from synthcust.transform.codec import Encoded
    >>> x = np.r_[np.zeros(300), np.random.default_rng(0).normal(50, 5, 700)][:, None]
    >>> enc = Encoded(x, np.zeros((1000, 0), np.int32), ["spend"], [])
    >>> t = DataTransformer().fit(enc, [])
    >>> back = t.inverse(t.transform(enc))
    >>> bool((back.numeric[:300] == 0).all()), bool(np.allclose(back.numeric, x, atol=1e-3))
    (True, True)
    """

    def __init__(
        self,
        max_modes: int = 10,
        weight_threshold: float = 0.005,
        point_mass_share: float = 0.01,
        max_fit_values: int = 20_000,
        n_bins: int = 2048,
        max_iter: int = 100,
        tol: float = 1e-5,
    ):
        self.max_modes = max_modes
        self.weight_threshold = weight_threshold
        self.point_mass_share = point_mass_share
        self.max_fit_values = max_fit_values
        self.n_bins = n_bins
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        enc: Encoded,
        n_categories: Sequence[int] | Mapping[str, int],
        rng: np.random.Generator | None = None,
    ) -> Self:
        """Learn modes, point masses and layout from ``enc`` (``n_categories`` per categorical)."""
        rng = np.random.default_rng(0) if rng is None else rng
        if isinstance(n_categories, Mapping):
            n_categories = [int(n_categories[c]) for c in enc.categorical_names]
        if len(n_categories) != len(enc.categorical_names):
            raise ModelError(
                f"n_categories has {len(n_categories)} entries for "
                f"{len(enc.categorical_names)} categorical columns"
            )
        self.num_names_ = list(enc.numeric_names)
        self.cat_names_ = list(enc.categorical_names)
        X = np.asarray(enc.numeric, dtype=float)
        p = X.shape[1]
        self.lo_, self.hi_ = np.zeros(p), np.zeros(p)
        self.integer_ = np.zeros(p, bool)
        self.num_missing_ = np.isnan(X).any(axis=0) if p else np.zeros(0, bool)
        points: list[np.ndarray] = []
        reduced: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for j in range(p):
            obs = X[~np.isnan(X[:, j]), j]
            if obs.size:
                self.lo_[j], self.hi_[j] = obs.min(), obs.max()
                self.integer_[j] = bool(np.all(obs == np.round(obs)))
            if obs.size > self.max_fit_values:
                obs = rng.choice(obs, self.max_fit_values, replace=False)
            pts, rest = self._split_point_masses(obs)
            points.append(pts)
            reduced.append(_reduce(np.sort(rest), self.n_bins))
        with threadpool_limits(limits=1, user_api="blas"):  # tall thin products: 1 is fastest
            mixtures = self._fit_mixtures(reduced)
        self.n_cont_ = np.array([len(m[0]) for m in mixtures], dtype=np.int64)
        self.n_point_ = np.array([len(pt) for pt in points], dtype=np.int64)
        kc, kp = max(self.n_cont_.max(initial=0), 1), max(self.n_point_.max(initial=0), 1)
        self.mu_, self.sd_ = np.zeros((p, kc)), np.ones((p, kc))
        self.logw_ = np.full((p, kc), -np.inf)
        self.points_ = np.full((p, kp), np.nan)
        for j, (mu, sd, w) in enumerate(mixtures):
            self.mu_[j, : len(mu)], self.sd_[j, : len(mu)] = mu, sd
            self.logw_[j, : len(mu)] = np.log(w)
            self.points_[j, : len(points[j])] = points[j]
        self.n_cats_ = np.asarray(n_categories, dtype=np.int64)
        C = np.asarray(enc.codes)
        self.cat_missing_ = (C < 0).any(axis=0) if C.shape[1] else np.zeros(0, bool)
        self.cat_counts_ = [
            np.bincount(np.where(C[:, q] < 0, k, C[:, q]), minlength=int(k) + 1)[
                : int(k) + int(self.cat_missing_[q])
            ]
            for q, k in enumerate(self.n_cats_)
        ]
        self._build_layout()
        return self

    def _split_point_masses(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values that stand out as spikes (returned by share, largest first) and the rest."""
        if obs.size == 0:
            return np.zeros(0), obs
        vals, counts = np.unique(obs, return_counts=True)
        share = counts / obs.size
        # a spike carries far more than a value of a smooth column would (1 / n_distinct)
        spike = (share >= self.point_mass_share) & (
            (len(vals) <= 2 * self.max_modes) | (share >= 5.0 / len(vals))
        )
        order = np.argsort(-share[spike], kind="stable")[: self.max_modes]
        pts = vals[spike][order]
        return pts, obs[~np.isin(obs, pts)]

    def _fit_mixtures(
        self, reduced: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Batched EM over all columns; returns (means, sds, weights) per column, by mean."""
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [
            (np.zeros(0), np.zeros(0), np.zeros(0)) for _ in reduced
        ]
        todo = [j for j, r in enumerate(reduced) if r[0].size]
        if not todo:
            return out
        K, B = self.max_modes, max(reduced[j][0].size for j in todo)
        c = len(todo)
        V, W, WV = np.zeros((c, B)), np.zeros((c, B)), np.zeros((c, B))
        for i, j in enumerate(todo):
            v, w, wv = reduced[j]
            V[i, : v.size], W[i, : v.size], WV[i, : v.size] = v, w, wv
        N = W.sum(axis=1)
        loc = (W * V).sum(axis=1) / N
        var = (W * ((V - loc[:, None]) ** 2 + WV)).sum(axis=1) / N
        scale = np.where(var > 0, np.sqrt(var), 1.0)
        V = np.where(W > 0, (V - loc[:, None]) / scale[:, None], 0.0)
        WV = WV / scale[:, None] ** 2
        ints = self.integer_[todo]
        floor = np.maximum(1e-6, np.where(ints, (0.25 / scale) ** 2, 0.0))
        n_distinct = (W > 0).sum(axis=1)
        active = np.arange(K)[None, :] < np.minimum(K, n_distinct)[:, None]
        # start at weighted quantiles, narrow enough to separate modes
        cw = np.cumsum(W, axis=1) / N[:, None]
        q = (np.arange(K)[None, :] + 0.5) / np.maximum(active.sum(axis=1), 1)[:, None]
        idx = np.minimum((cw[:, None, :] < q[:, :, None]).sum(axis=2), B - 1)
        mu = np.take_along_axis(V, idx, axis=1)
        active[:, 1:] &= np.diff(mu, axis=1) > 0  # one component per distinct start value
        sd = np.broadcast_to(1.0 / np.maximum(active.sum(axis=1), 1)[:, None], (c, K)).copy()
        sd = np.maximum(sd, np.sqrt(floor)[:, None])
        logw = np.where(active, 0.0, -np.inf)
        prev = np.full(c, -np.inf)
        Nk = np.zeros((c, K))
        for it in range(self.max_iter):
            inv = 1.0 / sd
            z = (V[:, :, None] - mu[:, None, :]) * inv[:, None, :]
            logp = (
                logw[:, None, :]
                - np.log(sd)[:, None, :]
                - 0.5 * (z * z + WV[:, :, None] * (inv * inv)[:, None, :])
            )
            m = logp.max(axis=2, keepdims=True)
            r = np.exp(logp - m)
            s = r.sum(axis=2, keepdims=True)
            ll = (W * (m[:, :, 0] + np.log(s[:, :, 0]))).sum(axis=1) / N
            r *= W[:, :, None] / s
            Nk = r.sum(axis=1)
            safe = np.maximum(Nk, 1e-12)
            mu = np.where(active, np.einsum("cbk,cb->ck", r, V) / safe, mu)
            ex2 = np.einsum("cbk,cb->ck", r, V * V + WV) / safe
            sd = np.sqrt(np.maximum(ex2 - mu * mu, floor[:, None]))
            if it >= 5:  # prune light components; the rest take over their points
                heaviest = Nk.argmax(axis=1)
                light = Nk < self.weight_threshold * N[:, None]
                light[np.arange(c), heaviest] = False
                active &= ~light
            na = active.sum(axis=1, keepdims=True)
            logw = np.where(
                active, digamma(_ALPHA0 + Nk) - digamma(na * _ALPHA0 + N[:, None]), -np.inf
            )
            if it > 10 and np.all(np.abs(ll - prev) < self.tol):
                break
            prev = ll
        self.n_iter_ = it + 1
        for i, j in enumerate(todo):
            keep = np.flatnonzero(active[i])
            order = keep[np.argsort(mu[i, keep])]
            w = Nk[i, order] / Nk[i, order].sum()
            out[j] = (loc[i] + scale[i] * mu[i, order], scale[i] * sd[i, order], w)
        return out

    def _build_layout(self) -> None:
        p, q = len(self.num_names_), len(self.cat_names_)
        self.has_alpha_ = self.n_cont_ > 0
        self.n_alpha_ = int(self.has_alpha_.sum())
        self.alpha_col_ = np.cumsum(self.has_alpha_) - 1  # alpha position of column j
        self.num_width_ = self.n_cont_ + self.n_point_ + self.num_missing_.astype(np.int64)
        cat_width = self.n_cats_ + self.cat_missing_.astype(np.int64)
        # (width, kind, index) sorted by width: equal-width spans end up contiguous
        spans = sorted(
            [(int(w), 0, j) for j, w in enumerate(self.num_width_)]
            + [(int(w), 1, qq) for qq, w in enumerate(cat_width)]
        )
        self.num_start_ = np.zeros(p, dtype=np.int64)
        self.cat_start_ = np.zeros(q, dtype=np.int64)
        info = [
            Span(int(self.alpha_col_[j]), 1, "tanh", self.num_names_[j])
            for j in range(p)
            if self.has_alpha_[j]
        ]
        pos = self.n_alpha_
        for w, kind, i in spans:
            if kind == 0:
                self.num_start_[i] = pos
                info.append(Span(pos, w, "softmax", self.num_names_[i]))
            else:
                self.cat_start_[i] = pos
                info.append(Span(pos, w, "softmax", self.cat_names_[i]))
            pos += w
        self.output_info: list[Span] = info
        self.output_dim: int = pos
        soft = [s for s in info if s.kind == "softmax"]
        self._soft_starts = np.array([s.start - self.n_alpha_ for s in soft], dtype=np.int64)
        self._soft_widths = np.array([s.width for s in soft], dtype=np.int64)
        span_of = {(s.column, s.kind): i for i, s in enumerate(soft)}
        self._num_span = np.array([span_of[(c, "softmax")] for c in self.num_names_], np.int64)
        self._cat_span = np.array([span_of[(c, "softmax")] for c in self.cat_names_], np.int64)
        # decoding tables: value and alpha scale per (column, slot); missing slot -> NaN
        wmax = max(int(self.num_width_.max(initial=0)), 1)
        self._val = np.full((p, wmax), np.nan)
        self._scale = np.zeros((p, wmax))
        for j in range(p):
            kc, kp = int(self.n_cont_[j]), int(self.n_point_[j])
            self._val[j, :kc], self._scale[j, :kc] = self.mu_[j, :kc], 4.0 * self.sd_[j, :kc]
            self._val[j, kc : kc + kp] = self.points_[j, :kp]

    # ------------------------------------------------------------------ transform
    def transform(self, enc: Encoded, rng: np.random.Generator | None = None) -> np.ndarray:
        """Encoded blocks -> float32 matrix ``(n, output_dim)``.

        With ``rng`` each value's mode is drawn from its posterior (as the paper trains);
        without, the most probable mode is used (deterministic).
        """
        self._check_fitted()
        X = np.asarray(enc.numeric, dtype=float)
        C = np.asarray(enc.codes)
        n = X.shape[0] if X.shape[1] else C.shape[0]
        out = np.zeros((n, self.output_dim), dtype=np.float32)
        p = X.shape[1]
        step = max(1, 2_000_000 // max(p * self.mu_.shape[1], 1))
        for a in range(0, n if p else 0, step):
            self._transform_numeric(X[a : a + step], out[a : a + step], rng)
        if C.shape[1]:
            bad = self.n_cats_[None, :] <= C
            if bad.any():
                q = int(np.flatnonzero(bad.any(axis=0))[0])
                raise ModelError(f"column {self.cat_names_[q]!r} has a code it was not fitted on")
            default = np.array([int(np.argmax(c)) for c in self.cat_counts_], dtype=np.int64)
            slot = np.where(C < 0, np.where(self.cat_missing_, self.n_cats_, default), C)
            out[np.arange(n)[:, None], self.cat_start_[None, :] + slot] = 1.0
        return out

    def _transform_numeric(self, X: np.ndarray, out: np.ndarray, rng: Any) -> None:
        n = X.shape[0]
        miss = np.isnan(X)
        z = (X[:, :, None] - self.mu_[None]) / self.sd_[None]
        with np.errstate(invalid="ignore"):
            logp = self.logw_[None] - np.log(self.sd_)[None] - 0.5 * z * z
        if rng is not None:
            logp += rng.gumbel(size=logp.shape)
        k = np.argmax(np.nan_to_num(logp, nan=-np.inf), axis=2)
        eq = X[:, :, None] == self.points_[None]
        is_pt = eq.any(axis=2)
        dist = np.abs(X[:, :, None] - self.points_[None])
        nearest = np.argmin(np.where(np.isnan(dist), np.inf, dist), axis=2)
        kc = self.n_cont_[None, :]
        cont = ~miss & ~is_pt & (kc > 0)
        heaviest = np.where(self.n_cont_ > 0, np.argmax(self.logw_, axis=1), self.n_cont_)
        miss_slot = np.where(self.num_missing_, self.n_cont_ + self.n_point_, heaviest)
        slot = np.where(
            miss,
            miss_slot[None, :],
            np.where(is_pt, kc + eq.argmax(axis=2), np.where(cont, k, kc + nearest)),
        )
        jj = np.arange(X.shape[1])[None, :]
        kk = np.minimum(k, self.mu_.shape[1] - 1)
        alpha = np.where(
            cont, np.clip((X - self.mu_[jj, kk]) / (4.0 * self.sd_[jj, kk]), -0.99, 0.99), 0.0
        )
        out[np.arange(n)[:, None], self.num_start_[None, :] + slot] = 1.0
        out[:, : self.n_alpha_] = alpha[:, self.has_alpha_]

    # ------------------------------------------------------------------ inverse
    def inverse(
        self,
        matrix: np.ndarray,
        rng: np.random.Generator | None = None,
        alpha_sigma: np.ndarray | None = None,
    ) -> Encoded:
        """Activated model output ``(n, output_dim)`` -> encoded blocks.

        Each one-hot span is read by its largest entry. ``alpha_sigma`` (one per tanh span,
        TVAE's learned noise) adds Gaussian noise to the alphas, drawn from ``rng``.
        """
        self._check_fitted()
        M = np.asarray(matrix)
        if M.ndim != 2 or M.shape[1] != self.output_dim:
            raise ModelError(f"expected a matrix with {self.output_dim} columns, got {M.shape}")
        if not np.isfinite(M).all():
            raise ModelError(
                "the model produced non-finite outputs (training diverged); re-fit with "
                "another random_state or fewer epochs"
            )
        n = M.shape[0]
        alpha = M[:, : self.n_alpha_].astype(float)
        if alpha_sigma is not None and self.n_alpha_:
            rng = np.random.default_rng() if rng is None else rng
            alpha = alpha + rng.normal(size=alpha.shape) * np.asarray(alpha_sigma)[None, :]
        alpha = np.clip(alpha, -1.0, 1.0)
        slots = span_argmax(M[:, self.n_alpha_ :], self._soft_starts, self._soft_widths)
        p = len(self.num_names_)
        num = np.empty((n, p))
        if p:
            s = slots[:, self._num_span]
            jj = np.arange(p)[None, :]
            A = np.zeros((n, p))
            A[:, self.has_alpha_] = alpha[:, self.alpha_col_[self.has_alpha_]]
            num = self._val[jj, s] + A * self._scale[jj, s]
            num = np.clip(num, self.lo_, self.hi_)
            num[:, self.integer_] = np.round(num[:, self.integer_])
        codes = np.empty((n, len(self.cat_names_)), dtype=np.int32)
        if len(self.cat_names_):
            s = slots[:, self._cat_span]
            codes[:] = np.where(s >= self.n_cats_[None, :], -1, s)
        return Encoded(num, codes, list(self.num_names_), list(self.cat_names_))

    # ------------------------------------------------------------------ conditions
    def check_conditions(self, conds: list[Condition], show: Callable[[str, float], str]) -> None:
        """Raise :class:`ConditionError` for a condition no output of this transform can meet."""
        self._check_fitted()
        for c in conds:
            if isinstance(c, NumericCondition):
                j = self.num_names_.index(c.column)
                lo, hi = self.lo_[j], self.hi_[j]
                kc, kp = int(self.n_cont_[j]), int(self.n_point_[j])
                pts = self.points_[j, :kp]
                inside = (kc > 0 and c.low <= hi and c.high >= lo) or bool(
                    ((pts >= c.low) & (pts <= c.high)).any()
                )
                if not inside:
                    raise ConditionError(
                        f"column {c.column!r}: no synthetic value can be {c.shown} — the data "
                        f"ranges from {show(c.column, lo)} to {show(c.column, hi)}"
                        + (
                            ""
                            if kc
                            else f" and only takes the values "
                            f"{', '.join(show(c.column, v) for v in np.sort(pts))}"
                        )
                        + "; widen the range"
                    )
            elif isinstance(c, CategoricalCondition) and self.condition_slots(c).size == 0:
                raise ConditionError(
                    f"column {c.column!r}: values {list(c.values)} never occur in the "
                    "training data, so they cannot be sampled"
                )

    def condition_slots(self, c: CategoricalCondition) -> np.ndarray:
        """One-hot slots of the categories ``c`` allows that occurred in training."""
        q = self.cat_names_.index(c.column)
        k, counts = int(self.n_cats_[q]), self.cat_counts_[q]
        slots = {k if code < 0 else int(code) for code in c.codes}
        return np.array(sorted(s for s in slots if s < len(counts) and counts[s] > 0), np.int64)

    # ------------------------------------------------------------------ persistence
    def to_state(self, prefix: str = "t.") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-safe settings and NumPy arrays (keys prefixed) that rebuild this transform."""
        self._check_fitted()
        names = ("max_modes", "weight_threshold", "point_mass_share", "max_fit_values")
        params = {k: getattr(self, k) for k in (*names, "n_bins", "max_iter", "tol")}
        state = {"params": params, "num_names": self.num_names_, "cat_names": self.cat_names_}
        out = {prefix + k.rstrip("_"): np.asarray(getattr(self, k)) for k in _STATE_ARRAYS}
        for q, cnt in enumerate(self.cat_counts_):
            out[f"{prefix}cat_counts{q}"] = cnt
        return state, out

    @classmethod
    def from_state(
        cls, state: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str = "t."
    ) -> DataTransformer:
        """Inverse of :meth:`to_state` (arrays keep their dtypes in an ``.npz``)."""
        t = cls(**state["params"])
        t.num_names_, t.cat_names_ = list(state["num_names"]), list(state["cat_names"])
        for k in _STATE_ARRAYS:
            setattr(t, k, arrays[prefix + k.rstrip("_")])
        t.cat_counts_ = [arrays[f"{prefix}cat_counts{q}"] for q in range(len(t.cat_names_))]
        if len(t.lo_) != len(t.num_names_) or len(t.n_cats_) != len(t.cat_names_):
            raise ValueError("transformer arrays do not match its column names")
        t._build_layout()
        return t

    def _check_fitted(self) -> None:
        if not hasattr(self, "output_info"):
            raise NotFittedError("DataTransformer is not fitted; call fit(enc, n_categories)")


def _reduce(x: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted values -> (points, weights, within-point variance): distinct values or bins."""
    if x.size == 0:
        return x, x, x
    vals, counts = np.unique(x, return_counts=True)
    if vals.size <= n_bins:
        return vals, counts.astype(float), np.zeros(vals.size)
    starts = np.linspace(0, x.size, n_bins + 1).astype(np.int64)[:-1]
    cnt = np.diff(np.r_[starts, x.size]).astype(float)
    mean = np.add.reduceat(x, starts) / cnt
    m2 = np.add.reduceat(x * x, starts) / cnt
    return mean, cnt, np.maximum(m2 - mean * mean, 0.0)


def span_argmax(S: np.ndarray, starts: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Index of the largest entry within each contiguous span of columns, for all rows at once."""
    n = S.shape[0]
    if starts.size == 0:
        return np.zeros((n, 0), dtype=np.int64)
    mx = np.maximum.reduceat(S, starts, axis=1)
    d = S.shape[1]
    hit = np.repeat(mx, widths, axis=1) <= S
    score = np.where(hit, d - np.arange(d)[None, :], 0)  # first maximum wins ties
    return d - np.maximum.reduceat(score, starts, axis=1) - starts[None, :]


# ---------------------------------------------------------------------- conditions
def satisfied(enc: Encoded, conds: list[Condition]) -> np.ndarray:
    """Rows of ``enc`` meeting every condition (missing never meets a numeric range)."""
    n = enc.numeric.shape[0] if enc.numeric.shape[1] else enc.codes.shape[0]
    ok = np.ones(n, bool)
    for c in conds:
        if isinstance(c, NumericCondition):
            col = enc.numeric[:, enc.numeric_names.index(c.column)]
            with np.errstate(invalid="ignore"):
                ok &= (col >= c.low) & (col <= c.high)
        else:
            col = enc.codes[:, enc.categorical_names.index(c.column)]
            ok &= np.isin(col, np.asarray(c.codes, dtype=col.dtype))
    return ok


def describe(conds: list[Condition]) -> str:
    """The conditions as a user would read them."""
    parts = []
    for c in conds:
        if isinstance(c, NumericCondition):
            parts.append(f"{c.column}={c.shown}")
        else:
            vals = [str(v) for v in c.values]
            parts.append(f"{c.column}={vals[0]}" if len(vals) == 1 else f"{c.column} in {vals}")
    return ", ".join(parts)


def sample_until(
    draw: Callable[[int], Encoded],
    n: int,
    conds: list[Condition],
    max_rounds: int = 50,
    max_batch: int | None = None,
    piece: int = 50_000,
) -> Encoded:
    """Draw rows with ``draw(m)`` and keep those meeting ``conds`` until ``n`` are kept.

    Each round oversamples by the acceptance rate seen so far; at most ``max_rounds`` rounds of
    at most ``max_batch`` rows (default ``max(10 n, 20_000)``) are drawn, ``piece`` rows at a
    time (memory stays bounded), and the search gives up as soon as the rate seen cannot fill
    ``n`` rows in the rounds left, so an impossible condition fails within three rounds with a
    :class:`ConditionError` naming it and the acceptance rate.
    """
    if not conds:
        return draw(n)
    cap = max_batch or max(10 * n, 20_000)
    parts: list[Encoded] = []
    have = hits = tried = 0
    for rnd in range(max_rounds):
        rate = hits / tried if tried else 1.0
        m = cap if rate == 0 else int(min(cap, max(256, math.ceil((n - have) / rate * 1.2))))
        for a in range(0, m, piece):
            enc = draw(min(piece, m - a))
            ok = np.flatnonzero(satisfied(enc, conds))
            tried, hits = tried + len(enc.numeric), hits + len(ok)
            if len(ok) and have < n:
                parts.append(_take(enc, ok[: n - have]))
                have += min(len(ok), n - have)
        if have >= n:
            return _concat(parts)
        left = max_rounds - rnd - 1
        if rnd >= 2 and (hits == 0 or (n - have) / (hits / tried) > left * cap):
            break
    raise ConditionError(
        f"the model rarely produces rows with {describe(conds)}: {hits:,} of {tried:,} "
        f"generated rows met it (acceptance rate {hits / tried:.3%}), too few for {n:,} rows; "
        "relax the condition, sample fewer rows, train longer, or use the 'copula' "
        "synthesizer, which conditions exactly"
    )


def _take(enc: Encoded, rows: np.ndarray) -> Encoded:
    return Encoded(enc.numeric[rows], enc.codes[rows], enc.numeric_names, enc.categorical_names)


def _concat(parts: list[Encoded]) -> Encoded:
    first = parts[0]
    return Encoded(
        np.concatenate([p.numeric for p in parts]),
        np.concatenate([p.codes for p in parts]),
        first.numeric_names,
        first.categorical_names,
    )


def value_shower(codec: Any) -> Callable[[str, float], str]:
    """``show(column, value)``: an encoded number as the user wrote it (dates as dates)."""

    def show(name: str, v: float) -> str:
        spec = codec.spec(name)
        if spec.kind == "datetime":
            import pandas as pd

            scale = 86400 if spec.datetime_unit == "D" else 1
            return str(pd.Timestamp(int(v * scale), unit="s"))
        return f"{v:g}"

    return show
