"""CTGAN's moving parts (see :mod:`synthcust.synthesizers.ctgan`): training-by-sampling
(:class:`RowSampler`), the output activation (:class:`GanActivation`), the critic
(:func:`build_critic`) and one training step of either kind (:class:`CTGANTrainer`).
torch is passed in (it is an optional dependency).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from synthcust.synthesizers.neural.modes import DataTransformer
from synthcust.synthesizers.neural.torchutil import autocast

__all__ = [
    "CTGANTrainer",
    "GanActivation",
    "RowSampler",
    "build_critic",
    "one_hot",
    "shifted_cum",
]


class RowSampler:
    """Training-by-sampling, vectorised: conditional categories and matching real rows."""

    def __init__(self, codes: np.ndarray, t: DataTransformer):
        n, q = codes.shape
        self.n_rows, self.n_disc = n, q
        # log-frequency of each category (a category never seen keeps probability 0)
        self.log_cum = shifted_cum([np.log1p(c.astype(float)) for c in t.cat_counts_])
        slots = np.where(codes < 0, t.n_cats_[None, :], codes).astype(np.int64)
        self.slots = slots  # each row's slot per discrete column (DP: a row's own condition)
        # rows of each category: per column, the rows sorted by slot, all columns end to end
        by_col = [np.argsort(slots[:, i], kind="stable") for i in range(q)]
        self.rows = np.concatenate(by_col) if q else np.zeros(0, np.int64)
        counts = np.concatenate(t.cat_counts_) if q else np.zeros(0, np.int64)
        starts = [i * n + np.r_[0, np.cumsum(c)][:-1] for i, c in enumerate(t.cat_counts_)]
        self.start = np.concatenate(starts).astype(np.int64) if q else np.zeros(0, np.int64)
        self.count = counts.astype(np.int64)
        self.col_of = np.repeat(np.arange(q), [len(c) for c in t.cat_counts_])

    def conditions(self, b: int, rng: np.random.Generator) -> np.ndarray:
        """Conditional slot (index into the conditional vector) for ``b`` rows."""
        col = rng.integers(0, self.n_disc, b)
        return np.searchsorted(self.log_cum, col + rng.random(b), side="right")

    def own_conditions(
        self, rows: np.ndarray, offset: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Conditional slot of each given row: its own category in a column drawn uniformly."""
        col = rng.integers(0, self.n_disc, len(rows))
        return offset[col] + self.slots[rows, col]

    def rows_for(self, f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random training row having the category of each conditional slot in ``f``."""
        pick = (rng.random(len(f)) * self.count[f]).astype(np.int64)
        return self.rows[self.start[f] + pick]


def shifted_cum(weights: list[np.ndarray]) -> np.ndarray:
    """Per block i: ``i + cumsum(w / sum(w))`` (last entry exactly ``i + 1``), concatenated."""
    parts = []
    for i, w in enumerate(weights):
        c = np.cumsum(w / w.sum()) if w.sum() > 0 else np.linspace(0, 1, len(w) + 1)[1:]
        c[-1] = 1.0
        parts.append(i + c)
    return np.concatenate(parts) if parts else np.zeros(0)


class GanActivation:
    """tanh on the alpha block; (gumbel-)softmax within every one-hot span, all spans at once.

    A segmented softmax: per-span maxima by one ``scatter_reduce``, per-span sums by one
    ``index_add``, so the cost does not grow with the number of columns (the package loops).
    """

    def __init__(self, torch: Any, t: DataTransformer, dev: Any, tau: float = 0.2):
        self.torch, self.na, self.tau = torch, t.n_alpha_, tau
        soft = [s for s in t.output_info if s.kind == "softmax"]
        self.n_spans = len(soft)
        widths = torch.tensor([s.width for s in soft], dtype=torch.int64)
        self.span = torch.repeat_interleave(torch.arange(self.n_spans), widths).to(dev)

    def __call__(self, logits: Any, gen: Any | None, gumbel: bool = True) -> Any:
        torch = self.torch
        soft = logits[:, self.na :]
        if gumbel:  # -log(-log U) is a Gumbel(0, 1) draw; faster than exponential_ on a CPU
            u = torch.rand(soft.shape, generator=gen, device=soft.device)
            soft = (soft - u.clamp_(min=1e-30).log_().neg_().log_()) / self.tau
        b = soft.shape[0]
        idx = self.span.expand(b, -1)
        # the shift only guards exp() against overflow, so it needs no gradient
        m = torch.full((b, self.n_spans), -torch.inf, device=soft.device)
        m = m.scatter_reduce_(1, idx, soft.detach(), "amax")
        e = (soft - m.index_select(1, self.span)).exp()
        total = torch.zeros_like(m).index_add(1, self.span, e)
        return torch.cat(
            [torch.tanh(logits[:, : self.na]), e / total.index_select(1, self.span)], 1
        )


def one_hot(torch: Any, f: np.ndarray, dim: int, dev: Any) -> Any:
    """Conditional-vector slots ``f`` as float one-hot rows of width ``dim`` on ``dev``."""
    idx = torch.from_numpy(np.ascontiguousarray(f, dtype=np.int64)).to(dev)
    return torch.nn.functional.one_hot(idx, dim).to(torch.float32)


def build_critic(torch: Any, in_dim: int, dims: Sequence[int], pac: int, gen: Any) -> Any:
    """The critic: ``pac`` rows of width ``in_dim`` judged together through layers of ``dims``
    (``Linear -> LeakyReLU(0.2) -> Dropout(0.5)``, the dropout drawn from ``gen``)."""
    nn = torch.nn

    class Critic(nn.Module):
        """PacGAN critic: Linear -> LeakyReLU(0.2) -> Dropout(0.5) per hidden layer."""

        def __init__(self) -> None:
            super().__init__()
            self.pacdim = in_dim * pac
            sizes = [self.pacdim, *[int(h) for h in dims]]
            self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
            self.out = nn.Linear(sizes[-1], 1)

        def forward(self, x: Any) -> Any:
            h = x.reshape(-1, self.pacdim)
            for lin in self.hidden:
                h = torch.nn.functional.leaky_relu(lin(h), 0.2)
                # dropout(0.5) with the seeded generator (nn.Dropout uses the global RNG)
                keep = torch.randint(0, 2, h.shape, generator=gen, device=h.device, dtype=h.dtype)
                h = h * keep * 2.0
            return self.out(h)

        def input_gradient(self, x: Any) -> Any:
            """``d sum(critic(x)) / dx``, differentiable in the weights (for the penalty).

            The critic is piecewise linear in ``x`` (LeakyReLU, dropout masks), so its input
            gradient is ``W_1^T S_1 ... W_L^T S_L w_out`` with ``S_l`` the slopes and masks of
            layer ``l``: a forward pass without a graph finds them, then the product is built
            with the weights in the graph. This is the gradient autograd's double backward
            gives, without its passes whose gradients are identically zero.
            """
            h = x.reshape(-1, self.pacdim)
            slopes = []
            with torch.no_grad():
                for lin in self.hidden:
                    pre = lin(h)
                    keep = torch.randint(0, 2, pre.shape, generator=gen, device=h.device)
                    slope = torch.where(pre > 0, 2.0, 0.4) * keep  # leaky slope x dropout 1/0.5
                    h = pre * slope
                    slopes.append(slope)
            u = self.out.weight.expand(h.shape[0], -1)
            for lin, slope in zip(reversed(self.hidden), reversed(slopes), strict=True):
                u = (u * slope) @ lin.weight
            return u.reshape(x.shape)

    return Critic()


class CTGANTrainer:
    """One CTGAN step (a critic update, then a generator update) on preallocated pieces."""

    def __init__(
        self,
        torch: Any,
        m: Any,  # the CTGANSynthesizer being fitted (its settings and transformer)
        G: Any,
        D: Any,
        data: np.ndarray,
        sampler: RowSampler,
        rng: np.random.Generator,
        gen: Any,
    ):
        self.torch, self.m, self.G, self.D = torch, m, G, D
        self.sampler, self.rng, self.gen, self.dev = sampler, rng, gen, m.device_
        self.data = torch.from_numpy(data).to(m.device_)
        self.B, self.pac = m.batch_, m.pac_
        self.act = GanActivation(torch, m.transformer_, m.device_)
        kw = {"lr": 2e-4, "betas": (0.5, 0.9), "weight_decay": 1e-6, "fused": True}
        self.opt_g = torch.optim.Adam(G.parameters(), **kw)
        self.opt_d = torch.optim.Adam(D.parameters(), **kw)
        self.d_params = list(D.parameters())  # backward into these only, not the interpolates
        t = m.transformer_
        # conditional loss: the logits of each row's conditioned column, gathered at once
        cat_w = np.array([len(c) for c in t.cat_counts_], dtype=np.int64)
        self.cat_w = torch.from_numpy(cat_w).to(self.dev)
        self.cat_start = torch.from_numpy(t.cat_start_.astype(np.int64)).to(self.dev)
        self.wmax = int(cat_w.max(initial=1))
        self.ar = torch.arange(self.wmax, device=self.dev)
        self.offset = m.cat_offset_
        self.precision = m.precision_

    def _noise(self) -> Any:
        return self.torch.randn(self.B, self.m.embedding_dim, generator=self.gen, device=self.dev)

    def step(self, index: Any) -> float:
        with autocast(self.torch, self.dev, self.precision):
            return self._step()

    def _step(self) -> float:
        """Matrix products may run in bfloat16 (autocast); activations and losses in float32."""
        torch, rng, s = self.torch, self.rng, self.sampler
        # ---- critic
        z = self._noise()
        if s.n_disc:
            f = s.conditions(self.B, rng)
            perm = rng.permutation(self.B)
            c1 = one_hot(torch, f, self.m.cond_dim_, self.dev)
            rows = s.rows_for(f[perm], rng)
            z = torch.cat([z, c1], dim=1)
        else:
            rows = rng.integers(0, s.n_rows, self.B)
        real = self.data.index_select(0, torch.from_numpy(rows).to(self.dev))
        with torch.no_grad():
            fake = self.act(self.G(z).float(), self.gen)
        if s.n_disc:
            fake = torch.cat([fake, c1], dim=1)
            real = torch.cat([real, c1[torch.from_numpy(perm).to(self.dev)]], dim=1)
        loss_d, pen = self._critic_losses(real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        torch.autograd.backward(loss_d + pen, inputs=self.d_params)
        self.opt_d.step()
        # ---- generator (critic frozen: its weight gradients would be thrown away)
        z = self._noise()
        if s.n_disc:
            f = s.conditions(self.B, rng)
            c1 = one_hot(torch, f, self.m.cond_dim_, self.dev)
            z = torch.cat([z, c1], dim=1)
        raw = self.G(z).float()
        fake = self.act(raw, self.gen)
        if s.n_disc:
            fake = torch.cat([fake, c1], dim=1)
        self.D.requires_grad_(False)
        loss_g = -self.D(fake).float().mean()
        self.D.requires_grad_(True)
        if s.n_disc:
            loss_g = loss_g + self._cond_loss(raw, f)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        return float(loss_g.detach())

    def set_private_module(self, gsm: Any) -> None:
        """opacus' wrapper of the critic: its per-sample hooks are off in generator updates."""
        self.gsm = gsm

    def _true_conditions(self, b: int) -> np.ndarray:
        """Conditional slots drawn from the true category frequencies (as at sampling)."""
        col = self.rng.integers(0, self.sampler.n_disc, b)
        return np.searchsorted(self.m.freq_cum_, col + self.rng.random(b), side="right")

    def private_step(self, index: Any, opt: Any) -> float:
        """One DP-CTGAN step: a DP-SGD critic update on the Poisson batch, a generator update.

        The critic's loss is the mean over the batch's real rows and ``B`` generated rows of
        the binary cross-entropy of its logit (real = 1); every term is one row's own, so
        opacus' per-sample gradients are each row's gradient and clipping bounds each real
        row's influence. No gradient penalty and ``pac = 1`` (module docstring).
        """
        torch, rng, s = self.torch, self.rng, self.sampler
        sp = torch.nn.functional.softplus
        rows = index.cpu().numpy().astype(np.int64)
        real = self.data.index_select(0, index.to(self.dev))
        z = self._noise()
        if s.n_disc:
            f_fake = self._true_conditions(self.B)
            c_fake = one_hot(torch, f_fake, self.m.cond_dim_, self.dev)
            c_real = one_hot(torch, s.own_conditions(rows, self.offset, rng), self.m.cond_dim_,
                              self.dev)  # fmt: skip
            z = torch.cat([z, c_fake], dim=1)
        with torch.no_grad():
            fake = self.act(self.G(z), self.gen)
        if s.n_disc:
            fake = torch.cat([fake, c_fake], dim=1)
            real = torch.cat([real, c_real], dim=1)
        k = real.shape[0]
        y = self.D(torch.cat([real, fake], dim=0)).squeeze(1)
        loss_d = (sp(-y[:k]).sum() + sp(y[k:]).sum()) / y.shape[0]
        opt.zero_grad(set_to_none=True)
        loss_d.backward()
        opt.step()
        # ---- generator: only through the (noisily trained) critic: post-processing
        z = self._noise()
        if s.n_disc:
            f = self._true_conditions(self.B)
            c1 = one_hot(torch, f, self.m.cond_dim_, self.dev)
            z = torch.cat([z, c1], dim=1)
        raw = self.G(z)
        fake = self.act(raw, self.gen)
        if s.n_disc:
            fake = torch.cat([fake, c1], dim=1)
        self.D.requires_grad_(False)
        self.gsm.disable_hooks()
        try:
            loss_g = sp(-self.D(fake)).mean()
            if s.n_disc:
                loss_g = loss_g + self._cond_loss(raw, f)
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
        finally:
            self.gsm.enable_hooks()
            self.D.requires_grad_(True)
        self.opt_g.step()
        return float(loss_g.detach())

    def _critic_losses(self, real: Any, fake: Any) -> tuple[Any, Any]:
        """Wasserstein loss (real and fake packs in one pass) and gradient penalty (lambda 10)."""
        torch = self.torch
        n, d = real.shape
        k = n // self.pac
        y = self.D(torch.cat([real, fake], dim=0)).float()
        loss = y[k:].mean() - y[:k].mean()
        alpha = torch.rand(k, 1, 1, generator=self.gen, device=self.dev)
        alpha = alpha.expand(k, self.pac, d).reshape(n, d)
        grad = self.D.input_gradient(alpha * real + (1 - alpha) * fake).float()
        pen = ((grad.reshape(-1, self.pac * d).norm(2, dim=1) - 1) ** 2).mean() * 10.0
        return loss, pen

    def _cond_loss(self, raw: Any, f: np.ndarray) -> Any:
        """Cross-entropy of each row's conditioned column against its condition."""
        torch = self.torch
        col_np = self.sampler.col_of[f]
        col = torch.from_numpy(col_np).to(self.dev)
        target = torch.from_numpy(f - self.offset[col_np]).to(self.dev)
        idx = (self.cat_start[col][:, None] + self.ar[None, :]).clamp_(max=raw.shape[1] - 1)
        logits = raw.gather(1, idx).masked_fill(
            self.ar[None, :] >= self.cat_w[col][:, None], float("-inf")
        )
        return torch.nn.functional.cross_entropy(logits, target)
