"""The latent-class mixture behind the personas: column encoders, cells, EM and k-means starts.

See :mod:`synthcust.personas.segment` for the method. Everything here works on *cells*: every
column is reduced to its distinct values (categories, tied values, single values read at
1/200 of a standard deviation), stacked over all columns in one :class:`CellData`, so one array
operation serves every column and the cost per EM iteration grows with rows only through one
gather and one sparse product.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.special import log_ndtr, logsumexp

from synthcust.personas.columns import ColumnPlan

__all__ = [
    "CellData",
    "LatentClassMixture",
    "MixtureParams",
    "NumEncoder",
    "cell_data",
    "design_matrix",
    "kmeans_labels",
    "transposed_onehot",
]

_LOG2PI = float(np.log(2 * np.pi))
_VAR_FLOOR = 1e-3  # in normal-score units (the column's variance is about 1)
_ALPHA = 0.5  # Dirichlet pseudo-count of categorical and missingness probabilities
_MAX_ATOMS = 4000
_STEPS = 200


# ------------------------------------------------------------------------------- encoders
@dataclass
class NumEncoder:
    """How one numeric column is read, as learned from the training rows (JSON-able).

    Values are Yeo-Johnson transformed (``lam``; 1 = unchanged, used unless the column is
    skewed) and standardised. A value that occurs more than once (a tie: an integer scale, a
    point mass such as ``spend == 0``) is an *interval* reaching half-way to its neighbours, and
    to -inf/+inf at the ends (a Tobit/ordinal-probit reading); other values are points.
    """

    name: str
    lam: float
    center: float
    scale: float
    atoms_x: np.ndarray  # tied values, sorted ...
    atoms_lo: np.ndarray  # ... and the interval each owns (standardised units)
    atoms_hi: np.ndarray
    has_missing: bool

    @staticmethod
    def learn(name: str, x: np.ndarray, transform: bool = True) -> NumEncoder:
        """Learn how to read the numeric column ``x`` (Yeo-Johnson only when ``transform``)."""
        obs = x[np.isfinite(x)]
        lam = 1.0
        if transform and len(obs) > 2 and abs(float(stats.skew(obs))) > 0.75:
            sub = obs if len(obs) <= 5000 else \
                np.random.default_rng(0).choice(obs, 5000, replace=False)
            with np.errstate(all="ignore"):
                lam = float(np.clip(stats.yeojohnson_normmax(sub), -3, 3))
        t = stats.yeojohnson(obs, lam) if lam != 1.0 else obs
        center = float(np.mean(t))
        scale = float(np.std(t)) or 1.0
        vals, counts = np.unique(obs, return_counts=True)
        tv = (_yj(vals, lam) - center) / scale
        mids = (tv[1:] + tv[:-1]) / 2
        lo = np.concatenate([[-np.inf], mids])
        hi = np.concatenate([mids, [np.inf]])
        tied = np.flatnonzero(counts >= 2)
        if len(tied) > _MAX_ATOMS:
            tied = np.sort(tied[np.argsort(-counts[tied], kind="stable")[:_MAX_ATOMS]])
        return NumEncoder(name, lam, center, scale, vals[tied], lo[tied], hi[tied],
                           bool(len(obs) < len(x)))

    def cells(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """``(lo, hi, codes, n_atoms)``: cells (atoms first, then points) and each row's cell.

        Missing rows get code ``len(lo)``.
        """
        miss = ~np.isfinite(x)
        na = len(self.atoms_x)
        pos = np.clip(np.searchsorted(self.atoms_x, x), 0, max(na - 1, 0))
        is_atom = ~miss & (na > 0) & (self.atoms_x[pos] == x if na else False)
        pts = ~miss & ~is_atom
        # points are read at a resolution of 1/_STEPS standard deviation (clipped at +-6):
        # a bounded number of cells per column, so EM costs the same for 5,000 or 5,000,000 rows
        z = np.clip((_yj(x[pts], self.lam) - self.center) / self.scale, -6, 6)
        uz, inv = np.unique(np.round(z * _STEPS) / _STEPS, return_inverse=True)
        used, a_inv = np.unique(pos[is_atom], return_inverse=True)  # only atoms that occur
        lo = np.concatenate([self.atoms_lo[used], uz])
        hi = np.concatenate([self.atoms_hi[used], uz])
        codes = np.full(len(x), len(lo), dtype=np.int64)
        codes[is_atom] = a_inv
        codes[pts] = len(used) + inv
        return lo, hi, codes, len(used)

    def to_dict(self) -> dict[str, Any]:
        """The encoder as a JSON-able dict (infinite interval ends as +-1e300)."""
        d = asdict(self)  # open interval ends (+-inf) as +-1e300: strict JSON has no infinity
        return {k: (np.clip(v, -1e300, 1e300).tolist() if isinstance(v, np.ndarray) else v)
                for k, v in d.items()}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> NumEncoder:
        """An encoder from :meth:`to_dict`'s dict."""
        arr = {k: np.asarray(d[k], dtype=float) for k in _NUM_ARRAYS}
        for k in ("atoms_lo", "atoms_hi"):
            arr[k][np.abs(arr[k]) >= 1e300] *= np.inf
        return NumEncoder(
            name=str(d["name"]), lam=float(d["lam"]), center=float(d["center"]),
            scale=float(d["scale"]), has_missing=bool(d["has_missing"]), **arr,
        )


