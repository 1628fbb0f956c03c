"""The measurement steps of MST (McKenna, Miklau & Sheldon 2021) as the DP marginal synthesizer
runs them: noisy 1-ways, compression, spanning-tree selection by the exponential mechanism,
noisy 2-ways on the selected edges, and the consistent estimate of every marginal.

Each step that reads the private rows spends the zCDP budget ``rho`` it is given and returns a
record of what it did (``{"step": ..., "mechanism": ..., "rho": ..., ...}``) for ``privacy_``;
the rest is post-processing of noisy answers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from synthcust.synthesizers.dp.accounting import (
    cdp_eps,
    eps_standard,
    exponential_epsilon,
    exponential_mechanism,
    gaussian_mechanism,
    gaussian_sigma,
)
from synthcust.synthesizers.dp.bins import NumericBins, dp_quantile_bounds
from synthcust.synthesizers.dp.tree import ipf, pair_counts, simplex_project

__all__ = [
    "compress_bins",
    "dp_bounds",
    "estimate_marginals",
    "group_marginals",
    "measure_one_ways",
    "measure_two_ways",
    "privacy_record",
    "select_edges",
]


def dp_bounds(
    names: list[str],
    columns: list[np.ndarray],
    specs: list[Any],
    rho: float,
    rng: np.random.Generator,
) -> tuple[dict[str, tuple[float, float]], dict[str, Any]]:
    """DP bounds (the 0.5% and 99.5% quantiles) of the columns whose bounds the user chose to
    pay for, spending ``rho`` in all; whole-number columns get whole bounds. Each column's codec
    spec (``specs``) gets its bounds too.

    Returns
    -------
    tuple
        The bounds by column and the step's record.
    """
    eps_each = exponential_epsilon(rho / (2 * len(names)))
    found = {}
    for name, x, spec in zip(names, columns, specs, strict=True):
        lo, hi = dp_quantile_bounds(x, eps_each, rng)
        if spec.integer:
            lo, hi = float(math.floor(lo)), float(math.ceil(hi))
        if hi <= lo:
            hi = lo + 1.0
        spec.lower, spec.upper = lo, hi
        found[name] = (lo, hi)
    step = {
        "step": "bounds",
        "mechanism": "exponential mechanism, DP quantiles 0.5% and 99.5% on a "
        "fixed log grid (sensitivity 1)",
        "columns": names,
        "rho": rho,
        "epsilon_each": eps_each,
        "queries": 2 * len(names),
    }
    return found, step


def measure_one_ways(
    fine: list[np.ndarray],
    sizes: list[int],
    rho: float,
    sensitivity: float,
    rng: np.random.Generator,
) -> tuple[list[np.ndarray], float]:
    """The noisy 1-way histograms of every binned column, spending ``rho`` in all.

    Adding or removing one row changes each of the ``d`` histograms by 1 in one cell, so the
    concatenated histogram has L2 sensitivity ``sqrt(d)`` (times ``sqrt(2)`` for a replaced
    row); one Gaussian noise scale ``sigma = sensitivity * sqrt(d / (2 rho))`` for all.
    """
    sigma = gaussian_sigma(rho / len(fine), sensitivity)
    noisy = [
        gaussian_mechanism(np.bincount(f, minlength=k), sigma, rng)
        for f, k in zip(fine, sizes, strict=True)
    ]
    return noisy, sigma


def compress_bins(b: Any, y: np.ndarray, f: np.ndarray, sigma: float, n_bins: int) -> np.ndarray:
    """Fine bin -> group, from the noisy 1-way only (post-processing).

    A numeric column is cut into at most ``n_bins`` groups of about equal noisy mass (missing
    its own group when its count stands out of the noise); a categorical column keeps the
    categories whose count stands out of the noise and pools the rest.
    """
    k = b.size
    g = np.zeros(k, dtype=np.int64)
    if isinstance(b, NumericBins):
        mass = f[:-1]
        total = mass.sum()
        if total > 0:
            mid = np.cumsum(mass) - mass / 2
            raw = np.minimum((mid / total * int(n_bins)).astype(np.int64), n_bins - 1)
            g[:-1] = np.unique(raw, return_inverse=True)[1]
        g[-1] = g[:-1].max() + 1 if y[-1] >= 3 * sigma else 0
        return g
    keep = y >= 3 * sigma
    if keep.all() or not keep.any():
        return np.arange(k) if keep.all() else g
    g[keep] = np.arange(int(keep.sum()))
    g[~keep] = int(keep.sum())
    if (~keep).sum() == 1 and not keep[b.missing]:
        g[b.missing] = 0  # no group made of "missing" alone when it is only noise
    return g


def group_marginals(
    bins: list[Any],
    y1: list[np.ndarray],
    f1: list[np.ndarray],
    sigma1: float,
    fine: list[np.ndarray],
    n_bins: int,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Compress every column's fine bins into groups (:func:`compress_bins`, post-processing)
    and sum the noisy 1-ways by group. A missing share indistinguishable from noise is dropped
    from ``f1`` (in place).

    Returns
    -------
    tuple of lists
        Per column: fine bin -> group, each row's group, the noisy grouped counts and their
        noise variances.
    """
    groups = []
    for a, b in enumerate(bins):
        groups.append(compress_bins(b, y1[a], f1[a], sigma1, n_bins))
        if y1[a][b.missing] < 3 * sigma1:
            f1[a][b.missing] = 0.0  # a missing share indistinguishable from noise: dropped
    k_g = [int(g.max()) + 1 for g in groups]
    coarse = [g[f] for g, f in zip(groups, fine, strict=True)]
    yc = [np.bincount(g, weights=y, minlength=k) for g, y, k in zip(groups, y1, k_g, strict=True)]
    var_c = [
        np.bincount(g, minlength=k).astype(float) * sigma1**2
        for g, k in zip(groups, k_g, strict=True)
    ]
    return groups, coarse, yc, var_c


