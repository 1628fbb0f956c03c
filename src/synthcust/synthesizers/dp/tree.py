"""Consistent noisy marginals and the tree-structured model built from them.

Post-processing only: everything here reads noisy measurements (never the data), except
:func:`pair_counts`, whose output is used only inside the exponential mechanism.

* :func:`simplex_project`: Euclidean projection of a noisy histogram onto the non-negative
  histograms with a given total (small noisy cells become 0 instead of being clipped one by one);
* :func:`ipf`: iterative proportional fitting of a 2-way table to two 1-way marginals, so every
  table agrees with the 1-way estimates on the attributes it shares;
* :class:`TreeModel`: a forest over the attributes, ``P(x) = prod P(root) prod P(child | parent)``,
  with exact sampling given evidence (an allowed-weight per value of each attribute) by one
  upward message pass and ancestral sampling downward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def simplex_project(y: np.ndarray, total: float) -> np.ndarray:
    """The closest (L2) vector ``x >= 0`` with ``sum(x) = total`` to ``y``."""
    y = np.asarray(y, dtype=float)
    if total <= 0 or y.size == 0:
        return np.zeros_like(y)
    u = np.sort(y.ravel())[::-1]
    css = np.cumsum(u) - total
    ind = np.arange(1, len(u) + 1)
    cond = u - css / ind > 0
    r = int(np.flatnonzero(cond)[-1]) if cond.any() else 0
    theta = css[r] / (r + 1)
    return np.maximum(y - theta, 0.0)


def ipf(
    table: np.ndarray, row: np.ndarray, col: np.ndarray, iters: int = 200, tol: float = 1e-9
) -> np.ndarray:
    """Scale ``table`` until its row sums are ``row`` and column sums ``col`` (same totals).

    A tiny independent floor (``row x col``) is added first, so rows or columns the noisy table
    left empty fall back to independence instead of blocking the fit.
    """
    total = float(row.sum())
    if total <= 0:
        return np.zeros_like(table)
    t = table + 1e-6 * np.outer(row, col) / total
    for _ in range(iters):
        rs = t.sum(1)
        t *= np.divide(row, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        cs = t.sum(0)
        t *= np.divide(col, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
        if np.abs(t.sum(1) - row).max() <= tol * total:
            break
    return t


def pair_counts(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> np.ndarray:
    """Exact 2-way histogram of two binned columns (``ka x kb``)."""
    return np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(float)


def spanning_forest_size(d: int, pairs: list[tuple[int, int]]) -> int:
    """Edges of a spanning forest of the graph on ``d`` nodes with these edges."""
    parent = list(range(d))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    n = 0
    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
            n += 1
    return n


def _flat_choice(cum_rows: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each ``rows[t]``, a column drawn from the row's cumulative distribution ``cum_rows``.

    All rows at once: each row's cumulative is shifted by its row number so that one
    ``searchsorted`` on the flattened table answers every draw.
    """
    k_rows, k = cum_rows.shape
    flat = (cum_rows + np.arange(k_rows)[:, None]).ravel()
    u = rng.random(len(rows))
    pos = np.searchsorted(flat, rows + u, side="right")
    return np.clip(pos - rows * k, 0, k - 1)


def _cumulative(p: np.ndarray) -> np.ndarray:
    """Row-wise cumulative shares (rows summing to 0 become uniform), last column exactly 1."""
    s = p.sum(axis=-1, keepdims=True)
    k = p.shape[-1]
    q = np.where(s > 0, p / np.where(s > 0, s, 1), 1.0 / k)
    c = np.cumsum(q, axis=-1)
    c[..., -1] = 1.0
    return c


