"""Training the autoregressive synthesizer's network: the plain fit (validation split, early
stopping, learning-rate decay) and the DP-SGD fit (all rows, planned epochs, opacus).

Both take the model for its settings and tokenisation and return what it stores (``net_``,
``training_log_``, ``privacy_``); the flexible generation orders come from :func:`flex_order`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthcust.synthesizers.neural.dpsgd import NOT_COVERED, train_private
from synthcust.synthesizers.neural.made import (
    build_net,
    canonical_first,
    order_rank,
    register_masked_grad_sampler,
)
from synthcust.synthesizers.neural.modebase import device_generator
from synthcust.synthesizers.neural.torchutil import deterministic, resolve_device, torch_seed
from synthcust.synthesizers.neural.training import TrainLog, train_loop

__all__ = ["AR_NOT_COVERED", "flex_order", "train_ar", "train_ar_private"]

#: what a private fit of this model releases without noise (its ``privacy_["not_covered"]``)
AR_NOT_COVERED = [
    "the tokenisation (per-column quantile bin edges, exact spike values, within-bin value "
    "knots, category lists, value ranges) is fitted on the private data without noise",
    *NOT_COVERED[1:],
]


def train_ar(
    model: Any, torch: Any, tok: np.ndarray, names: list[str], rng: np.random.Generator
) -> tuple[Any, TrainLog]:
    """Train the autoregressive network of ``model`` (its settings and ``tokens_``) on the
    token matrix ``tok``, a validation share held out for early stopping and learning-rate
    decay.

    Returns
    -------
    tuple
        The trained network (on the CPU, in eval mode) and the training log.
    """
    n = len(tok)
    n_val = round(model.validation_share * n) if n >= 20 else 0
    perm = rng.permutation(n)
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    dev = resolve_device(model.device)
    seed = torch_seed(rng)
    with deterministic(seed, model.threads) as gen:
        net = build_net(torch, [t.n_tokens for t in model.tokens_], model.embedding_dim,
                         model.hidden_, model.layers).to(dev)  # fmt: skip
        with torch.no_grad():  # start from the marginals: the first column is exact at once
            bias = np.concatenate(
                [
                    np.log((np.bincount(tok[tr_idx, c], minlength=t.n_tokens) + 0.5)
                           / (len(tr_idx) + 0.5 * t.n_tokens))
                    for c, t in enumerate(model.tokens_)
                ]
            )  # fmt: skip
            net.out.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
        T = torch.as_tensor(tok[tr_idx], dtype=torch.long, device=dev)
        V = torch.as_tensor(tok[val_idx], dtype=torch.long, device=dev)
        opt = torch.optim.AdamW(
            net.parameters(), lr=model.learning_rate, weight_decay=model.weight_decay
        )
        m = len(names)
        default_rank = torch.arange(1, m + 1, device=dev)
        no_first = torch.zeros(m, device=dev)
        # small tables: smaller batches, so that an epoch still makes ~20 steps
        bs = max(2, min(model.batch_size, max(16, len(tr_idx) // 20), len(tr_idx)))

        def nll(logits: Any, target: Any) -> Any:
            F = torch.nn.functional
            total = 0.0
            for c, (a, b) in enumerate(net.out_slices):
                total = total + F.cross_entropy(logits[:, a:b], target[:, c])
            return total

        def step(idx: Any) -> float:
            net.train()
            batch = T[idx.to(dev)]
            rank, first = default_rank, no_first
            if (
                m > 1
                and model.flex_share > 0
                and torch.rand(1, generator=gen).item() < model.flex_share
            ):
                rank, first = flex_order(torch, m, gen, dev)
            loss = nll(net(batch, rank, first.expand(len(batch), m)), batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return float(loss.detach())

        best_val = [float("inf")]

        def validate() -> float:
            net.eval()
            with torch.no_grad():
                tot = 0.0
                for s in range(0, len(V), 8192):
                    b = V[s : s + 8192]
                    tot += float(nll(net(b, default_rank, no_first.expand(len(b), m)), b)) * len(b)
                v = tot / max(len(V), 1)
            # halve the learning rate when the validation loss stops improving: the last
            # epochs then refine instead of overfitting
            if v > best_val[0] - 1e-4:
                for g in opt.param_groups:
                    g["lr"] *= model.lr_decay
            best_val[0] = min(best_val[0], v)
            return v

        def get_state() -> Any:
            return {k: v.detach().clone() for k, v in net.state_dict().items()}

        log = train_loop(
            n_rows=len(tr_idx),
            step=step,
            epochs=model.epochs,
            batch_size=bs,
            generator=gen,
            validate=validate if n_val else None,
            get_state=get_state,
            set_state=net.load_state_dict,
            patience=model.patience,
            max_training_time=model.max_training_time,
            progress=model.verbose,
            description="autoregressive",
        )
    return net.cpu().eval(), log


def train_ar_private(
    model: Any, torch: Any, tok: np.ndarray, rng: np.random.Generator
) -> tuple[Any, TrainLog, dict[str, Any]]:
    """DP-SGD over all rows of ``tok`` for the planned epochs (see
    :mod:`synthcust.synthesizers.autoregressive`). No validation split, early stopping or
    learning-rate decay: each would be driven by a loss on private rows that the accountant
    does not count.

    Returns
    -------
    tuple
        The trained network (CPU, eval mode), the training log and the privacy record.
    """
    register_masked_grad_sampler(torch)
    n, m = tok.shape
    dev = resolve_device(model.device)
    seed = torch_seed(rng)
    with deterministic(seed, model.threads) as gen:
        net = build_net(torch, [t.n_tokens for t in model.tokens_], model.embedding_dim,
                         model.hidden_, model.layers).to(dev)  # fmt: skip
        with torch.no_grad():  # uniform start: the rows' marginals would be a release
            net.out.bias.zero_()
        T = torch.as_tensor(tok, dtype=torch.long, device=dev)
        opt = torch.optim.AdamW(
            net.parameters(), lr=model.learning_rate, weight_decay=model.weight_decay
        )
        default_rank = torch.arange(1, m + 1, device=dev)
        no_first = torch.zeros(m, device=dev)
        F = torch.nn.functional

        def step(idx: Any, popt: Any) -> float:
            net.train()
            batch = T.index_select(0, idx.to(dev))
            b = batch.shape[0]
            rank, first = default_rank, no_first
            # the order is drawn independently of the rows: it costs no privacy
            if (
                m > 1
                and model.flex_share > 0
                and torch.rand(1, generator=gen).item() < model.flex_share
            ):
                rank, first = flex_order(torch, m, gen, dev)
            logits = net(batch, rank, first.expand(b, m))
            total = logits.new_zeros(())
            for c, (a, e) in enumerate(net.out_slices):
                total = total + F.cross_entropy(logits[:, a:e], batch[:, c], reduction="sum")
            loss = total / max(b, 1)  # the mean over rows of each row's NLL (0 rows: 0)
            popt.zero_grad(set_to_none=True)
            loss.backward()
            popt.step()
            return float(loss.detach())

        log, privacy = train_private(
            torch,
            module=net,
            optimizer=opt,
            step=step,
            n_rows=n,
            batch_size=min(model.batch_size, n),
            epochs=model.epochs,
            epsilon=float(model.dp_epsilon),
            delta=float(model.dp_delta),
            max_grad_norm=float(model.max_grad_norm),
            accountant=model.dp_accountant,
            sampler_generator=gen,
            noise_generator=device_generator(torch, gen, dev),
            secure_noise=bool(model.secure_noise),
            max_training_time=model.max_training_time,
            progress=model.verbose,
            description="autoregressive (DP-SGD)",
        )
    privacy["not_covered"] = list(AR_NOT_COVERED)
    privacy["validation"] = "none: all rows train, no early stopping, no learning-rate decay"
    return net.cpu().eval(), log, privacy


def flex_order(torch: Any, m: int, gen: Any, dev: Any) -> tuple[Any, Any]:
    """A random subset S first (1 column in 60% of draws, else 2..4), then the rest."""
    r = float(torch.rand(1, generator=gen))
    k = 1 if r < 0.6 else 2 if r < 0.85 else 3 if r < 0.95 else 4
    k = min(k, m - 1)
    chosen = torch.randperm(m, generator=gen)[:k]
    first = torch.zeros(m, dtype=torch.bool)
    first[chosen] = True
    first = canonical_first(torch, first)
    return order_rank(torch, first).to(dev), first.float().to(dev)