def _yj(x: np.ndarray, lam: float) -> np.ndarray:
    return x if lam == 1.0 else stats.yeojohnson(x, lam)


_NUM_ARRAYS = ("atoms_x", "atoms_lo", "atoms_hi")


# ------------------------------------------------------------------------------- numerics
def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x <= 0, accurate near 0 and for very negative x."""
    with np.errstate(divide="ignore"):
        return np.where(x > -0.6931, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_interval(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a < b (either may be infinite), stable in both tails."""
    flip = a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    lb, la = log_ndtr(hi), log_ndtr(lo)
    with np.errstate(invalid="ignore"):
        return lb + _log1mexp(np.minimum(la - lb, 0.0))


def _log_pdf(z: np.ndarray) -> np.ndarray:
    return -0.5 * z * z - 0.5 * _LOG2PI


@dataclass
class CellData:
    """A table reduced to cells, stacked over columns so one array op serves every column.

    Numeric cells (per column: its tied values, its single values, then one "missing" cell)
    come first, then the categorical levels, then one all-zero cell for unseen levels.
    ``codes[i, j]`` is the cell of row i in column j; ``at`` is the transposed one-hot
    (cells x rows) that aggregates responsibilities per cell in one sparse product.
    """

    n: int
    lo: np.ndarray  # numeric cells: normal-score interval (lo == hi for single values)
    hi: np.ndarray
    cell_col: np.ndarray  # numeric column of each numeric cell
    is_atom: np.ndarray
    is_miss: np.ndarray
    starts: np.ndarray  # first cell of each numeric column
    miss_cell: np.ndarray  # the missing cell of each numeric column
    lev_col: np.ndarray  # categorical column of each level cell
    lev_starts: np.ndarray
    codes: np.ndarray  # (n, columns) global cell index
    at: sparse.csr_matrix

    @property
    def n_cells(self) -> int:
        """All cells: numeric ones, level ones and the unseen-level cell."""
        return len(self.lo) + len(self.lev_col) + 1

    def subset(self, rows: np.ndarray) -> CellData:
        """The same cells for a subset of the rows."""
        codes = self.codes[rows]
        return dataclasses.replace(
            self, n=len(rows), codes=codes, at=transposed_onehot(codes, self.n_cells)
        )


def transposed_onehot(codes: np.ndarray, width: int) -> sparse.csr_matrix:
    """The (width x rows) one-hot of every row's cells, summed over columns."""
    n, p = codes.shape
    rows = np.repeat(np.arange(n), p)
    m = sparse.csr_matrix((np.ones(n * p), (codes.ravel(), rows)), shape=(width, n))
    m.sum_duplicates()
    return m


def _onehot(codes: np.ndarray, width: int) -> sparse.csr_matrix:
    return transposed_onehot(codes[:, None], width).T.tocsr()