def select_edges(
    d: int,
    cands: list[tuple[int, int]],
    coarse: list[np.ndarray],
    k_g: list[int],
    mc: list[np.ndarray],
    n_hat: float,
    rounds: int,
    rho_sel: float,
    score_sensitivity: float,
    rng: np.random.Generator,
) -> tuple[list[tuple[int, int]], dict[str, Any] | None]:
    """A maximum spanning forest of ``rounds`` edges among ``cands``, one edge per round by the
    exponential mechanism (score: L1 error of the independence estimate), spending
    ``rho_sel``. Without selection budget, a data-independent chain of feasible edges.

    Returns
    -------
    tuple
        The edges and the step's record (``None`` when no budget was spent).
    """
    if not rounds:
        return [], None
    if rho_sel <= 0:  # no selection budget: a data-independent chain of feasible edges
        edges: list[tuple[int, int]] = []
        parent = list(range(d))
        for i, j in cands:
            ri, rj = _root(parent, i), _root(parent, j)
            if ri != rj:
                parent[ri] = rj
                edges.append((i, j))
        return edges, None
    eps_sel = exponential_epsilon(rho_sel / rounds)
    scores = np.empty(len(cands))
    for t, (i, j) in enumerate(cands):  # the exact counts are read only here
        c = pair_counts(coarse[i], coarse[j], k_g[i], k_g[j])
        scores[t] = np.abs(c - np.outer(mc[i], mc[j]) / n_hat).sum()
    comp = list(range(d))

    def find(i: int) -> int:
        while comp[i] != i:
            comp[i] = comp[comp[i]]
            i = comp[i]
        return i

    edges = []
    for _ in range(rounds):
        ok = np.array([find(i) != find(j) for i, j in cands])
        idx = np.flatnonzero(ok)
        pick = idx[exponential_mechanism(scores[idx], eps_sel, score_sensitivity, rng)]
        i, j = cands[pick]
        comp[find(i)] = find(j)
        edges.append((i, j))
    step = {
        "step": "select",
        "mechanism": "exponential mechanism, one maximum-spanning-tree edge per "
        "round (score: L1 error of the independence estimate)",
        "rho": rho_sel,
        "epsilon_each": eps_sel,
        "score_sensitivity": score_sensitivity,
        "queries": rounds,
    }
    return edges, step


def measure_two_ways(
    edges: list[tuple[int, int]],
    coarse: list[np.ndarray],
    k_g: list[int],
    rho2: float,
    sensitivity: float,
    names: list[str],
    rng: np.random.Generator,
) -> tuple[dict[tuple[int, int], np.ndarray], float | None, dict[str, Any] | None]:
    """Noisy 2-way histograms of the selected edges (Gaussian mechanism), spending ``rho2``.

    Returns
    -------
    tuple
        The noisy tables by edge (empty without edges or budget), the noise scale and the
        step's record (``None`` when nothing was measured).
    """
    if not edges or rho2 <= 0:
        return {}, None, None
    sigma2 = gaussian_sigma(rho2 / len(edges), sensitivity)
    measured = {}
    for i, j in edges:
        c = pair_counts(coarse[i], coarse[j], k_g[i], k_g[j])
        measured[(i, j)] = gaussian_mechanism(c, sigma2, rng)
    step = {
        "step": "two_way",
        "mechanism": "Gaussian mechanism on the selected 2-way histograms",
        "rho": rho2,
        "sigma": sigma2,
        "l2_sensitivity": sensitivity,
        "queries": len(edges),
        "edges": [[names[i], names[j]] for i, j in edges],
    }
    return measured, sigma2, step


