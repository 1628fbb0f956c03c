"""A funnel's steps: the ordered path (checked to be one acyclic path) and step changes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from synthcust.exceptions import DataError
from synthcust.simulation.scenarios import parse_change

__all__ = ["apply_step_change", "check_steps", "parse_step_change"]


def _find_cycle(succ: dict[str, list[str]]) -> list[str] | None:
    """A cycle of the directed graph (as a closed list of nodes), or None (iterative DFS)."""
    color: dict[str, int] = dict.fromkeys(succ, 0)
    for root in succ:
        if color[root]:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                color[node] = 1
                path.append(node)
            nxt = succ.get(node, [])
            if i < len(nxt):
                stack.append((node, i + 1))
                child = nxt[i]
                if color.get(child, 0) == 1:
                    return [*path[path.index(child) :], child]
                if color.get(child, 0) == 0:
                    stack.append((child, 0))
            else:
                color[node] = 2
                path.pop()
    return None


def check_steps(steps: str | Sequence[str] | Sequence[tuple[str, str]]) -> list[str]:
    """The ordered steps of a funnel, checked.

    ``steps`` is ``"landing,product,cart"`` (an ordered list), ``"landing>product,product>cart"``
    (edges, in any order), a list of names or a list of ``(from, to)`` pairs. The step graph
    must be acyclic (a cycle is named in the error) and a single path.

    >>> check_steps("cart>checkout,landing>product,product>cart")
    ['landing', 'product', 'cart', 'checkout']
    """
    if isinstance(steps, str):
        parts = [p.strip() for p in steps.split(",") if p.strip()]
        if any(">" in p for p in parts):
            edges = []
            for p in parts:
                chain = [s.strip() for s in p.split(">")]
                if any(not s for s in chain) or len(chain) < 2:
                    raise DataError(f"cannot read the step edge {p!r}; write FROM>TO")
                edges += list(pairwise(chain))
        else:
            edges = list(pairwise(parts))
            if len(parts) == 1:
                raise DataError("a funnel needs at least two steps")
    else:
        items = list(steps)
        if items and all(isinstance(s, tuple | list) for s in items):
            edges = [(str(a), str(b)) for a, b in items]
        else:
            names = [str(s) for s in items]
            if len(names) < 2:
                raise DataError("a funnel needs at least two steps")
            edges = list(pairwise(names))
    if not edges:
        raise DataError("a funnel needs at least two steps")
    succ: dict[str, list[str]] = {}
    pred: dict[str, list[str]] = {}
    for a, b in edges:
        if a == b:
            raise DataError(f"the step order has a cycle: {a} -> {a}")
        succ.setdefault(a, [])
        succ.setdefault(b, [])
        if b not in succ[a]:
            succ[a].append(b)
        pred.setdefault(b, [])
        if a not in pred[b]:
            pred[b].append(a)
    cyc = _find_cycle(succ)
    if cyc:
        raise DataError(
            f"the step order has a cycle: {' -> '.join(cyc)}; a funnel's steps must form a "
            "directed acyclic graph"
        )
    branch = [f"{a} -> {'/'.join(b)}" for a, b in succ.items() if len(b) > 1]
    merge = [f"{'/'.join(p)} -> {b}" for b, p in pred.items() if len(p) > 1]
    if branch or merge:
        raise DataError(
            f"the funnel branches ({'; '.join(branch + merge)}); this model needs a single path "
            "of steps: simulate each path as its own funnel"
        )
    roots = [s for s in succ if s not in pred]
    if len(roots) != 1:
        raise DataError(f"the steps form {len(roots)} separate funnels (starting at {roots})")
    order = [roots[0]]
    while succ[order[-1]]:
        order.append(succ[order[-1]][0])
    return order


_ODDS = re.compile(r"^\s*odds\s*\*\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*$", re.I)


def parse_step_change(text: str) -> tuple[str, float]:
    """``"odds*1.2"`` -> ("odds", 1.2); else the scenario change language (``+0.05``,
    ``-10%``, ``=0.8``, ``*1.1``) applied to the step-through probability.

    >>> parse_step_change("odds*1.2")
    ('odds', 1.2)
    """
    m = _ODDS.match(str(text))
    if m:
        v = float(m.group(1))
        if v <= 0:
            raise DataError(f"an odds multiplier must be > 0, not {v} ({text!r})")
        return ("odds", v)
    return parse_change(text)


def apply_step_change(p: np.ndarray, kind: str, v: float) -> np.ndarray:
    """Step-through probabilities ``p`` after a parsed change (see :func:`parse_step_change`).

    >>> float(apply_step_change(np.array([0.5]), "odds", 3.0)[0])
    0.75
    """
    if kind == "odds":
        return v * p / (1 - p + v * p)
    if kind == "pct":
        return p * (1 + v / 100)
    if kind == "add":
        return p + v
    if kind == "mul":
        return p * v
    return np.full_like(p, v)
