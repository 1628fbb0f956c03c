"""Numerics shared by the choice models and the simulations built on them.

Utility of alternative ``j`` at occasion ``n`` (for latent class ``c``)::

    V_ncj = asc_cj + x_nj' beta_c + z_n' gamma_cj      (asc and gamma are 0 for the base)

The parameter vector of one class is laid out as :func:`param_names` says: the constants of
the non-base alternatives, the generic attribute coefficients, then the alternative-specific
covariate coefficients. Everything is vectorised over occasions.

>>> import numpy as np
>>> softmax(np.array([[0.0, np.log(3.0)]])).round(2).tolist()
[[0.25, 0.75]]
"""

from __future__ import annotations

import numpy as np

from synthcust.exceptions import ModelError
from synthcust.simulation.choice.data import ChoiceData, ChoiceSpec

__all__ = [
    "batch_utilities",
    "check_identification",
    "coef_arrays",
    "design",
    "log_softmax",
    "mnl_fgh",
    "newton",
    "param_names",
    "ridge",
    "softmax",
    "sym_inv",
    "utilities",
]


def param_names(spec: ChoiceSpec) -> list[str]:
    """Names of one class's parameters: ``asc:ALT``, attributes, ``COVARIATE:ALT``."""
    b = spec.base_alt
    names = [f"asc:{a}" for a in spec.alternatives if a != b]
    names += list(spec.attribute_names)
    names += [f"{q}:{a}" for a in spec.alternatives if a != b for q in spec.covariates]
    return names


def design(data: ChoiceData) -> np.ndarray:
    """(N, J, K) design: constants of the non-base alternatives, attributes, covariates."""
    spec = data.spec
    N, J, P = data.X.shape
    Q = data.Z.shape[1]
    others = [j for j, a in enumerate(spec.alternatives) if a != spec.base_alt]
    D = np.zeros((N, J, (J - 1) * (1 + Q) + P))
    D[:, others, np.arange(J - 1)] = 1.0
    D[:, :, J - 1 : J - 1 + P] = data.X
    off = J - 1 + P
    for i, j in enumerate(others):
        D[:, j, off + i * Q : off + (i + 1) * Q] = data.Z
    D[~data.avail] = 0.0
    return D