def estimate_marginals(
    y1: list[np.ndarray],
    w1: np.ndarray,
    sigma1: float,
    yc: list[np.ndarray],
    var_c: list[np.ndarray],
    k_g: list[int],
    measured: dict[tuple[int, int], np.ndarray],
    sigma2: float | None,
) -> tuple[float, list[np.ndarray], dict[tuple[int, int], np.ndarray]]:
    """Consistent estimates from every noisy answer (post-processing): the number of rows, each
    column's grouped marginal (inverse-variance weighted with the 2-ways' margins) and each
    edge's table fitted to those marginals.

    Returns
    -------
    tuple
        ``n_hat``, the marginals and the 2-way tables by edge.
    """
    tot = [y.sum() for y in y1]
    wts = list(w1 / sigma1**2)
    for y in measured.values():
        tot.append(y.sum())
        wts.append(1.0 / (y.size * sigma2**2))  # type: ignore[operator]
    n_hat = max(1.0, float(np.dot(wts, tot) / np.sum(wts)))
    marg: list[np.ndarray] = []
    for a in range(len(yc)):
        num = yc[a] / var_c[a]
        den = 1.0 / var_c[a]
        for (i, j), y in measured.items():
            if a in (i, j):
                other = j if a == i else i
                est = y.sum(1) if a == i else y.sum(0)
                v = k_g[other] * sigma2**2  # type: ignore[operator]
                num = num + est / v
                den = den + 1.0 / v
        marg.append(simplex_project(num / den, n_hat))
    tables = {
        (i, j): ipf(simplex_project(y, n_hat), marg[i], marg[j]) for (i, j), y in measured.items()
    }
    return n_hat, marg, tables


def privacy_record(
    *,
    epsilon: float,
    delta: float,
    rho: float,
    steps: list[dict[str, Any]],
    conversion: str,
    neighbours: str,
    bounds: dict[str, tuple[float, float, str]],
    category_domain: dict[str, str],
) -> dict[str, Any]:
    """What a DP fit spent and how (the model's ``privacy_``): the guarantee, the budget of
    every step, the bounds and category lists and where they came from.

    Parameters
    ----------
    bounds
        Column -> (lower, upper, source) of every numeric column's bounds.
    category_domain
        Column -> where its category list came from (``"declared"`` or from the data).
    """
    spent = float(sum(s["rho"] for s in steps))
    return {
        "epsilon": epsilon,
        "delta": delta,
        "rho": rho,
        "rho_spent": spent,
        "epsilon_spent": cdp_eps(spent, delta) if spent > 0 else 0.0,
        "epsilon_spent_standard": eps_standard(spent, delta),
        "definition": "zero-concentrated DP (Bun & Steinke 2016); (epsilon, delta) via "
        + (
            "Canonne, Kamath & Steinke 2020"
            if conversion == "tight"
            else "epsilon = rho + 2 sqrt(rho log(1/delta))"
        ),
        "neighbours": neighbours,
        "mechanism": "MST (McKenna, Miklau & Sheldon 2021): Gaussian 1-ways, exponential-"
        "mechanism spanning tree, Gaussian 2-ways, tree model",
        "steps": steps,
        "bounds": {
            k: {"lower": lo, "upper": hi, "source": src} for k, (lo, hi, src) in bounds.items()
        },
        "category_domain": category_domain,
        "public_metadata": "column names and kinds, integer flags, datetime units and "
        "formats, missing-value markers"
        + (
            ", and category lists marked 'data (treated as public)'"
            if any(v != "declared" for v in category_domain.values())
            else ""
        ),
        "n_rows_reported": "noisy estimate"
        if neighbours == "add_remove"
        else "exact (public under replace-one neighbours)",
        "post_processing": "sampling any number of rows from this model costs no further privacy",
    }


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        i = parent[i]
    return i
