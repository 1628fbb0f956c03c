"""Marginal distributions of the copula: exact for atoms, smooth between quantiles.

:class:`EmpiricalMarginal` is a piecewise-linear quantile function ``Q(u) = interp(u, P, X)``.
Values carrying at least ``atom_share`` of the mass (``capital_gain == 0``, ``pdays == -1``,
``campaign == 1``...) become flat segments, so they are reproduced exactly and with their real
frequency; the rest of the mass is spread linearly between neighbouring quantile knots, which
keeps skew, bounds and multimodality without copying individual rare values. At most
``max_knots`` knots are kept, so the model stores quantiles, not rows.

:class:`CategoricalMarginal` maps category ``k`` to the interval ``(cum[k-1], cum[k]]`` of
``[0, 1]``; missing values are a category of their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: A value with at least this share of the rows is reproduced exactly (a point mass).
ATOM_SHARE = 0.002
#: ... and it needs at least this many rows, so no single customer's value becomes an atom.
ATOM_MIN_COUNT = 5
MAX_KNOTS = 1000


class EmpiricalMarginal:
    """Quantile function with point masses for one numeric column (missing values excluded)."""

    def __init__(self, P: np.ndarray, X: np.ndarray, integer: bool):
        self.P = np.asarray(P, dtype=float)
        self.X = np.asarray(X, dtype=float)
        self.integer = bool(integer)

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        integer: bool = False,
        atom_share: float = ATOM_SHARE,
        max_knots: int = MAX_KNOTS,
    ) -> EmpiricalMarginal:
        x = np.asarray(x, dtype=float)
        n = len(x)
        vals, counts = np.unique(x, return_counts=True)
        w = counts / n
        cum = np.cumsum(w)
        cum[-1] = 1.0
        start = cum - w
        atom = (w >= atom_share) & (counts >= ATOM_MIN_COUNT)
        # knots: every value at the end of its mass; atoms also at the start of theirs, so the
        # segment between the two is flat and returns the atom exactly
        P = np.concatenate([[0.0], start[atom], cum])
        X = np.concatenate([vals[:1], vals[atom], vals])
        is_atom = np.concatenate([[True], np.ones(int(atom.sum()), bool), atom])
        order = np.lexsort((P, X))
        P, X, is_atom = P[order], X[order], is_atom[order]
        P = np.maximum.accumulate(P)
        if len(P) > max_knots:
            # thin the non-atom knots evenly; a subset of a monotone piecewise-linear function's
            # knots is still monotone, and atoms, the min and the max stay exact
            free = np.flatnonzero(~is_atom)
            n_free_keep = max(max_knots - int(is_atom.sum()), 2)
            pick = free[np.unique(np.linspace(0, len(free) - 1, n_free_keep).round().astype(int))]
            keep = np.zeros(len(P), bool)
            keep[pick] = True
            keep[is_atom] = True
            keep[[0, -1]] = True
            P, X = P[keep], X[keep]
        return cls(P, X, integer)

    # -- mapping ---------------------------------------------------------------------------
    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: uniform -> value."""
        out = np.interp(u, self.P, self.X)
        if self.integer:
            out = np.round(out)
        return out

    def cdf_interval(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Randomised probability integral transform of fitted data: value -> uniform.

        For a value inside a flat segment (an atom) the result is uniform over the atom's mass;
        elsewhere it is the inverse of the linear quantile function.
        """
        x = np.asarray(x, dtype=float)
        lo = self.u_lower(x)
        hi = self.u_upper(x)
        return lo + rng.random(len(x)) * (hi - lo)

    def u_lower(self, x: np.ndarray) -> np.ndarray:
        """Smallest u with Q(u) >= x."""
        P, X = self.P, self.X
        idx = np.searchsorted(X, x, side="left")
        idx = np.clip(idx, 0, len(X) - 1)
        exact = X[idx] == x
        prev = np.clip(idx - 1, 0, len(X) - 1)
        span = X[idx] - X[prev]
        frac = np.where(span > 0, (x - X[prev]) / np.where(span > 0, span, 1), 0.0)
        u = np.where(exact, P[idx], P[prev] + frac * (P[idx] - P[prev]))
        u = np.where(x <= X[0], 0.0, u)
        u = np.where(x > X[-1], 1.0, u)
        return u

    def u_upper(self, x: np.ndarray) -> np.ndarray:
        """Largest u with Q(u) <= x."""
        P, X = self.P, self.X
        idx = np.searchsorted(X, x, side="right") - 1
        idx = np.clip(idx, 0, len(X) - 1)
        exact = X[idx] == x
        nxt = np.clip(idx + 1, 0, len(X) - 1)
        span = X[nxt] - X[idx]
        frac = np.where(span > 0, (x - X[idx]) / np.where(span > 0, span, 1), 0.0)
        u = np.where(exact, P[idx], P[idx] + frac * (P[nxt] - P[idx]))
        u = np.where(x >= X[-1], 1.0, u)
        u = np.where(x < X[0], 0.0, u)
        return u

    def range_to_u(self, lo: float, hi: float) -> tuple[float, float]:
        """The u-interval whose quantiles fall in ``[lo, hi]`` (after integer rounding)."""
        if self.integer:
            lo_r, hi_r = np.ceil(lo), np.floor(hi)
            if lo_r > hi_r:
                return 1.0, 0.0
            # values in [lo_r - 0.5, hi_r + 0.5) round into range
            a = float(self.u_lower(np.array([lo_r - 0.5]))[0])
            b = float(self.u_upper(np.array([hi_r + 0.5 - 1e-9]))[0])
            return a, b
        return float(self.u_lower(np.array([lo]))[0]), float(self.u_upper(np.array([hi]))[0])

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.X[0]), float(self.X[-1])

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.P": self.P, f"{prefix}.X": self.X}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, meta: dict[str, Any]):
        return cls(arrays[f"{prefix}.P"], arrays[f"{prefix}.X"], bool(meta["integer"]))


class CategoricalMarginal:
    """Category k <-> the interval (cum[k-1], cum[k]] of [0, 1]."""

    def __init__(self, probs: np.ndarray):
        probs = np.asarray(probs, dtype=float)
        total = probs.sum()
        # already normalised (a fit, or a saved model): keep the exact values, so a reloaded
        # model draws the very same categories for the same seed
        self.probs = probs if abs(total - 1.0) < 1e-12 else probs / total
        self.cum = np.cumsum(self.probs)
        self.cum[-1] = 1.0

    @classmethod
    def fit(cls, codes: np.ndarray, n_categories: int) -> CategoricalMarginal:
        """``codes`` in ``-1..n_categories-1``; -1 (missing) becomes the last slot."""
        c = np.where(codes < 0, n_categories, codes)
        counts = np.bincount(c, minlength=n_categories + 1).astype(float)
        return cls(counts / counts.sum())

    def to_uniform(self, codes: np.ndarray, n_categories: int, rng: np.random.Generator):
        c = np.where(codes < 0, n_categories, codes)
        hi = self.cum[c]
        lo = hi - self.probs[c]
        return lo + rng.random(len(c)) * (hi - lo)

    def decode(self, u: np.ndarray, n_categories: int) -> np.ndarray:
        c = np.searchsorted(self.cum, u, side="left")
        c = np.minimum(c, len(self.cum) - 1)
        return np.where(c == n_categories, -1, c).astype(np.int32)

    def intervals(self, codes: list[int], n_categories: int) -> list[tuple[float, float]]:
        """Merged u-intervals of a set of category codes (-1 = missing)."""
        slots = sorted(n_categories if c < 0 else c for c in codes)
        out: list[tuple[float, float]] = []
        for k in slots:
            lo, hi = self.cum[k] - self.probs[k], self.cum[k]
            if hi <= lo:
                continue
            if out and abs(out[-1][1] - lo) < 1e-15:
                out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
        return out