def coef_arrays(spec: ChoiceSpec, B: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class coefficient rows (C, K) -> constants (C, J), betas (C, P), gammas (C, Q, J)."""
    J, P, Q = len(spec.alternatives), len(spec.attributes), len(spec.covariates)
    C = B.shape[0]
    others = [j for j, a in enumerate(spec.alternatives) if a != spec.base_alt]
    asc = np.zeros((C, J))
    asc[:, others] = B[:, : J - 1]
    beta = B[:, J - 1 : J - 1 + P]
    G = np.zeros((C, Q, J))
    G[:, :, others] = B[:, J - 1 + P :].reshape(C, J - 1, Q).transpose(0, 2, 1)
    return asc, beta, G


def utilities(asc, beta, G, X, Z, avail) -> np.ndarray:
    """(C, N, J) systematic utilities; unavailable alternatives get -inf."""
    V = asc[:, None, :] + np.einsum("njp,cp->cnj", X, beta, optimize=True)
    if G.shape[1]:
        V = V + np.einsum("nq,cqj->cnj", Z, G, optimize=True)
    return np.where(avail[None], V, -np.inf)


def softmax(V: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` (``-inf`` utilities get probability 0)."""
    e = V - V.max(axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(V: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log of :func:`softmax`, computed stably."""
    m = V.max(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        out = V - m - np.log(np.exp(V - m).sum(axis=axis, keepdims=True))
    return out


def mnl_fgh(theta, D, Y, avail, w):
    """Weighted log-likelihood sum_n w_n sum_j Y_nj log P_nj, its gradient and Hessian."""
    V = np.where(avail, D @ theta, -np.inf)
    logP = log_softmax(V)
    P = np.exp(logP)
    wY = Y * w[:, None]
    ll = float(np.sum(wY * np.where(wY > 0, logP, 0.0)))
    wn = wY.sum(1)
    Dbar = np.einsum("njk,nj->nk", D, P)
    g = np.einsum("njk,nj->k", D, wY) - wn @ Dbar
    A = (D - Dbar[:, None, :]) * np.sqrt(P * wn[:, None])[..., None]
    A = A.reshape(-1, D.shape[2])
    return ll, g, -(A.T @ A)


def ridge(fgh: tuple[float, np.ndarray, np.ndarray], theta: np.ndarray, lam: float):
    """``(f, g, H)`` of ``f(theta) - lam / 2 |theta|^2``."""
    f, g, H = fgh
    if lam == 0:
        return f, g, H
    return f - 0.5 * lam * float(theta @ theta), g - lam * theta, H - lam * np.eye(len(theta))


def newton(fgh, theta0: np.ndarray, max_iter: int = 100, tol: float = 1e-9):
    """Maximise a concave function by Newton-Raphson with step halving."""
    theta = np.asarray(theta0, dtype=float).copy()
    ll, g, H = fgh(theta)
    converged = False
    for _ in range(max_iter):
        A = -H
        try:
            step = np.linalg.solve(A + 1e-10 * np.eye(len(g)) * max(1.0, np.abs(A).max()), g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(A, g, rcond=None)[0]
        dec = float(g @ step)
        if not np.isfinite(dec) or dec < 0:
            step, dec = g / max(1.0, np.abs(g).max()), float(g @ g)
        if dec < tol:
            converged = True
            break
        t = 1.0
        while True:
            new = fgh(theta + t * step)
            if new[0] >= ll - 1e-12 * abs(ll) or t < 1e-10:
                break
            t *= 0.5
        theta = theta + t * step
        ll, g, H = new
    return theta, ll, g, H, converged


def check_identification(D: np.ndarray, avail: np.ndarray, names: list[str]) -> None:
    """Raise a ModelError naming parameters that the data cannot identify."""
    mean = (D * avail[..., None]).sum(1) / avail.sum(1, keepdims=True)
    Dc = ((D - mean[:, None, :]) * avail[..., None]).reshape(-1, D.shape[2])
    flat = np.abs(Dc).max(0) == 0
    if flat.any():
        bad = [names[k] for k in np.nonzero(flat)[0]]
        raise ModelError(
            f"{bad} never differ between the alternatives of an occasion, so the choices say "
            "nothing about them. Drop these attributes/covariates."
        )
    s = Dc.std(0)
    ev, evec = np.linalg.eigh((Dc / s).T @ (Dc / s))
    if ev[0] < 1e-9 * ev[-1]:
        v = evec[:, 0]
        bad = [names[k] for k in np.nonzero(np.abs(v) > 0.2)[0]]
        raise ModelError(
            f"the parameters {bad} are collinear (one is a combination of the others, e.g. a "
            "sale price next to list price and discount). Drop one of them."
        )


def sym_inv(A: np.ndarray) -> np.ndarray:
    """Symmetric inverse (pseudo-inverse when singular), e.g. of an information matrix."""
    try:
        out = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        out = np.linalg.pinv(A)
    return (out + out.T) / 2


def batch_utilities(asc, beta, G, X, Z, avail) -> np.ndarray:
    """(R, C, J, N) utilities for R parameter draws x C classes, customers last (contiguous),
    so the softmax over the few alternatives runs over long vectors; one BLAS product."""
    R, C, P = beta.shape
    n, J, _ = X.shape
    Xp = np.ascontiguousarray(X.transpose(2, 1, 0)).reshape(P, J * n)
    V = (beta.reshape(R * C, P) @ Xp).reshape(R, C, J, n)
    V += asc[:, :, :, None]
    if G.shape[2]:
        V += np.matmul(G.transpose(0, 1, 3, 2), Z.T)
    if not avail.all():
        V[:, :, ~avail.T] = -np.inf
    return V
