"""CTGAN: the conditional tabular GAN of Xu et al. (NeurIPS 2019), fast on a CPU.

Method, as in the paper and the reference ``ctgan`` package (sdv-dev/CTGAN):

* **Mode-specific normalisation** of continuous columns and one-hot categories
  (:class:`~synthcust.synthesizers.neural.modes.DataTransformer`).
* **Conditional vector and training-by-sampling**: every step picks a discrete column uniformly
  and one of its categories with probability proportional to the log of its frequency; the
  generator gets that one-hot with its noise, the critic sees real rows drawn from that category,
  and the generator loss adds the cross-entropy between the condition and the generated one-hot.
* **WGAN-GP critic with PacGAN**: ``pac`` rows are judged together; gradient penalty
  ``lambda = 10``; critic ``Linear -> LeakyReLU(0.2) -> Dropout(0.5)`` per layer.
* **Generator** of residual layers (``Linear -> BatchNorm -> ReLU``, concatenated with the
  input), ``tanh`` for the alphas and gumbel-softmax (``tau = 0.2``) for the one-hots; Adam
  ``lr 2e-4, betas (0.5, 0.9), weight decay 1e-6`` for both networks, one critic step per
  generator step, ``len(data) // batch_size`` steps per epoch.

What is done differently, for speed (the maths per step is the same):

* the conditional vector and the matching real rows are drawn for the whole batch at once from
  per-category row-index tables (the package loops over rows in Python);
* the transform's layout groups one-hot spans by width, so the gumbel-softmax is one reshaped
  softmax per width and the conditional loss one gather (the package loops over columns);
* the generator runs under ``no_grad`` in the critic step and the critic's weights are frozen in
  the generator step, so no gradient is computed that is thrown away;
* every random draw uses a seeded generator (our own dropout takes one too), so the same
  ``random_state`` gives the same model and the same rows.

Sampling draws the conditional vector from the true category frequencies (as the package
does), so the generated mixture is the data distribution, and uses the generator's BatchNorm
running statistics (``eval`` mode; the package keeps batch statistics), so a row does not
depend on the rows generated beside it and a conditional vector that is the same for every row
is not partly normalised away. Conditions are met by rejection: rows are drawn exactly as
unconditional ones (the conditional vector from the category frequencies) and only those
meeting every condition are kept
(:func:`~synthcust.synthesizers.neural.modes.sample_until`), so a conditional sample follows
the model's own distribution restricted to the condition, exactly. (Driving the conditional
vector with a categorical condition, as the package does, would instead draw from the
generator's branch for that category, a different distribution than the model's unconditional
rows in that category: issue 19.)

Differential privacy (``dp_epsilon`` set), in the manner of DP-CTGAN (Fang et al. 2022) and
smartnoise-synth's ``DPCTGAN``: only the critic sees real rows, so only the critic is trained
with DP-SGD (:mod:`~synthcust.synthesizers.neural.dpsgd`: Poisson-sampled real rows, each row's
gradient clipped to ``max_grad_norm``, Gaussian noise calibrated by the accountant); the
generator learns only through the noisy critic, which is post-processing. Three changes make
that sound: (1) the critic judges rows one at a time (``pac = 1``: a pack would mix rows in one
gradient); (2) no gradient penalty (it is a gradient of a gradient, which per-sample clipping
does not bound) — the critic and generator use the non-saturating GAN loss (binary
cross-entropy on the critic's logit), as DP-CTGAN does; (3) training-by-sampling would pick
real rows *by category*, a data-dependent selection the accountant does not model, so each
Poisson-sampled real row is shown with the conditional vector of its own category in a
column drawn at random, and the generator's conditional vectors follow the true category
frequencies, as at sampling time. **The guarantee covers the network weights only**: the
mode-specific transform, the category frequencies used for conditional vectors, the codec and
the row count are released without noise; ``privacy_`` lists them under ``"not_covered"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from synthcust.synthesizers.conditions import Condition
from synthcust.synthesizers.neural.ctgan_parts import (
    CTGANTrainer,
    GanActivation,
    RowSampler,
    build_critic,
    one_hot,
    shifted_cum,
)
from synthcust.synthesizers.neural.dpsgd import NOT_COVERED, check_dp_params, train_private
from synthcust.synthesizers.neural.modebase import ModeNormSynthesizer, device_generator
from synthcust.synthesizers.neural.modes import sample_until, value_shower
from synthcust.synthesizers.neural.torchutil import (
    arrays_to_state,
    deterministic,
    require_torch,
    resolve_device,
    state_to_arrays,
    torch_seed,
)
from synthcust.synthesizers.neural.training import TrainLog
from synthcust.transform.codec import Encoded

__all__ = ["CTGANSynthesizer", "RowSampler"]

_GEN_CHUNK = 20_000  # rows per generator forward pass when sampling


class CTGANSynthesizer(ModeNormSynthesizer):
    """Conditional tabular GAN (CTGAN), see the module docstring for the method.

    Parameters
    ----------
    epochs : passes over the data (``len(data) // batch_size`` steps each).
    batch_size : rows per step; clipped to the number of rows and rounded down to a multiple
        of ``pac``.
    embedding_dim : size of the generator's noise input.
    generator_dim, discriminator_dim : hidden layer sizes.
    pac : rows the critic judges together (PacGAN); lowered when there are fewer rows.
    max_training_time : stop training after this many seconds (``None``: no limit).
    device : ``"cpu"``, ``"cuda"`` or ``None`` (a GPU when there is one).
    precision : ``"auto"`` (bfloat16 mixed precision on a CPU with native bfloat16 units,
        float32 elsewhere), ``"float32"`` or ``"bfloat16"``; see
        :func:`~synthcust.synthesizers.neural.torchutil.resolve_precision`.
    threads : torch threads while training and sampling (default: all cores).
    random_state : seed for training and the default for sampling.
    verbose : show progress: a Rich bar on a terminal, else a status line every ~10 s
        (``None``: the bar only on a terminal; ``False``: nothing).
    dp_epsilon : train the critic with DP-SGD spending at most this epsilon (``None``: no
        differential privacy). Covers the network weights only; see the module docstring.
    dp_delta : the delta of the guarantee; must be below 1/n (n = training rows).
    max_grad_norm : DP-SGD's bound on each real row's critic gradient (L2 over all weights).
    dp_accountant : ``"rdp"`` (Renyi DP) or ``"prv"`` (privacy random variables, tighter).
    secure_noise : ``True`` (default): DP-SGD's batch sampling and noise come from fresh
        operating-system entropy; ``False`` makes a DP fit reproducible and is recorded in
        ``privacy_`` as not private.

    Attributes
    ----------
    precision_ : the precision training used (``"float32"`` or ``"bfloat16"``).
    training_log_ : :class:`~synthcust.synthesizers.neural.training.TrainLog`; its
        ``train_loss`` is the generator loss per epoch (critic score + conditional loss).
    transformer_ : the fitted :class:`~synthcust.synthesizers.neural.modes.DataTransformer`.
    privacy_ : only after a DP fit: epsilon actually spent, delta, mechanism, noise multiplier,
        clipping bound, sample rate, epochs and steps, and ``"not_covered"``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62, 38] * 20,
    ...                    "plan": ["basic", "pro", "pro", "basic", "pro", "basic"] * 20})
    >>> m = CTGANSynthesizer(epochs=2, random_state=0).fit(df)
    >>> out = m.sample(5, conditions={"plan": "pro"})
    >>> sorted(out["plan"].unique()), m.training_log_.epochs_run
    (['pro'], 2)
    """

    name = "ctgan"
    label = "CTGAN"
    int_params = ("embedding_dim", "pac")
    layer_params = ("generator_dim", "discriminator_dim")

    def __init__(
        self,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        generator_dim: Sequence[int] = (256, 256),
        discriminator_dim: Sequence[int] = (256, 256),
        pac: int = 10,
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
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.pac = pac
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
        private = self.dp_epsilon is not None
        if private:
            # checked before anything is fitted on the rows
            self._check_params()
            n_rows = enc.numeric.shape[0] if enc.numeric.shape[1] else enc.codes.shape[0]
            check_dp_params(
                self.dp_epsilon, self.dp_delta, self.max_grad_norm, self.dp_accountant, n_rows
            )
        torch, n = self._prepare(enc, rng)
        t = self.transformer_
        self._setup_cond()
        batch = min(self.batch_size, n)
        self.pac_ = 1 if private else min(self.pac, batch)
        self.batch_ = batch - batch % self.pac_
        if t.output_dim == 0:  # only constants / ids: nothing to learn
            self.generator_ = None
            self.training_log_ = TrainLog(stopped="epochs")
            return
        data = t.transform(enc, rng)
        sampler = RowSampler(enc.codes, t)
        if private:
            self._fit_private(torch, data, sampler, n, rng)
            return
        nets: dict[str, Any] = {}

        def build(torch: Any, dgen: Any) -> Any:
            G = self._build_generator(torch).to(self.device_)
            D = build_critic(
                torch, t.output_dim + self.cond_dim_, self.discriminator_dim, self.pac_, dgen
            ).to(self.device_)
            nets["G"] = G
            return CTGANTrainer(torch, self, G, D, data, sampler, rng, dgen).step

        self._train(torch, rng, n, self.batch_, build, drop_last=True)
        self.generator_ = nets["G"].eval()

    def _fit_private(
        self, torch: Any, data: np.ndarray, sampler: RowSampler, n: int, rng: np.random.Generator
    ) -> None:
        """DP-SGD on the critic (see the module docstring); sets ``privacy_``."""
        t = self.transformer_
        self.precision_ = "float32"  # per-sample gradients in float32, no autocast
        init_seed, seed = torch_seed(rng), torch_seed(rng)
        with deterministic(seed, self.threads) as gen:
            dgen = device_generator(torch, gen, self.device_)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(init_seed)
                G = self._build_generator(torch).to(self.device_)
                D = build_critic(
                    torch, t.output_dim + self.cond_dim_, self.discriminator_dim, 1, dgen
                ).to(self.device_)
                trainer = CTGANTrainer(torch, self, G, D, data, sampler, rng, dgen)
            log, record = train_private(
                torch,
                module=D,
                optimizer=trainer.opt_d,
                step=trainer.private_step,
                n_rows=n,
                batch_size=self.batch_,
                epochs=self.epochs,
                epsilon=float(self.dp_epsilon),  # type: ignore[arg-type]
                delta=float(self.dp_delta),
                max_grad_norm=float(self.max_grad_norm),
                accountant=self.dp_accountant,
                sampler_generator=gen,
                noise_generator=dgen,
                secure_noise=bool(self.secure_noise),
                max_training_time=self.max_training_time,
                progress=self.verbose,
                description=f"{self.label} (DP-SGD on the critic)",
                on_wrapped=trainer.set_private_module,
            )
        record["covered"] = (
            "the critic's weights, and the generator trained only through them (and every row "
            "sampled from it: post-processing costs no budget)"
        )
        record["not_covered"] = [
            *NOT_COVERED,
            "the category frequencies of every discrete column (the generator's conditional "
            "vectors are drawn from them, in training and sampling)",
        ]
        self.training_log_, self.privacy_ = log, record
        self.generator_ = G.eval()

    def _setup_cond(self) -> None:
        """Conditional-vector tables over the discrete (categorical) columns."""
        t = self.transformer_
        widths = np.array([len(c) for c in t.cat_counts_], dtype=np.int64)
        self.cat_offset_ = np.r_[0, np.cumsum(widths)][:-1].astype(np.int64)
        self.cond_dim_ = int(widths.sum())
        self.n_disc_ = len(widths)
        # cumulative true frequencies, column i's block shifted by i: one searchsorted picks a
        # category of each row's column (see RowSampler)
        self.freq_cum_ = shifted_cum([c.astype(float) for c in t.cat_counts_])

    def _build_generator(self, torch: Any) -> Any:
        nn = torch.nn

        class Residual(nn.Module):
            def __init__(self, i: int, o: int):
                super().__init__()
                self.fc = nn.Linear(i, o)
                self.bn = nn.BatchNorm1d(o)

            def forward(self, x: Any) -> Any:
                return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)

        dim = self.embedding_dim + self.cond_dim_
        layers: list[Any] = []
        for h in self.generator_dim:
            layers.append(Residual(dim, int(h)))
            dim += int(h)
        layers.append(nn.Linear(dim, self.transformer_.output_dim))
        return nn.Sequential(*layers)

    # ------------------------------------------------------------------ sample
    def _sample(self, n: int, conds: list[Condition], rng: np.random.Generator) -> Encoded:
        t = self.transformer_
        t.check_conditions(conds, value_shower(self.codec_))
        if self.generator_ is None:
            return Encoded(np.empty((n, 0)), np.empty((n, 0), np.int32), [], [])
        torch = require_torch()
        with self._sampling_context(rng) as gen:
            dgen = device_generator(torch, gen, self.device_)

            def draw(m: int) -> Encoded:
                return t.inverse(self._generate(torch, m, rng, dgen))

            # rejection from the unconditional generator: exact for the model (module docstring)
            return sample_until(draw, n, conds)

    def _generate(
        self,
        torch: Any,
        m: int,
        rng: np.random.Generator,
        gen: Any,
    ) -> np.ndarray:
        out = np.empty((m, self.transformer_.output_dim), dtype=np.float32)
        G, dev = self.generator_, self.device_
        act = GanActivation(torch, self.transformer_, dev)
        with torch.no_grad():
            for a in range(0, m, _GEN_CHUNK):
                b = min(_GEN_CHUNK, m - a)
                z = torch.randn(b, self.embedding_dim, generator=gen, device=dev)
                if self.n_disc_:
                    col = rng.integers(0, self.n_disc_, b)
                    f = np.searchsorted(self.freq_cum_, col + rng.random(b), side="right")
                    c = one_hot(torch, f, self.cond_dim_, dev)
                    z = torch.cat([z, c], dim=1)
                out[a : a + b] = act(G(z), gen).cpu().numpy()
        return out

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = self._base_state()
        if self.generator_ is not None:
            arrays.update(state_to_arrays(self.generator_.state_dict(), "g."))
        state.update(
            pac=self.pac_, batch_size=self.batch_, has_generator=self.generator_ is not None
        )
        if getattr(self, "privacy_", None) is not None:
            state["privacy"] = self.privacy_
        return state, arrays

    def _from_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self._load_base(state, arrays)
        self.pac_, self.batch_ = int(state["pac"]), int(state["batch_size"])
        if "privacy" in state:
            self.privacy_ = dict(state["privacy"])
        self._setup_cond()
        self.generator_ = None
        if state["has_generator"]:
            torch = require_torch()
            self.device_ = resolve_device(self.device)
            G = self._build_generator(torch)
            G.load_state_dict(arrays_to_state(arrays, "g."))
            self.generator_ = G.to(self.device_).eval()


# ---------------------------------------------------------------------- training pieces
