"""Privacy accounting under zero-concentrated DP (zCDP) and the two mechanisms used.

Definitions (Bun & Steinke 2016, "Concentrated Differential Privacy"):

* a mechanism is rho-zCDP if the Renyi divergence of order alpha between its outputs on
  neighbouring datasets is at most ``rho * alpha`` for every alpha > 1;
* zCDP composes additively: mechanisms spending rho_1, ..., rho_k together spend their sum;
* the **Gaussian mechanism** adding N(0, sigma^2) to a query of L2 sensitivity Delta is
  ``Delta^2 / (2 sigma^2)``-zCDP;
* the **exponential mechanism** with parameter epsilon (score sensitivity Delta, probabilities
  proportional to ``exp(epsilon * score / (2 Delta))``) is ``epsilon^2 / 8``-zCDP (Cesar &
  Rogers 2021, bounded range);
* rho-zCDP implies (epsilon, delta)-DP. :func:`cdp_delta` is the conversion of Canonne, Kamath &
  Steinke 2020 (Proposition 12 of "The Discrete Gaussian for Differential Privacy", as used by
  MST and smartnoise); :func:`rho_standard` inverts the classic
  ``epsilon = rho + 2 sqrt(rho log(1/delta))``, which is looser (it gives a smaller rho).
"""

from __future__ import annotations

import math

import numpy as np


def cdp_delta(rho: float, eps: float) -> float:
    """The smallest delta such that rho-zCDP implies (eps, delta)-DP (CKS 2020)."""
    if rho < 0 or eps < 0:
        raise ValueError("rho and eps must be non-negative")
    if rho == 0:
        return 0.0
    amin, amax = 1.01, (eps + 1) / (2 * rho) + 2
    alpha = amin
    for _ in range(1000):  # bisection on the derivative of the bound in alpha
        alpha = (amin + amax) / 2
        derivative = (2 * alpha - 1) * rho - eps + math.log1p(-1.0 / alpha)
        if derivative < 0:
            amin = alpha
        else:
            amax = alpha
    delta = math.exp((alpha - 1) * (alpha * rho - eps) + alpha * math.log1p(-1 / alpha)) / (
        alpha - 1.0
    )
    return min(delta, 1.0)


def cdp_eps(rho: float, delta: float) -> float:
    """The smallest epsilon such that rho-zCDP implies (epsilon, delta)-DP."""
    if rho == 0:
        return 0.0
    lo, hi = 0.0, rho + 2 * math.sqrt(rho * math.log(1 / delta))
    for _ in range(1000):
        mid = (lo + hi) / 2
        if cdp_delta(rho, mid) <= delta:
            hi = mid
        else:
            lo = mid
    return hi


def cdp_rho(eps: float, delta: float) -> float:
    """The largest rho such that rho-zCDP implies (eps, delta)-DP (CKS 2020 conversion)."""
    lo, hi = 0.0, eps + 1.0
    for _ in range(1000):
        mid = (lo + hi) / 2
        if cdp_delta(mid, eps) <= delta:
            lo = mid
        else:
            hi = mid
    return lo


def rho_standard(eps: float, delta: float) -> float:
    """rho from ``eps = rho + 2 sqrt(rho log(1/delta))`` (Bun & Steinke 2016, Prop. 1.3)."""
    ld = math.log(1 / delta)
    return (math.sqrt(ld + eps) - math.sqrt(ld)) ** 2


def eps_standard(rho: float, delta: float) -> float:
    return rho + 2 * math.sqrt(rho * math.log(1 / delta))


def gaussian_sigma(rho: float, sensitivity: float) -> float:
    """Noise scale of the Gaussian mechanism spending ``rho`` on a query of L2 ``sensitivity``."""
    if rho <= 0:
        raise ValueError("rho must be positive")
    return sensitivity / math.sqrt(2 * rho)


def gaussian_mechanism(values: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``values + N(0, sigma^2)`` elementwise (float64)."""
    values = np.asarray(values, dtype=float)
    return values + rng.normal(0.0, sigma, size=values.shape)


def exponential_epsilon(rho: float) -> float:
    """The exponential mechanism's epsilon that spends ``rho`` (``rho = epsilon^2 / 8``)."""
    return math.sqrt(8 * rho)


def exponential_mechanism(
    scores: np.ndarray, epsilon: float, sensitivity: float, rng: np.random.Generator
) -> int:
    """Index drawn with probability proportional to ``exp(epsilon * score / (2 sensitivity))``.

    Uses the Gumbel-max trick, which draws exactly from that distribution without overflow.
    """
    scores = np.asarray(scores, dtype=float)
    logits = epsilon * (scores - scores.max()) / (2 * sensitivity)
    return int(np.argmax(logits + rng.gumbel(size=scores.shape)))