@dataclass
class MixtureParams:
    """Mixture parameters: numeric ones (numeric columns, k), levels (level cells, k)."""

    log_w: np.ndarray
    mu: np.ndarray
    sd: np.ndarray
    log_miss: np.ndarray  # log P(missing); -inf where a column had no missing value
    log_theta: np.ndarray

    @property
    def k(self) -> int:
        """The number of classes."""
        return len(self.log_w)

    def permute(self, order: np.ndarray) -> MixtureParams:
        """The parameters with the classes in ``order``."""
        return MixtureParams(
            self.log_w[order], self.mu[:, order], self.sd[:, order],
            self.log_miss[:, order], self.log_theta[:, order],
        )

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-able dict."""
        return {
            "log_w": self.log_w.tolist(),
            "mu": self.mu.tolist(),
            "sd": self.sd.tolist(),
            "log_miss": np.maximum(self.log_miss, -1e300).tolist(),
            "log_theta": self.log_theta.tolist(),
        }

    @staticmethod
    def from_dict(d: dict[str, Any], n_num: int, n_lev: int) -> MixtureParams:
        """Parameters from :meth:`to_dict`'s dict."""
        k = len(d["log_w"])

        def arr(key: str, rows: int) -> np.ndarray:
            return np.asarray(d[key], dtype=float).reshape(rows, k)

        lm = arr("log_miss", n_num)
        lm[lm <= -1e300] = -np.inf
        return MixtureParams(
            np.asarray(d["log_w"], dtype=float), arr("mu", n_num), arr("sd", n_num), lm,
            arr("log_theta", n_lev),
        )


@dataclass
class LatentClassMixture:
    """EM for the latent-class model; ``has_missing`` per numeric column."""

    has_missing: np.ndarray
    n_levels: list[int]

    def __post_init__(self) -> None:
        self.has_missing = np.asarray(self.has_missing, bool)
        self.n_levels = list(self.n_levels)

    def n_params(self, k: int) -> int:
        """Free parameters of a ``k``-class model (for BIC)."""
        num = len(self.has_missing) * 2 * k + int(self.has_missing.sum()) * k
        return (k - 1) + num + sum(k * (c - 1) for c in self.n_levels)

    def cell_loglik(self, p: MixtureParams, d: CellData) -> np.ndarray:
        """log P(cell | class) for every cell, (cells, k)."""
        k = p.k
        out = np.zeros((d.n_cells, k))
        col = d.cell_col
        mu, sd = p.mu[col], p.sd[col]
        pts = ~d.is_atom & ~d.is_miss
        z = (d.lo[pts, None] - mu[pts]) / sd[pts]
        out[: len(col)][pts] = _log_pdf(z) - np.log(sd[pts])
        at = d.is_atom
        if at.any():
            out[: len(col)][at] = _interval_loglik(d.lo[at], d.hi[at], mu[at], sd[at])
        hm = self.has_missing[col]
        obs = ~d.is_miss & hm
        out[: len(col)][obs] += _log1mexp(p.log_miss[col[obs]])
        mc = d.is_miss & hm
        out[: len(col)][mc] = p.log_miss[col[mc]]
        out[len(col) : len(col) + len(d.lev_col)] = p.log_theta
        return out

    def joint(self, p: MixtureParams, d: CellData) -> np.ndarray:
        """log P(row, class) as an (n, k) array."""
        table = self.cell_loglik(p, d)
        ll = np.broadcast_to(p.log_w, (d.n, p.k)).copy()
        for j in range(d.codes.shape[1]):
            ll += table[d.codes[:, j]]
        return ll

    def e_step(self, p: MixtureParams, d: CellData) -> tuple[np.ndarray, float]:
        """Responsibilities (n, k) and the log-likelihood."""
        ll = self.joint(p, d)
        lse = logsumexp(ll, axis=1)
        return np.exp(ll - lse[:, None]), float(lse.sum())

    def m_step(self, r: np.ndarray, d: CellData, old: MixtureParams | None = None) -> MixtureParams:
        """Parameters maximising the expected log-likelihood under ``r``."""
        k = r.shape[1]
        nk = r.sum(axis=0) + 1e-10
        s = np.asarray(d.at @ r)  # responsibility mass per cell, (cells, k)
        nc = len(d.lo)
        s_num = s[:nc]
        m1 = np.repeat(np.where(np.isfinite(d.lo), d.lo, 0.0)[:, None], k, axis=1)
        at = d.is_atom
        if at.any():
            if old is None:  # first M-step: interval midpoints (half a unit beyond open ends)
                a, b = d.lo[at], d.hi[at]
                c = np.where(np.isfinite(a) & np.isfinite(b), (a + b) / 2,
                             np.where(np.isfinite(a), a + 0.5, b - 0.5))
                m1[at] = c[:, None]
                m2 = m1 * m1
            else:
                m2 = m1 * m1
                col = d.cell_col[at]
                m1[at], m2[at] = _interval_moments(d.lo[at], d.hi[at], old.mu[col], old.sd[col])
        else:
            m2 = m1 * m1
        w = s_num * ~d.is_miss[:, None]
        if nc:
            n_obs = np.add.reduceat(w, d.starts, axis=0) + 1e-10
            mu = np.add.reduceat(w * m1, d.starts, axis=0) / n_obs
            var = np.add.reduceat(w * m2, d.starts, axis=0) / n_obs - mu * mu
            sd = np.sqrt(np.maximum(var, _VAR_FLOOR))
            miss = s_num[d.miss_cell]
            log_miss = np.where(
                self.has_missing[:, None], np.log((miss + _ALPHA) / (nk + 2 * _ALPHA)), -np.inf
            )
        else:
            mu = sd = log_miss = np.zeros((0, k))
        s_lev = s[nc : nc + len(d.lev_col)]
        if len(d.lev_col):
            tot = np.add.reduceat(s_lev, d.lev_starts, axis=0)[d.lev_col]
            nlev = np.asarray(self.n_levels, dtype=float)[d.lev_col][:, None]
            log_theta = np.log((s_lev + _ALPHA) / (tot + _ALPHA * nlev))
        else:
            log_theta = np.zeros((0, k))
        return MixtureParams(np.log(nk / nk.sum()), mu, sd, log_miss, log_theta)

    def em(
        self, d: CellData, p: MixtureParams, max_iter: int, tol: float
    ) -> tuple[MixtureParams, np.ndarray, float, int]:
        """EM from ``p`` until the log-likelihood gains less than ``tol`` (relative)."""
        r, ll = self.e_step(p, d)
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007
            p = self.m_step(r, d, p)
            r, new = self.e_step(p, d)
            done = abs(new - ll) <= tol * abs(ll)
            ll = new
            if done:
                break
        return p, r, ll, it


