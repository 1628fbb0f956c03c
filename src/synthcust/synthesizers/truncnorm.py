"""Sampling multivariate normals restricted to boxes (or unions of intervals per coordinate).

Used for exact conditional sampling in the copula: a condition on a column is an interval (or
a union of intervals, for a set of categories) of its latent normal coordinate. The conditioned
coordinates are drawn from the truncated multivariate normal with a GHK-style sequential start
and a fixed number of Gibbs sweeps (vectorised over rows, always terminating, no rejection), and
the free coordinates from the exact Gaussian conditional given them.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

_EPS = 1e-300


def sample_truncated_1d(
    mu: np.ndarray,
    sigma: float | np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw ``N(mu, sigma^2)`` restricted to the union of intervals ``[lows[j], highs[j]]``.

    ``mu`` has shape (n,); ``lows``/``highs`` have shape (m,) (the same intervals for every row).
    Each interval's probability is computed on the side of the mean where it is accurate, so
    far-tail intervals still sample correctly.
    """
    mu = np.asarray(mu, dtype=float)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), mu.shape)
    a = (lows[None, :] - mu[:, None]) / sigma[:, None]  # (n, m)
    b = (highs[None, :] - mu[:, None]) / sigma[:, None]
    upper = a > 0  # whole interval above the mean: use the mirrored tail for accuracy
    pa = np.where(upper, ndtr(-a), ndtr(a))
    pb = np.where(upper, ndtr(-b), ndtr(b))
    mass = np.abs(pb - pa)
    total = mass.sum(axis=1)
    degenerate = total <= _EPS
    # choose an interval per row in proportion to its mass
    if lows.shape[0] == 1:
        j = np.zeros(len(mu), dtype=np.int64)
    else:
        cm = np.cumsum(mass, axis=1)
        r = rng.random(len(mu)) * total
        j = (cm < r[:, None]).sum(axis=1)
        j = np.minimum(j, lows.shape[0] - 1)
    rows = np.arange(len(mu))
    aj, bj, up = a[rows, j], b[rows, j], upper[rows, j]
    lo_p = np.where(up, ndtr(-bj), ndtr(aj))
    hi_p = np.where(up, ndtr(-aj), ndtr(bj))
    v = rng.random(len(mu))
    p = lo_p + v * (hi_p - lo_p)
    p = np.clip(p, 1e-300, 1 - 1e-16)
    t = np.where(up, -ndtri(p), ndtri(p))
    # numerical safety: stay inside the chosen interval
    t = np.clip(t, aj, bj)
    # intervals with no representable mass (far beyond 38 sd): take the nearest end point
    if degenerate.any():
        near = np.where(np.abs(a[:, 0]) < np.abs(b[:, -1]), a[:, 0], b[:, -1])
        t = np.where(degenerate, near, t)
    z = mu + sigma * t
    return z


def sample_conditional_mvn(
    corr: np.ndarray,
    n: int,
    cond: dict[int, np.ndarray],
    rng: np.random.Generator,
    sweeps: int = 30,
) -> np.ndarray:
    """Draw ``n`` rows of ``N(0, corr)`` with coordinate ``i`` restricted to ``cond[i]``.

    ``cond[i]`` is an (m, 2) array of latent intervals (a union). Returns an (n, d) array.
    """
    d = corr.shape[0]
    C = np.array(sorted(cond), dtype=np.int64)
    F = np.array([i for i in range(d) if i not in cond], dtype=np.int64)
    z = np.empty((n, d))
    if len(C) == 0:
        L = robust_cholesky(corr)
        return rng.standard_normal((n, d)) @ L.T
    S_cc = corr[np.ix_(C, C)]
    lows = [cond[i][:, 0] for i in C]
    highs = [cond[i][:, 1] for i in C]
    # sequential (GHK) start: coordinate k given the ones before it
    zc = np.zeros((n, len(C)))
    for k in range(len(C)):
        if k == 0:
            mu, var = np.zeros(n), 1.0
        else:
            S_pp = S_cc[:k, :k]
            s_kp = S_cc[k, :k]
            w = np.linalg.solve(nearest_psd(S_pp), s_kp)
            mu = zc[:, :k] @ w
            var = max(1.0 - float(s_kp @ w), 1e-10)
        zc[:, k] = sample_truncated_1d(mu, np.sqrt(var), lows[k], highs[k], rng)
    if len(C) > 1:
        prec = np.linalg.inv(nearest_psd(S_cc))
        diag = np.diag(prec)
        sd = 1.0 / np.sqrt(diag)
        for _ in range(sweeps):
            for k in range(len(C)):
                # E[z_k | z_-k] = -(1/P_kk) * sum_{j != k} P_kj z_j
                mu = -(zc @ prec[:, k] - zc[:, k] * diag[k]) / diag[k]
                zc[:, k] = sample_truncated_1d(mu, sd[k], lows[k], highs[k], rng)
    z[:, C] = zc
    if len(F):
        S_fc = corr[np.ix_(F, C)]
        S_ff = corr[np.ix_(F, F)]
        A = np.linalg.solve(nearest_psd(S_cc), S_fc.T).T  # (f, c)
        cov = S_ff - A @ S_fc.T
        L = robust_cholesky(cov)
        z[:, F] = zc @ A.T + rng.standard_normal((n, len(F))) @ L.T
    return z


def nearest_psd(m: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    """The symmetric matrix nearest ``m`` with every eigenvalue at least ``floor``."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.maximum(w, floor)) @ v.T


def robust_cholesky(m: np.ndarray) -> np.ndarray:
    """Cholesky factor of ``m``, or of its nearest positive definite matrix when ``m`` is not."""
    try:
        return np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return np.linalg.cholesky(nearest_psd(m, 1e-10) + 1e-12 * np.eye(len(m)))


def nearest_correlation(m: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """Clip eigenvalues and rescale to a unit diagonal: a valid correlation matrix."""
    c = nearest_psd(m, floor)
    d = np.sqrt(np.diag(c))
    c = c / d[:, None] / d[None, :]
    np.fill_diagonal(c, 1.0)
    return c