@dataclass
class TreeModel:
    """A forest: ``parent[i]`` (-1 for a root), ``order`` (parents before children),
    ``marginals[i]`` (consistent 1-way counts) and ``tables[i]`` (``P``-table of ``i`` with its
    parent as consistent counts, ``k_parent x k_i``; ``None`` for roots)."""

    parent: list[int]
    order: list[int]
    marginals: list[np.ndarray]
    tables: list[np.ndarray | None]

    @staticmethod
    def from_edges(
        d: int, edges: list[tuple[int, int]], marginals: list[np.ndarray], tables: dict
    ) -> TreeModel:
        adj: list[list[int]] = [[] for _ in range(d)]
        for i, j in edges:
            adj[i].append(j)
            adj[j].append(i)
        parent = [-1] * d
        seen = [False] * d
        order: list[int] = []
        for r in range(d):
            if seen[r]:
                continue
            seen[r] = True
            queue = [r]
            while queue:
                u = queue.pop(0)
                order.append(u)
                for v in sorted(adj[u]):
                    if not seen[v]:
                        seen[v] = True
                        parent[v] = u
                        queue.append(v)
        tabs: list[np.ndarray | None] = [None] * d
        for c in range(d):
            p = parent[c]
            if p >= 0:
                tabs[c] = tables[(p, c)] if (p, c) in tables else tables[(c, p)].T
        return TreeModel(parent, order, marginals, tabs)

    def conditional(self, c: int) -> np.ndarray:
        """``P(x_c | x_parent)`` as a ``k_parent x k_c`` matrix (empty parent rows -> 1-way)."""
        t = self.tables[c]
        assert t is not None
        rs = t.sum(1, keepdims=True)
        m = self.marginals[c]
        fallback = m / m.sum() if m.sum() > 0 else np.full(len(m), 1.0 / len(m))
        return np.where(rs > 0, t / np.where(rs > 0, rs, 1), fallback[None, :])

    def sample(
        self, n: int, evidence: list[np.ndarray | None], rng: np.random.Generator
    ) -> np.ndarray | None:
        """``n`` draws of every attribute (``n x d`` ints) given the evidence, or ``None``
        when the evidence has probability 0 under the model."""
        d = len(self.parent)
        children: list[list[int]] = [[] for _ in range(d)]
        for c in range(d):
            if self.parent[c] >= 0:
                children[self.parent[c]].append(c)
        cond = [self.conditional(c) if self.parent[c] >= 0 else None for c in range(d)]
        belief: list[np.ndarray] = [np.ones(len(m)) for m in self.marginals]
        msg: list[np.ndarray | None] = [None] * d
        for c in reversed(self.order):  # upward: children before parents
            b = np.ones(len(self.marginals[c])) if evidence[c] is None else evidence[c].copy()
            for ch in children[c]:
                b = b * msg[ch]
            belief[c] = b
            if self.parent[c] >= 0:
                msg[c] = cond[c] @ b
        out = np.empty((n, d), dtype=np.int64)
        for c in self.order:
            p = self.parent[c]
            if p < 0:
                m = self.marginals[c]
                prior = m / m.sum() if m.sum() > 0 else np.full(len(m), 1.0 / len(m))
                post = prior * belief[c]
                if post.sum() <= 0:
                    return None
                cum = _cumulative(post[None, :])
                out[:, c] = _flat_choice(cum, np.zeros(n, dtype=np.int64), rng)
            else:
                cum = _cumulative(cond[c] * belief[c][None, :])
                out[:, c] = _flat_choice(cum, out[:, p], rng)
        return out


def within_matrix(group_of_fine: np.ndarray, fine_counts: np.ndarray, n_groups: int) -> np.ndarray:
    """``W[g, f]``: share of fine bin ``f`` within group ``g`` (rows sum to 1; a group with no
    estimated mass is uniform over its fine bins)."""
    k = len(group_of_fine)
    w = np.zeros((n_groups, k))
    w[group_of_fine, np.arange(k)] = np.maximum(fine_counts, 0.0)
    s = w.sum(1, keepdims=True)
    member = np.zeros_like(w)
    member[group_of_fine, np.arange(k)] = 1.0
    uniform = member / np.maximum(member.sum(1, keepdims=True), 1)
    return np.where(s > 0, w / np.where(s > 0, s, 1), uniform)


def expand(
    groups: np.ndarray, within: np.ndarray, fine_weight: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    """A fine bin for each sampled group, by the within-group shares ``within`` (``n_groups x
    k_fine``) times the evidence weights of a condition (``fine_weight``), if any."""
    w = within if fine_weight is None else within * fine_weight[None, :]
    return _flat_choice(_cumulative(w), groups, rng)