_NARROW = 0.05  # intervals narrower than this many class sds use the midpoint rule


def _interval_loglik(
    lo: np.ndarray, hi: np.ndarray, mu: np.ndarray, sd: np.ndarray
) -> np.ndarray:
    """log P(lo < x < hi) under N(mu, sd^2) per (cell, class); lo, hi are (cells,).

    Intervals narrower than ``_NARROW`` sds use density x width (relative error below 1e-4),
    the rest the exact, tail-stable difference of normal CDFs.
    """
    w = (hi - lo)[:, None] / sd
    narrow = w < _NARROW
    with np.errstate(invalid="ignore"):
        mid = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2, 0.0)
        out = _log_pdf((mid[:, None] - mu) / sd) + np.log(np.where(narrow, w, 1.0))
    wide = ~narrow
    if wide.any():
        lo_b = np.broadcast_to(lo[:, None], mu.shape)[wide]
        hi_b = np.broadcast_to(hi[:, None], mu.shape)[wide]
        out[wide] = _log_interval((lo_b - mu[wide]) / sd[wide], (hi_b - mu[wide]) / sd[wide])
    return out


def _interval_moments(
    lo: np.ndarray, hi: np.ndarray, mu: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """E[x], E[x^2] of N(mu, sd^2) truncated to each cell, (cells, k); midpoint rule if narrow."""
    w = (hi - lo)[:, None] / sd
    narrow = w < _NARROW
    with np.errstate(invalid="ignore"):
        mid = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2, 0.0)
    e1 = np.broadcast_to(mid[:, None], mu.shape).copy()
    e2 = e1 * e1 + np.where(narrow, (w * sd) ** 2 / 12, 0.0)
    wide = ~narrow
    if wide.any():
        lo_b = np.broadcast_to(lo[:, None], mu.shape)[wide]
        hi_b = np.broadcast_to(hi[:, None], mu.shape)[wide]
        e1[wide], e2[wide] = _trunc_moments(lo_b, hi_b, mu[wide], sd[wide])
    return e1, e2


