"""The autoregressive synthesizer's network: MADE over column tokens, any generation order.

A masked autoencoder (Germain et al. 2015) whose masks follow a generation order of the columns
given at each call (``rank``), plus an indicator of the columns that come first (``first``), so
one network serves every conditioning set; :func:`register_masked_grad_sampler` teaches opacus
its per-row gradients for DP-SGD. torch is passed in (it is an optional dependency).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = [
    "build_net",
    "canonical_first",
    "masked_linear_class",
    "order_rank",
    "register_masked_grad_sampler",
]


@functools.cache
def masked_linear_class(torch: Any) -> type:
    """``nn.Linear`` whose weight is multiplied by ``self.mask`` (set before each call)."""

    class MaskedLinear(torch.nn.Linear):
        mask: Any = None

        def forward(self, x: Any) -> Any:
            w = self.weight if self.mask is None else self.weight * self.mask
            return torch.nn.functional.linear(x, w, self.bias)

    return MaskedLinear


@functools.cache
def register_masked_grad_sampler(torch: Any) -> None:
    """Per-row gradients of a masked linear for opacus: the linear ones times the mask."""
    from opacus.grad_sample import register_grad_sampler

    @register_grad_sampler(masked_linear_class(torch))
    def _grad_sample(layer: Any, activations: Any, backprops: Any) -> dict[Any, Any]:
        a = activations[0].to(backprops.dtype)
        ret = {}
        if layer.weight.requires_grad:
            gs = torch.einsum("n...i,n...j->nij", backprops, a)
            ret[layer.weight] = gs if layer.mask is None else gs * layer.mask
        if layer.bias is not None and layer.bias.requires_grad:
            ret[layer.bias] = torch.einsum("n...k->nk", backprops)
        return ret


def build_net(torch: Any, n_tokens: list[int], emb: int, hidden: int, layers: int) -> Any:
    """A MADE network over column tokens (``n_tokens`` per column): embeddings of ``emb`` each,
    ``layers`` masked layers of ``hidden`` units and a direct masked connection; its masks are
    rebuilt for each generation order (``net(tokens, rank, first)``)."""
    nn = torch.nn
    Masked = masked_linear_class(torch)

    class MaskedAR(nn.Module):
        """MADE over column tokens; masks are rebuilt for each generation order."""

        def __init__(self) -> None:
            super().__init__()
            m = len(n_tokens)
            self.m = m
            self.n_tokens = list(n_tokens)
            offs = np.concatenate([[0], np.cumsum(n_tokens)])
            self.register_buffer("offsets", torch.as_tensor(offs[:-1], dtype=torch.long))
            self.out_slices = [(int(offs[i]), int(offs[i + 1])) for i in range(m)]
            self.emb = nn.Embedding(int(offs[-1]), emb)
            d_in = m * emb
            self.inp = Masked(d_in, hidden)
            self.cond = nn.Linear(m, hidden, bias=False)  # which columns come first
            self.hid = nn.ModuleList([Masked(hidden, hidden) for _ in range(layers - 1)])
            self.out = Masked(hidden, int(offs[-1]))
            self.direct = Masked(d_in, int(offs[-1]), bias=False)
            nn.init.zeros_(self.direct.weight)
            # degrees in blocks (all units of degree 1, then 2, ...): sampling slices them
            deg = np.sort((np.arange(hidden) % max(m - 1, 1)) + 1)
            self.register_buffer("deg", torch.as_tensor(deg, dtype=torch.long))
            self.register_buffer(
                "in_col", torch.as_tensor(np.repeat(np.arange(m), emb), dtype=torch.long)
            )
            self.register_buffer(
                "out_col",
                torch.as_tensor(np.repeat(np.arange(m), n_tokens), dtype=torch.long),
            )

        def masks(self, rank: Any) -> tuple[Any, Any, Any, Any]:
            """rank[c] = 1-based position of column c in the generation order."""
            r_in = rank[self.in_col]
            r_out = rank[self.out_col]
            m_in = (self.deg[:, None] >= r_in[None, :]).float()
            m_hid = (self.deg[:, None] >= self.deg[None, :]).float()
            m_out = (r_out[:, None] > self.deg[None, :]).float()
            m_dir = (r_out[:, None] > r_in[None, :]).float()
            return m_in, m_hid, m_out, m_dir

        def forward(self, tokens: Any, rank: Any, first: Any) -> Any:
            # masked layers are modules called here (opacus hooks see them), the masks set first
            F = torch.nn.functional
            self.inp.mask, m_hid, self.out.mask, self.direct.mask = self.masks(rank)
            x = self.emb(tokens + self.offsets).flatten(1)
            h = self.inp(x) + self.cond(first)
            h = F.relu(h)
            for lin in self.hid:
                lin.mask = m_hid
                h = F.relu(lin(h))
            return self.out(h) + self.direct(x)

    return MaskedAR()


def canonical_first(torch: Any, first: Any) -> Any:
    """The "first" indicator of an order: a set that is a prefix of the table order gives the
    default order itself, so it is the default (all False) and uses the default-order net."""
    k = int(first.sum())
    if k == 0 or bool(first[:k].all()):
        return torch.zeros(len(first), dtype=torch.bool)
    return first.bool()


def order_rank(torch: Any, first: Any) -> Any:
    """1-based rank of each column: the ``first`` columns (table order), then the rest."""
    m = len(first)
    idx = torch.arange(m)
    order = torch.cat([idx[first], idx[~first]])
    rank = torch.empty(m, dtype=torch.long)
    rank[order] = torch.arange(1, m + 1)
    return rank
