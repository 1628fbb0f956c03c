"""Row-wise conditional sampling from a fitted Gaussian copula (the relational child models).

Each child row is drawn given its parent's features and the previous child's values: the
given columns enter the copula's latent space through the randomised probability integral
transform the copula was fitted with, and the free columns come from the latent Gaussian
conditional (see :class:`ConditionalCopula`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr
from threadpoolctl import threadpool_limits

from synthcust.synthesizers.copula import GaussianCopulaSynthesizer, normal_latent
from synthcust.synthesizers.truncnorm import nearest_psd, robust_cholesky
from synthcust.transform.codec import Encoded

__all__ = ["RIDGE", "ConditionalCopula", "code_map"]

#: observed uniforms are kept this far from 0 and 1 (no infinite latents from edge values)
_U_CLIP = 1e-4
#: noise variance assumed on observed latents when conditioning (see ConditionalCopula)
RIDGE = 0.05


class ConditionalCopula:
    """Row-wise conditional sampling from a fitted :class:`GaussianCopulaSynthesizer`.

    Every row fixes its own values of the ``given`` columns. They are mapped to the copula's
    latent normals with the randomised probability integral transform the copula was fitted
    with (a discrete value or a category draws uniformly inside its slot; a missing value
    imputes the value latent at 0 and draws its missingness latent below the missing share),
    and the free latents are drawn from the Gaussian conditional
    ``N(A z_given, S_ff - A S_gf)`` with ``A = S_fg (S_gg + ridge I)^-1`` (the conditional of
    a latent observed with noise of variance ``ridge``: the jitter of discrete values, and a
    guard against nearly collinear lags), whose regression and Cholesky factor are computed
    once. The free columns are then decoded by the copula's marginals.
    """

    def __init__(
        self, model: GaussianCopulaSynthesizer, given: Sequence[str], ridge: float = RIDGE
    ):
        self.model = model
        self.given = list(given)
        m = model
        n_num, n_cat = len(m.num_names_), len(m.cat_names_)
        off = n_num + n_cat
        miss_pos = {int(j): off + k for k, j in enumerate(m.miss_idx_)}
        C: list[int] = []
        for g in self.given:
            if g in m.num_names_:
                j = m.num_names_.index(g)
                C.append(j)
                if j in miss_pos:
                    C.append(miss_pos[j])
            elif g in m.cat_names_:
                C.append(n_num + m.cat_names_.index(g))
        d = m.corr_.shape[0]
        self.C = np.array(sorted(C), dtype=np.int64)
        self.F = np.array([i for i in range(d) if i not in set(C)], dtype=np.int64)
        S = m.corr_
        # observed latents are noisy (jittered inside their slots) and the lags are nearly
        # collinear with each other: a ridge keeps the regression from amplifying that noise
        S_cc = nearest_psd(S[np.ix_(self.C, self.C)]) + ridge * np.eye(len(self.C))
        S_fc = S[np.ix_(self.F, self.C)]
        self.A = np.linalg.solve(S_cc, S_fc.T).T if len(self.C) else np.zeros((len(self.F), 0))
        cov = S[np.ix_(self.F, self.F)] - self.A @ S_fc.T
        self.L = robust_cholesky(cov) if len(self.F) else np.zeros((0, 0))
        self._miss_pos = miss_pos
        self.free_columns = [c for c in m.codec_.output_columns if c not in set(self.given)]
        self._slot_of = []
        for q in range(len(m.cat_names_)):
            slot_of = np.empty(m.n_cats_[q] + 1, dtype=np.int64)
            slot_of[m.cat_order_[q]] = np.arange(m.n_cats_[q] + 1)
            self._slot_of.append(slot_of)

    def encode_given(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """The given columns of ``frame`` in the model's encoding (floats, or category codes)."""
        m = self.model
        cols = [s.name for s in m.codec_.specs_]
        enc = m.codec_.encode(frame.reindex(columns=cols))
        out: dict[str, np.ndarray] = {}
        for g in self.given:
            if g in enc.numeric_names:
                out[g] = enc.numeric[:, enc.numeric_names.index(g)]
            elif g in enc.categorical_names:
                out[g] = enc.codes[:, enc.categorical_names.index(g)]
        return out

    def sample_encoded(
        self, given: Mapping[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> Encoded:
        """Draw one row per row of ``given`` (encoded arrays); returns every column encoded.

        Only the free columns of the result are meaningful (the given ones are redrawn).
        """
        m = self.model
        n_num = len(m.num_names_)
        with threadpool_limits(limits=1, user_api="blas"):
            Z = np.zeros((n, m.corr_.shape[0]))
            for g in self.given:
                if g in m.num_names_:
                    j = m.num_names_.index(g)
                    x = np.asarray(given[g], dtype=float)
                    ok = ~np.isnan(x)
                    u = m.num_marg_[j].cdf_interval(x[ok], rng)
                    Z[ok, j] = normal_latent(np.clip(u, _U_CLIP, 1 - _U_CLIP))
                    if j in self._miss_pos:
                        p = m.miss_p_[j]
                        r = rng.random(n)
                        Z[:, self._miss_pos[j]] = normal_latent(
                            np.where(ok, p + r * (1 - p), r * p)
                        )
                elif g in m.cat_names_:
                    q = m.cat_names_.index(g)
                    k = m.n_cats_[q]
                    c = np.asarray(given[g])
                    slots = self._slot_of[q][np.where(c < 0, k, c)]
                    marg = m.cat_marg_[q]
                    hi, lo = marg.cum[slots], marg.cum[slots] - marg.probs[slots]
                    u = lo + rng.random(n) * (hi - lo)
                    Z[:, n_num + q] = normal_latent(np.clip(u, _U_CLIP, 1 - _U_CLIP))
            if len(self.F):
                Z[:, self.F] = (
                    Z[:, self.C] @ self.A.T + rng.standard_normal((n, len(self.F))) @ self.L.T
                )
            return _decode_latent(m, Z)

    def decode(self, parts: Sequence[Encoded], rng: np.random.Generator) -> pd.DataFrame:
        """The free columns of encoded blocks from :meth:`sample_encoded`, as one frame."""
        m = self.model
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=float) for c in self.free_columns})
        enc = Encoded(
            np.concatenate([p.numeric for p in parts]),
            np.concatenate([p.codes for p in parts]),
            parts[0].numeric_names,
            parts[0].categorical_names,
        )
        return m.codec_.decode(enc, rng)[self.free_columns]

    def sample(self, given: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """One row of the free columns per row of ``given`` (a frame in the user's values)."""
        enc = self.sample_encoded(self.encode_given(given), len(given), rng)
        return self.decode([enc], rng)


def code_map(src: Any, src_col: str, dst: Any, dst_col: str) -> np.ndarray:
    """Category codes of ``src_col`` in codec ``src`` -> codes of ``dst_col`` in ``dst``.

    Index ``-1`` (the last entry) maps missing to missing; unknown categories become missing.
    """
    a, b = src.spec(src_col), dst.spec(dst_col)
    lookup = {v: i for i, v in enumerate(b.categories)}
    rare_dst = len(b.categories) if b.rare else -1
    out = [lookup.get(v, -1) for v in a.categories]
    if a.rare:
        out.append(rare_dst)
    out.append(-1)  # code -1 (missing) indexes the last entry
    return np.asarray(out, dtype=np.int32)


def _decode_latent(m: GaussianCopulaSynthesizer, Z: np.ndarray) -> Encoded:
    """Latent normals -> encoded blocks through the copula's marginals (as its ``_sample``)."""
    n = Z.shape[0]
    n_num, n_cat = len(m.num_names_), len(m.cat_names_)
    off = n_num + n_cat
    miss_pos = {int(j): off + k for k, j in enumerate(m.miss_idx_)}
    U = ndtr(Z)
    num = np.empty((n, n_num))
    for j in range(n_num):
        num[:, j] = m.num_marg_[j].ppf(U[:, j])
        if j in miss_pos:
            num[U[:, miss_pos[j]] < m.miss_p_[j], j] = np.nan
    codes = np.empty((n, n_cat), dtype=np.int32)
    for q in range(n_cat):
        k = m.n_cats_[q]
        slots = np.minimum(np.searchsorted(m.cat_marg_[q].cum, U[:, n_num + q]), k)
        code = m.cat_order_[q][slots]
        codes[:, q] = np.where(code == k, -1, code)
    return Encoded(num, codes, list(m.num_names_), list(m.cat_names_))
