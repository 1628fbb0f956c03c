"""Fine domains of the columns a DP synthesizer measures, built from public information only.

A **numeric** column (numbers and datetimes, in the codec's units) with public bounds
``[lo, hi]`` gets the bins ``{lo}``, up to ``n_interior`` bins covering ``(lo, hi)`` (one per
whole number when the column is integer and they fit, else equal widths), ``{hi}`` and
"missing". Values outside the bounds are clipped to them first (the standard DP treatment), so
the point bins at the bounds also hold the clipped mass, and spikes that sit on a bound
(``capital_gain == 0``) are reproduced exactly. Nothing here looks at the data's own range.

A **categorical** column's bins are its categories plus "missing".

:func:`dp_quantile_bounds` estimates bounds with the exponential mechanism when the user opts
in to paying for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthcust.synthesizers.dp.accounting import exponential_mechanism


@dataclass
class NumericBins:
    """Fine bins of a numeric column: ``left[i] .. right[i]``; the last bin is "missing"."""

    lo: float
    hi: float
    integer: bool
    left: np.ndarray  # per non-missing bin
    right: np.ndarray
    point: np.ndarray  # bool: the bin is one value (left == right)

    @staticmethod
    def build(lo: float, hi: float, integer: bool, n_interior: int) -> NumericBins:
        if integer:
            lo, hi = float(math.ceil(lo)), float(math.floor(hi))
        if hi < lo:
            raise ValueError(f"empty bounds [{lo}, {hi}]")
        left: list[float] = [lo]
        right: list[float] = [lo]
        if hi > lo:
            if integer:
                m = int(hi - lo - 1)  # whole numbers strictly inside
                if 0 < m <= n_interior:
                    ints = np.arange(lo + 1, hi)
                    left += ints.tolist()
                    right += ints.tolist()
                elif m > n_interior:
                    edges = np.unique(np.floor(np.linspace(lo + 1, hi, n_interior + 1)))
                    left += edges[:-1].tolist()
                    right += (edges[1:] - 1).tolist()
            else:
                edges = np.linspace(lo, hi, n_interior + 1)
                left += edges[:-1].tolist()
                right += edges[1:].tolist()
            left.append(hi)
            right.append(hi)
        la, ra = np.asarray(left, float), np.asarray(right, float)
        point = la == ra
        if not integer:  # interior float bins are intervals even if degenerate in float terms
            point = np.zeros(len(la), bool)
            point[0] = True
            point[-1] = True
        return NumericBins(lo, hi, integer, la, ra, point)

    @property
    def size(self) -> int:
        """Number of bins, "missing" included."""
        return len(self.left) + 1

    @property
    def missing(self) -> int:
        return len(self.left)

    def _interior(self) -> tuple[int, int]:
        """Positions of the interior bins: ``[1, len - 1)`` (or none for a single value)."""
        k = len(self.left)
        return (1, k - 1) if k > 1 else (1, 1)

    def assign(self, x: np.ndarray) -> np.ndarray:
        """Bin index of every value (NaN -> missing); values are clipped to the bounds."""
        out = np.full(len(x), self.missing, dtype=np.int64)
        ok = ~np.isnan(x)
        v = np.clip(x[ok], self.lo, self.hi)
        if self.integer:
            v = np.round(v)
        k = len(self.left)
        idx = np.empty(len(v), dtype=np.int64)
        if k == 1:
            idx[:] = 0
        else:
            a, b = self._interior()
            inner = self.left[a:b]
            if len(inner):
                pos = np.searchsorted(inner, v, side="right") - 1
                idx[:] = a + np.clip(pos, 0, len(inner) - 1)
            else:
                idx[:] = 0
            idx[v <= self.lo] = 0
            idx[v >= self.hi] = k - 1
        out[ok] = idx
        return out

    def weights(self, low: float, high: float) -> np.ndarray:
        """Share of each bin inside ``[low, high]`` (uniform within a bin); missing gets 0."""
        w = np.zeros(self.size)
        L, R = self.left, self.right
        if self.integer:
            a = np.maximum(L, math.ceil(low) if math.isfinite(low) else L)
            b = np.minimum(R, math.floor(high) if math.isfinite(high) else R)
            w[:-1] = np.clip(b - a + 1, 0, None) / (R - L + 1)
        else:
            width = R - L
            inter = np.clip(np.minimum(R, high) - np.maximum(L, low), 0, None)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(self.point | (width <= 0), 0.0, inter / width)
            inside_pt = (low <= L) & (high >= L)
            share = np.where(self.point, inside_pt.astype(float), share)
            if low == high:  # an exact value inside an interval: a density, kept tiny
                hit = ~self.point & (low >= L) & (low < R)
                share = np.where(hit, 1e-9, share)
            w[:-1] = share
        return w

    def values(
        self,
        idx: np.ndarray,
        rng: np.random.Generator,
        low: float = -math.inf,
        high: float = math.inf,
    ) -> np.ndarray:
        """A value for each bin index, uniform within the bin (restricted to ``[low, high]``)."""
        out = np.full(len(idx), np.nan)
        ok = idx < self.missing
        i = idx[ok]
        L, R = self.left[i], self.right[i]
        if self.integer:
            a = np.maximum(L, math.ceil(low)) if math.isfinite(low) else L
            b = np.minimum(R, math.floor(high)) if math.isfinite(high) else R
            b = np.maximum(a, b)
            v = a + np.floor(rng.random(len(i)) * (b - a + 1))
            out[ok] = np.minimum(v, b)
        else:
            a = np.maximum(L, low)
            b = np.maximum(a, np.minimum(R, high))
            out[ok] = a + rng.random(len(i)) * (b - a)
        return out


@dataclass
class CategoricalBins:
    """Fine bins of a categorical column: codes ``0..k-1`` then "missing"."""

    k: int

    @property
    def size(self) -> int:
        return self.k + 1

    @property
    def missing(self) -> int:
        return self.k

    def assign(self, codes: np.ndarray) -> np.ndarray:
        c = codes.astype(np.int64)
        return np.where((c < 0) | (c >= self.k), self.k, c)

    def weights_for(self, codes: tuple[int, ...]) -> np.ndarray:
        w = np.zeros(self.size)
        for c in codes:
            w[self.k if c < 0 else c] = 1.0
        return w

    def codes(self, idx: np.ndarray) -> np.ndarray:
        return np.where(idx >= self.k, -1, idx).astype(np.int32)


#: candidate values of :func:`dp_quantile_bounds`: 0 and +-10^t on a fine log grid
_GRID = np.concatenate([-np.logspace(16, -6, 11_001), [0.0], np.logspace(-6, 16, 11_001)])


def dp_quantile_bounds(
    x: np.ndarray,
    epsilon_each: float,
    rng: np.random.Generator,
    quantiles: tuple[float, float] = (0.005, 0.995),
) -> tuple[float, float]:
    """Two DP quantiles of the non-missing ``x`` by the exponential mechanism on a public grid.

    The candidates are ``0`` and ``+-10^t`` for ``t`` in ``[-6, 16]`` (22,003 values, about
    0.5 % apart), fixed in advance. The score of candidate ``c`` for quantile ``q`` is
    ``-|#{x < c} - q n|``, of sensitivity 1 under adding, removing or replacing one row, so each
    call is ``epsilon_each``-DP (``epsilon_each^2 / 8``-zCDP); the pair costs twice that.
    """
    v = np.sort(x[~np.isnan(x)])
    below = np.searchsorted(v, _GRID, side="left").astype(float)
    out = []
    for q in quantiles:
        score = -np.abs(below - q * len(v))
        out.append(float(_GRID[exponential_mechanism(score, epsilon_each, 1.0, rng)]))
    lo, hi = min(out), max(out)
    return lo, hi
