"""TVAE: the tabular variational autoencoder of Xu et al. (NeurIPS 2019), vectorised.

Method, as in the paper and the reference ``ctgan`` package (sdv-dev/CTGAN, ``TVAE``):

* rows are encoded by the mode-specific normalisation of CTGAN
  (:class:`~synthcust.synthesizers.neural.modes.DataTransformer`): an ``alpha`` in
  ``[-1, 1]`` per continuous value and one-hots for its mode and for categories;
* encoder ``Linear -> ReLU`` layers (``compress_dims``) to the mean and log-variance of a
  ``embedding_dim``-dimensional Gaussian; decoder ``Linear -> ReLU`` layers
  (``decompress_dims``) back to the row, plus one learned standard deviation per alpha
  (clamped to ``[0.01, 1]``);
* loss per row = ``loss_factor`` x (Gaussian negative log-likelihood of each alpha around
  ``tanh`` of its output + cross-entropy of each one-hot) + KL divergence to ``N(0, I)``;
  Adam ``lr 1e-3, weight decay 1e-5``; shuffled batches;
* sampling decodes standard normal noise; alphas are ``tanh`` of the output plus Gaussian noise
  of the learned deviation.

What is done differently: each one-hot (a category, a value's mode) is **drawn from the
decoder's softmax**, the distribution the loss fits, where the package takes its largest entry;
with argmax decoding a rare category that the decoder never ranks first is never produced, and
a small table (where the latent carries little) collapses onto its most frequent categories.
The reconstruction loss is computed for all columns at once (a
segmented log-sum-exp over the one-hot spans, one gather for the targets) instead of a Python
loop over columns; every random draw uses a seeded generator, so the same ``random_state``
gives the same model and rows. Conditions are met exactly by keeping only generated rows that
meet them, in a bounded number of rounds
(:func:`~synthcust.synthesizers.neural.modes.sample_until`).

Differential privacy (``dp_epsilon`` set): training runs as DP-SGD under opacus
(:mod:`~synthcust.synthesizers.neural.dpsgd`): Poisson-sampled batches, each row's gradient
clipped to ``max_grad_norm``, Gaussian noise calibrated by the ``"rdp"`` or ``"prv"`` accountant
so that the planned epochs spend at most ``dp_epsilon`` at ``dp_delta``; the learned deviations
live in a layer with an opacus per-sample gradient, matrix products run in float32, and there
is no early stopping or validation on the private rows. **The guarantee covers the network
weights only**: the mode-specific transform (Gaussian modes, point masses, value ranges per
column), the codec (category lists, missing-value markers, formats) and the row count are
fitted on the private data without noise and are part of the saved model; ``privacy_`` lists
them under ``"not_covered"``. Use the DP marginal synthesizer (``dp_marginal``) when the whole
release must be private.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from synthcust.exceptions import ModelError
from synthcust.synthesizers.conditions import Condition
from synthcust.synthesizers.neural.dpsgd import check_dp_params, sigma_layer_class, train_private
from synthcust.synthesizers.neural.modebase import ModeNormSynthesizer, device_generator
from synthcust.synthesizers.neural.modes import sample_until, span_argmax, value_shower
from synthcust.synthesizers.neural.torchutil import (
    arrays_to_state,
    autocast,
    deterministic,
    require_torch,
    resolve_device,
    state_to_arrays,
    torch_seed,
)
from synthcust.synthesizers.neural.training import TrainLog
from synthcust.transform.codec import Encoded

_GEN_CHUNK = 50_000  # rows per decoder pass when sampling


class TVAESynthesizer(ModeNormSynthesizer):
    """Tabular variational autoencoder (TVAE), see the module docstring for the method.

    Parameters
    ----------
    epochs : passes over the data.
    batch_size : rows per step (clipped to the number of rows).
    embedding_dim : size of the latent space.
    compress_dims, decompress_dims : hidden layer sizes of the encoder and decoder.
    loss_factor : weight of the reconstruction loss against the KL divergence.
    max_training_time : stop training after this many seconds (``None``: no limit).
    device : ``"cpu"``, ``"cuda"`` or ``None`` (a GPU when there is one).
    precision : ``"auto"`` (bfloat16 mixed precision on a CPU with native bfloat16 units,
        float32 elsewhere), ``"float32"`` or ``"bfloat16"``; see
        :func:`~synthcust.synthesizers.neural.torchutil.resolve_precision`.
    threads : torch threads while training and sampling (default: all cores).
    random_state : seed for training and the default for sampling.
    verbose : show progress: a Rich bar on a terminal, else a status line every ~10 s
        (``None``: the bar only on a terminal; ``False``: nothing).
    dp_epsilon : train with DP-SGD spending at most this epsilon (``None``: no differential
        privacy). Covers the network weights only, see the module docstring and ``privacy_``.
    dp_delta : the delta of the guarantee; must be below 1/n (n = training rows).
    max_grad_norm : DP-SGD's bound on each row's gradient (L2 over all weights).
    dp_accountant : ``"rdp"`` (Renyi DP) or ``"prv"`` (privacy random variables, tighter).
    secure_noise : ``True`` (default): DP-SGD's batch sampling and noise come from fresh
        operating-system entropy at every fit, never from ``random_state`` (noise from a seed
        someone knows protects nothing); ``False`` makes a DP fit reproducible and is recorded
        in ``privacy_`` as not private.

    Attributes
    ----------
    precision_ : the precision training used (``"float32"`` or ``"bfloat16"``).
    training_log_ : :class:`~synthcust.synthesizers.neural.training.TrainLog`; its
        ``train_loss`` is the loss per row (reconstruction x ``loss_factor`` + KL) per epoch.
    transformer_ : the fitted :class:`~synthcust.synthesizers.neural.modes.DataTransformer`.
    privacy_ : only after a DP fit: epsilon actually spent (accountant, steps run), delta,
        mechanism, noise multiplier, clipping bound, sample rate, epochs and steps, and
        ``"not_covered"``: what the fit released without noise.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62, 38] * 20,
    ...                    "plan": ["basic", "pro", "pro", "basic", "pro", "basic"] * 20})
    >>> m = TVAESynthesizer(epochs=5, random_state=0).fit(df)
    >>> out = m.sample(5, conditions={"plan": "pro"})
    >>> sorted(out["plan"].unique()), m.training_log_.epochs_run
    (['pro'], 5)
    """

    name = "tvae"
    label = "TVAE"
    int_params = ("embedding_dim",)
    layer_params = ("compress_dims", "decompress_dims")

    def __init__(
        self,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        compress_dims: Sequence[int] = (128, 128),
        decompress_dims: Sequence[int] = (128, 128),
        loss_factor: float = 2.0,
        max_training_time: float | None = None,
        device: str | None = None,
        precision: str = "auto",
        threads: int | None = None,
        random_state: int | None = None,
        verbose: bool | None = None,
        dp_epsilon: float | None = None,
        dp_delta: float = 1e-9,
        max_grad_norm: float = 1.0,
        dp_accountant: str = "rdp",
        secure_noise: bool = True,
    ):
        super().__init__(random_state)
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.compress_dims = compress_dims
        self.decompress_dims = decompress_dims
        self.loss_factor = loss_factor
        self.max_training_time = max_training_time
        self.device = device
        self.precision = precision
        self.threads = threads
        self.verbose = verbose
        self.dp_epsilon = dp_epsilon
        self.dp_delta = dp_delta
        self.max_grad_norm = max_grad_norm
        self.dp_accountant = dp_accountant
        self.secure_noise = secure_noise

    # ------------------------------------------------------------------ fit
    def _fit(self, enc: Encoded, rng: np.random.Generator) -> None:
        self.__dict__.pop("privacy_", None)
        if self.dp_epsilon is not None:
            # checked before anything is fitted on the rows
            self._check_params()
            n_rows = enc.numeric.shape[0] if enc.numeric.shape[1] else enc.codes.shape[0]
            check_dp_params(
                self.dp_epsilon, self.dp_delta, self.max_grad_norm, self.dp_accountant, n_rows
            )
        torch, n = self._prepare(enc, rng)
        t = self.transformer_
        self.batch_ = min(self.batch_size, n)
        if t.output_dim == 0:  # only constants / ids: nothing to learn
            self.decoder_ = None
            self.training_log_ = TrainLog(stopped="epochs")
            return
        data = t.transform(enc, rng)
        if self.dp_epsilon is not None:
            self._fit_private(torch, data, n, rng)
            return
        nets: dict[str, Any] = {}

        def build(torch: Any, dgen: Any) -> Any:
            E = _mlp(torch, t.output_dim, self.compress_dims, 2 * self.embedding_dim)
            Dec = self._build_decoder(torch)
            E, Dec = E.to(self.device_), Dec.to(self.device_)
            nets["D"] = Dec
            return _Trainer(torch, self, E, Dec, data, dgen).step

        self._train(torch, rng, n, self.batch_, build)
        self.decoder_ = nets["D"].eval()

    def _fit_private(self, torch: Any, data: np.ndarray, n: int, rng: np.random.Generator) -> None:
        """DP-SGD (see :mod:`~synthcust.synthesizers.neural.dpsgd`); sets ``privacy_``."""
        t = self.transformer_
        self.precision_ = "float32"  # per-sample gradients in float32, no autocast
        sigma_layer = sigma_layer_class()
        init_seed, seed = torch_seed(rng), torch_seed(rng)
        with deterministic(seed, self.threads) as gen:
            dgen = device_generator(torch, gen, self.device_)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(init_seed)
                E = _mlp(torch, t.output_dim, self.compress_dims, 2 * self.embedding_dim)
                Dec = _mlp(torch, self.embedding_dim, self.decompress_dims, t.output_dim)
                S = sigma_layer(t.n_alpha_)
                vae = torch.nn.ModuleDict({"E": E, "D": Dec, "S": S}).to(self.device_)
                trainer = _Trainer(torch, self, E, Dec, data, dgen, sigma_layer=S)
            self.training_log_, self.privacy_ = train_private(
                torch,
                module=vae,
                optimizer=trainer.opt,
                step=trainer.private_step,
                n_rows=n,
                batch_size=self.batch_,
                epochs=self.epochs,
                epsilon=float(self.dp_epsilon),
                delta=float(self.dp_delta),
                max_grad_norm=float(self.max_grad_norm),
                accountant=self.dp_accountant,
                sampler_generator=gen,
                noise_generator=dgen,
                secure_noise=bool(self.secure_noise),
                max_training_time=self.max_training_time,
                progress=self.verbose,
                description=f"{self.label} (DP-SGD)",
            )
        # the decoder as the non-private fit stores it: a Sequential with a ``sigma`` parameter
        Dec.sigma = torch.nn.Parameter(S.sigma.detach().clone())
        self.decoder_ = Dec.eval()

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self.loss_factor, int | float) or not self.loss_factor > 0:
            raise ModelError(f"loss_factor must be a positive number, got {self.loss_factor!r}")

    def _build_decoder(self, torch: Any) -> Any:
        t = self.transformer_
        dec = _mlp(torch, self.embedding_dim, self.decompress_dims, t.output_dim)
        # one learned deviation per alpha (the package keeps one per output, uses these)
        dec.sigma = torch.nn.Parameter(torch.full((t.n_alpha_,), 0.1))
        return dec

    # ------------------------------------------------------------------ sample
    def _sample(self, n: int, conds: list[Condition], rng: np.random.Generator) -> Encoded:
        t = self.transformer_
        t.check_conditions(conds, value_shower(self.codec_))
        if self.decoder_ is None:
            return Encoded(np.empty((n, 0)), np.empty((n, 0), np.int32), [], [])
        torch = require_torch()
        sigma = self.decoder_.sigma.detach().cpu().numpy().astype(float)
        with self._sampling_context(rng) as gen:
            dgen = device_generator(torch, gen, self.device_)

            def draw(m: int) -> Encoded:
                return t.inverse(self._generate(torch, m, dgen), rng, alpha_sigma=sigma)

            return sample_until(draw, n, conds)

    def _generate(self, torch: Any, m: int, gen: Any) -> np.ndarray:
        out = np.empty((m, self.transformer_.output_dim), dtype=np.float32)
        na = self.transformer_.n_alpha_
        with torch.no_grad():
            for a in range(0, m, _GEN_CHUNK):
                b = min(_GEN_CHUNK, m - a)
                z = torch.randn(b, self.embedding_dim, generator=gen, device=self.device_)
                rec = self.decoder_(z)
                # a one-hot is drawn from the decoder's softmax (Gumbel-max), not its argmax
                u = torch.rand(rec.shape[0], rec.shape[1] - na, generator=gen, device=rec.device)
                g = u.clamp_(min=1e-30).log_().neg_().log_().neg_()
                out[a : a + b] = (
                    torch.cat([torch.tanh(rec[:, :na]), rec[:, na:] + g], 1).cpu().numpy()
                )
        return out

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = self._base_state()
        if self.decoder_ is not None:
            arrays.update(state_to_arrays(self.decoder_.state_dict(), "d."))
        state.update(batch_size=self.batch_, has_decoder=self.decoder_ is not None)
        if getattr(self, "privacy_", None) is not None:
            state["privacy"] = self.privacy_
        return state, arrays

    def _from_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self._load_base(state, arrays)
        self.batch_ = int(state["batch_size"])
        if "privacy" in state:
            self.privacy_ = dict(state["privacy"])
        self.decoder_ = None
        if state["has_decoder"]:
            torch = require_torch()
            self.device_ = resolve_device(self.device)
            dec = self._build_decoder(torch)
            dec.load_state_dict(arrays_to_state(arrays, "d."))
            self.decoder_ = dec.to(self.device_).eval()


def _mlp(torch: Any, d_in: int, hidden: Sequence[int], d_out: int) -> Any:
    """``Linear -> ReLU`` per hidden size, then a ``Linear`` to ``d_out``."""
    nn = torch.nn
    layers: list[Any] = []
    for h in hidden:
        layers += [nn.Linear(d_in, int(h)), nn.ReLU()]
        d_in = int(h)
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


class _Trainer:
    """One TVAE step on a batch of row indices; the loss for all columns at once."""

    def __init__(
        self,
        torch: Any,
        m: TVAESynthesizer,
        E: Any,
        Dec: Any,
        data: np.ndarray,
        gen: Any,
        sigma_layer: Any = None,
    ):
        t = m.transformer_
        self.torch, self.E, self.Dec, self.gen, self.dev = torch, E, Dec, gen, m.device_
        self.emb, self.factor, self.na = m.embedding_dim, float(m.loss_factor), t.n_alpha_
        self.data = torch.from_numpy(data).to(self.dev)
        soft = [s for s in t.output_info if s.kind == "softmax"]
        self.n_spans = len(soft)
        widths = torch.tensor([s.width for s in soft], dtype=torch.int64)
        self.span = torch.repeat_interleave(torch.arange(self.n_spans), widths).to(self.dev)
        # the position of each row's one in every span, found once
        starts = np.array([s.start - t.n_alpha_ for s in soft], dtype=np.int64)
        slot = span_argmax(data[:, t.n_alpha_ :], starts, widths.numpy())
        self.target = torch.from_numpy(slot + starts[None, :]).to(self.dev)
        params = list(E.parameters()) + list(Dec.parameters())
        self.S = sigma_layer
        if sigma_layer is None:
            self.opt = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-5, fused=True)
        else:  # DP-SGD: opacus wraps this optimiser (its noisy gradients feed Adam)
            params += list(sigma_layer.parameters())
            self.opt = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-5)
        self.precision = m.precision_

    def step(self, index: Any) -> float:
        """Matrix products may run in bfloat16 (autocast); the loss is computed in float32."""
        torch = self.torch
        idx = index.to(self.dev)
        x = self.data.index_select(0, idx)
        b = x.shape[0]
        with autocast(torch, self.dev, self.precision):
            h = self.E(x).float()
            mu, logvar = h[:, : self.emb], h[:, self.emb :]
            eps = torch.randn(mu.shape, generator=self.gen, device=self.dev)
            rec = self.Dec(mu + eps * torch.exp(0.5 * logvar)).float()
        sigma = self.Dec.sigma
        # Gaussian NLL of the alphas around tanh(output), learned deviation per column
        err = x[:, : self.na] - torch.tanh(rec[:, : self.na])
        loss = (err * err / (2 * sigma * sigma)).sum() + b * torch.log(sigma).sum()
        if self.n_spans:
            loss = loss + self._cross_entropy(rec[:, self.na :], self.target.index_select(0, idx))
        kld = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp())
        total = (loss * self.factor + kld) / b
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        with torch.no_grad():
            sigma.clamp_(0.01, 1.0)
        return float(total.detach())

    def private_step(self, index: Any, opt: Any) -> float:
        """One DP-SGD step: the mean loss of the (Poisson, maybe empty) batch, float32.

        Every term is a sum of per-row terms (the deviations enter as ``S(x)``, one copy per
        row), so opacus' per-sample gradients are each row's own gradient.
        """
        torch = self.torch
        idx = index.to(self.dev)
        x = self.data.index_select(0, idx)
        b = x.shape[0]
        h = self.E(x)
        mu, logvar = h[:, : self.emb], h[:, self.emb :]
        eps = torch.randn(mu.shape, generator=self.gen, device=self.dev)
        rec = self.Dec(mu + eps * torch.exp(0.5 * logvar))
        sigma = self.S(x)
        err = x[:, : self.na] - torch.tanh(rec[:, : self.na])
        loss = (err * err / (2 * sigma * sigma)).sum() + torch.log(sigma).sum()
        if self.n_spans:
            loss = loss + self._cross_entropy(rec[:, self.na :], self.target.index_select(0, idx))
        kld = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp())
        total = (loss * self.factor + kld) / max(b, 1)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        with torch.no_grad():
            self.S.sigma.clamp_(0.01, 1.0)
        return float(total.detach())

    def _cross_entropy(self, logits: Any, target: Any) -> Any:
        """Summed cross-entropy of every one-hot span: segmented log-sum-exp minus target."""
        torch = self.torch
        b = logits.shape[0]
        m = torch.full((b, self.n_spans), -torch.inf, device=self.dev)
        m = m.scatter_reduce_(1, self.span.expand(b, -1), logits.detach(), "amax")
        e = (logits - m.index_select(1, self.span)).exp()
        lse = torch.zeros_like(m).index_add(1, self.span, e).log() + m
        return (lse - logits.gather(1, target)).sum()