def _trunc_moments(
    lo: np.ndarray, hi: np.ndarray, mu: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """E[x] and E[x^2] of N(mu, sd^2) truncated to [lo, hi] (arrays of one shape)."""
    a = (lo - mu) / sd
    b = (hi - mu) / sd
    lz = _log_interval(a, b)
    fa, fb = np.isfinite(a), np.isfinite(b)
    with np.errstate(over="ignore", invalid="ignore"):
        ra = np.where(fa, np.exp(_log_pdf(np.where(fa, a, 0)) - lz), 0.0)
        rb = np.where(fb, np.exp(_log_pdf(np.where(fb, b, 0)) - lz), 0.0)
        m = np.nan_to_num(ra - rb)
        v = 1 + np.where(fa, a * ra, 0) - np.where(fb, b * rb, 0) - m * m
    m = np.clip(m, a, b)
    v = np.clip(np.nan_to_num(v), 0.0, 1.0)
    e1 = mu + sd * m
    return e1, e1 * e1 + sd * sd * v


def kmeans_labels(
    x: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 4
) -> np.ndarray:
    """Labels of the best of ``n_init`` k-means runs: the EM's starting partition."""
    best, best_in = None, np.inf
    for _ in range(n_init):
        lab, inertia = _kmeans_once(x, k, rng)
        if inertia < best_in:
            best, best_in = lab, inertia
    assert best is not None
    return best


def _kmeans_once(
    x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 25
) -> tuple[np.ndarray, float]:
    """k-means++ start and Lloyd steps; (labels, inertia)."""
    n = len(x)
    sq = (x * x).sum(axis=1)
    centers = [x[rng.integers(n)]]
    d2 = ((x - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        tot = d2.sum()
        c = x[rng.choice(n, p=d2 / tot)] if tot > 0 else x[rng.integers(n)]
        centers.append(c)
        d2 = np.minimum(d2, ((x - c) ** 2).sum(axis=1))
    cen = np.array(centers)
    lab = np.zeros(n, dtype=np.int64)
    for it in range(iters):
        dist = sq[:, None] - 2 * x @ cen.T + (cen * cen).sum(axis=1)
        new = dist.argmin(axis=1)
        if it and np.array_equal(new, lab):
            break
        lab = new
        counts = np.bincount(lab, minlength=k)
        sums = np.asarray(_onehot(lab, k).T @ x)
        filled = counts > 0
        cen[filled] = sums[filled] / counts[filled, None]
    dist = sq[:, None] - 2 * x @ cen.T + (cen * cen).sum(axis=1)
    return lab, float(dist[np.arange(n), lab].sum())


def cell_data(plan: ColumnPlan, encoders: list[NumEncoder], clean: pd.DataFrame) -> CellData:
    """The rows of ``clean`` (read by ``plan``) reduced to cells, every column stacked."""
    lo_, hi_, col_, atom_, miss_, codes_ = [], [], [], [], [], []
    offset = 0
    starts, miss_cell = [], []
    for j, e in enumerate(encoders):
        lo, hi, codes, na = e.cells(clean[e.name].to_numpy(dtype=float))
        m = len(lo) + 1  # + the missing cell
        starts.append(offset)
        miss_cell.append(offset + m - 1)
        lo_.append(np.append(lo, 0.0))
        hi_.append(np.append(hi, 0.0))
        col_.append(np.full(m, j))
        atom_.append(np.arange(m) < na)
        miss_.append(np.arange(m) == m - 1)
        codes_.append(codes + offset)
        offset += m
    cat = np.concatenate([np.zeros(0, int), *[np.full(m, j) for j, m in
                                              enumerate(plan.n_levels)]])
    lev_starts = np.concatenate([[0], np.cumsum(plan.n_levels)[:-1]]).astype(int) \
        if plan.n_levels else np.zeros(0, int)
    unseen = offset + len(cat)
    for j, c in enumerate(plan.categorical):
        cc = plan.codes(clean, c)
        codes_.append(np.where(cc >= 0, cc + offset + lev_starts[j], unseen))

    def cat_(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    codes = np.column_stack(codes_).astype(np.int64)
    return CellData(
        len(clean), cat_(lo_, float), cat_(hi_, float), cat_(col_, np.int64),
        cat_(atom_, bool), cat_(miss_, bool), np.asarray(starts, np.int64),
        np.asarray(miss_cell, np.int64), cat.astype(np.int64), lev_starts, codes,
        transposed_onehot(codes, unseen + 1),
    )


def design_matrix(d: CellData) -> np.ndarray:
    """Rows as numbers for k-means starts and silhouettes: standardised, one-hot/sqrt 2."""
    lo, hi = d.lo, d.hi
    mid = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2,
                   np.where(np.isfinite(lo), lo + 0.5, hi - 0.5))
    mid = np.where(d.is_miss, 0.0, np.nan_to_num(mid))
    p_num = len(d.starts)
    cols = [mid[d.codes[:, :p_num]]]
    nc = len(lo)
    for j in range(p_num, d.codes.shape[1]):
        lev = d.codes[:, j] - nc
        width = len(d.lev_col)
        ok = lev < width
        block = np.zeros((d.n, width))
        block[np.flatnonzero(ok), lev[ok]] = 1 / np.sqrt(2)
        cols.append(block[:, d.lev_col == j - p_num])
    return np.hstack(cols) if cols else np.zeros((d.n, 0))
