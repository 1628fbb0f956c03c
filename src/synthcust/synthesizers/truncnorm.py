"""Sampling multivariate normals restricted to boxes (or unions of intervals per coordinate).

Used for exact conditional sampling in the copula: a condition on a column is an interval (or
a union of intervals, for a set of categories) of its latent normal coordinate. The conditioned
coordinates are drawn from the truncated multivariate normal, the free coordinates from the
exact Gaussian conditional given them.

How the conditioned coordinates are drawn (:func:`sample_conditional_mvn`), vectorised over rows:

1. **GHK proposals** (Geweke-Hajivassiliou-Keane): coordinate ``k`` from its Gaussian conditional
   given the coordinates before it, truncated to its set; the proposal density is the target's
   times ``1 / prod_k P_k``, ``P_k <= 1`` the truncated mass of step ``k``. The first
   coordinate's ``P_1`` is a constant, so **accepting a proposal with probability
   prod_{k >= 2} P_k is exact rejection sampling** from the truncated normal (the coordinates
   are ordered rarest first, which makes acceptance as likely as it can be). One conditioned
   coordinate is accepted always: plain inverse-CDF sampling.
2. Only when the acceptance is so low that ``max_pool_factor * n`` proposals leave rows
   missing are those rows importance-resampled, with replacement, from all proposals (weights
   ``prod P_k``, :class:`~synthcust.synthesizers.neural.resample.WeightedReservoir`), then moved
   by ``sweeps`` Gibbs sweeps, which leave the target distribution invariant and break up the
   repeated rows. (Gibbs sweeps alone from a GHK start, the former method, are not exact when a
   set of categories is a union of separated latent intervals: the chain rarely jumps between
   them, and the GHK start's interval shares stay wrong; issue 19.)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from synthcust.synthesizers.neural.resample import WeightedReservoir

_EPS = 1e-300


def sample_truncated_1d(
    mu: np.ndarray,
    sigma: float | np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    rng: np.random.Generator,
    return_mass: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Draw ``N(mu, sigma^2)`` restricted to the union of intervals ``[lows[j], highs[j]]``.

    ``mu`` has shape (n,); ``lows``/``highs`` have shape (m,) (the same intervals for every row).
    Each interval's probability is computed on the side of the mean where it is accurate, so
    far-tail intervals still sample correctly. ``return_mass``: also return each row's
    probability of the union under ``N(mu, sigma^2)``.
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
    return (z, total) if return_mass else z


def sample_conditional_mvn(
    corr: np.ndarray,
    n: int,
    cond: dict[int, np.ndarray],
    rng: np.random.Generator,
    sweeps: int = 30,
    max_pool_factor: int = 50,
) -> np.ndarray:
    """Draw ``n`` rows of ``N(0, corr)`` with coordinate ``i`` restricted to ``cond[i]``.

    ``cond[i]`` is an (m, 2) array of latent intervals (a union). Exact rejection from GHK
    proposals (see the module docstring); rows still missing after ``max_pool_factor * n``
    proposals are importance-resampled and moved by ``sweeps`` Gibbs sweeps. Returns an
    (n, d) array.
    """
    d = corr.shape[0]
    if not cond:
        L = robust_cholesky(corr)
        return rng.standard_normal((n, d)) @ L.T
    # rarest coordinate first: it is drawn exactly, the others are what rejection pays for
    mass = {i: float(np.sum(ndtr(cond[i][:, 1]) - ndtr(cond[i][:, 0]))) for i in cond}
    C = np.array(sorted(cond, key=lambda i: (mass[i], i)), dtype=np.int64)
    F = np.array([i for i in range(d) if i not in cond], dtype=np.int64)
    S_cc = corr[np.ix_(C, C)]
    lows = [cond[int(i)][:, 0] for i in C]
    highs = [cond[int(i)][:, 1] for i in C]
    zc = _truncated_rows(S_cc, lows, highs, n, rng, sweeps, max_pool_factor)
    z = np.empty((n, d))
    z[:, C] = zc
    if len(F):
        S_fc = corr[np.ix_(F, C)]
        S_ff = corr[np.ix_(F, F)]
        A = np.linalg.solve(nearest_psd(S_cc), S_fc.T).T  # (f, c)
        cov = S_ff - A @ S_fc.T
        L = robust_cholesky(cov)
        z[:, F] = zc @ A.T + rng.standard_normal((n, len(F))) @ L.T
    return z


def _ghk(
    S: np.ndarray, lows: list, highs: list, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``m`` GHK proposals and their log acceptance ``sum_{k >= 2} log P_k``."""
    c = len(lows)
    zc = np.zeros((m, c))
    logw = np.zeros(m)
    for k in range(c):
        if k == 0:
            mu, var = np.zeros(m), 1.0
        else:
            w = np.linalg.solve(nearest_psd(S[:k, :k]), S[k, :k])
            mu = zc[:, :k] @ w
            var = max(1.0 - float(S[k, :k] @ w), 1e-10)
        zc[:, k], p = sample_truncated_1d(mu, np.sqrt(var), lows[k], highs[k], rng, True)
        if k:
            with np.errstate(divide="ignore"):
                logw += np.log(np.minimum(p, 1.0))
    return zc, logw


def _truncated_rows(
    S: np.ndarray,
    lows: list,
    highs: list,
    n: int,
    rng: np.random.Generator,
    sweeps: int,
    max_pool_factor: int,
) -> np.ndarray:
    """``n`` exact draws of ``N(0, S)`` truncated to the sets (rejection from GHK), with an
    importance-resampled, Gibbs-moved remainder when rejection runs out of budget."""
    c = len(lows)
    if c == 1:
        return _ghk(S, lows, highs, n, rng)[0]
    out = np.empty((n, c))
    have, tried, acc_total = 0, 0, 0
    budget = max_pool_factor * n
    res = WeightedReservoir(n, rng)
    pool = np.empty((n, c))  # the reservoir's rows, in case rejection falls short
    while have < n and tried < budget:
        rate = acc_total / tried if tried else 1.0
        want = (n - have) / max(rate, 1e-3) * 1.2
        m = int(min(budget - tried, 200_000, max(1_024, math.ceil(want))))
        zc, logw = _ghk(S, lows, highs, m, rng)
        tried += m
        ok = np.flatnonzero(rng.random(m) < np.exp(logw))
        acc_total += len(ok)
        take = ok[: n - have]
        out[have : have + len(take)] = zc[take]
        have += len(take)
        slots, rows = res.add(logw)
        pool[slots] = zc[rows]
    if have < n:  # rare: resample the rest, then let Gibbs sweeps (target-invariant) move them
        rest = pool[: n - have].copy()
        out[have:] = _gibbs(S, lows, highs, rest, rng, sweeps)
    return out


def _gibbs(
    S: np.ndarray, lows: list, highs: list, zc: np.ndarray, rng: np.random.Generator, sweeps: int
) -> np.ndarray:
    """``sweeps`` Gibbs sweeps over the truncated coordinates (leaves the target invariant)."""
    prec = np.linalg.inv(nearest_psd(S))
    diag = np.diag(prec)
    sd = 1.0 / np.sqrt(diag)
    for _ in range(sweeps):
        for k in range(zc.shape[1]):
            # E[z_k | z_-k] = -(1/P_kk) * sum_{j != k} P_kj z_j
            mu = -(zc @ prec[:, k] - zc[:, k] * diag[k]) / diag[k]
            zc[:, k] = sample_truncated_1d(mu, sd[k], lows[k], highs[k], rng)
    return zc


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
