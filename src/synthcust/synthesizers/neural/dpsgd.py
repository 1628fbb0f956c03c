"""DP-SGD for the neural synthesizers, with opacus: per-sample clipping, Gaussian noise, accounting.

What one private training run does (Abadi et al. 2016, as implemented by opacus >= 1.5):

* every step draws its batch by **Poisson sampling**: each training row is in the batch
  independently with probability ``q = 1 / ceil(n / batch_size)`` (opacus' ``DPDataLoader``,
  driven by the synthesizer's seeded generator);
* the gradient of **each row's own loss** is computed (opacus ``GradSampleModule`` hooks), its
  L2 norm over all trainable parameters clipped to ``max_grad_norm``, the clipped gradients
  summed, Gaussian noise of deviation ``noise_multiplier x max_grad_norm`` added, and the sum
  divided by the expected batch size before the (Adam) update;
* the noise multiplier is the smallest (to opacus' search tolerance) for which the accountant
  (``"rdp"``: Renyi DP of the subsampled Gaussian; ``"prv"``: privacy random variables,
  tighter) gives ``epsilon <= dp_epsilon`` at ``dp_delta`` after the planned
  ``epochs x ceil(n / batch_size)`` steps;
* the epsilon **reported** is the accountant's for the steps actually run (a time budget may
  stop training early, which only lowers it), and a run whose final epsilon is above the
  target raises instead of returning a model.

The guarantee covers the network weights' dependence on the training rows (add/remove-one-row
neighbours, opacus' definition). It does **not** cover what is fitted on the rows outside
gradient descent, listed in :data:`NOT_COVERED`: the mode-specific transform of CTGAN/TVAE (its
Gaussian modes, point masses, value ranges), the table codec (category lists, missing-value
markers, formats, id ranges), a schema inferred from the data, and the row count. Those are
released as fitted; the ``privacy_`` record of a model says so.

Importing this module imports neither torch nor opacus; :func:`require_opacus` does.
"""

from __future__ import annotations

import functools
import math
import numbers
import secrets
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from synthcust.exceptions import ModelError
from synthcust.synthesizers.neural.training import ProgressBar, TrainLog

ACCOUNTANTS = ("rdp", "prv")
MAX_EPSILON = 100.0

#: what a DP-SGD fit releases without noise (copied into every ``privacy_`` record)
NOT_COVERED = [
    "the mode-specific transform (per-column Gaussian modes: means, deviations, weights; "
    "point-mass values; value ranges) is fitted on the private data without noise",
    "the table codec (category lists, missing-value markers, integer/datetime formats, "
    "numbers' decimals, id ranges and id patterns) and, when no schema is given, the inferred "
    "schema come from the private data",
    "the number of training rows",
]

_INSTALL = "DP-SGD needs opacus: pip install 'synthcust[deep]' (or pip install 'opacus>=1.5')"


def require_opacus() -> Any:
    """Import and return opacus, or raise :class:`ModelError` saying how to install it."""
    try:
        import opacus
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ModelError(_INSTALL) from e
    return opacus


def check_dp_params(
    epsilon: Any, delta: Any, max_grad_norm: Any, accountant: Any, n: int | None = None
) -> None:
    """Clear errors for privacy parameters no private fit should run with."""

    def bad(v: Any) -> bool:
        return isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v)

    if bad(epsilon) or epsilon <= 0:
        raise ModelError(
            f"dp_epsilon must be a positive number, got {epsilon!r}; smaller is more private "
            "(typical: 1 to 10 for DP-SGD), or None for no differential privacy"
        )
    if epsilon > MAX_EPSILON:
        raise ModelError(
            f"dp_epsilon {epsilon:g} is above {MAX_EPSILON:g}, where the guarantee means nothing; "
            "use a smaller epsilon, or dp_epsilon=None if privacy is not needed"
        )
    if bad(delta) or delta <= 0 or delta >= 1:
        raise ModelError(f"dp_delta must be a number in (0, 1/n), got {delta!r}; e.g. 1e-9")
    if n is not None and delta >= 1.0 / n:
        raise ModelError(
            f"dp_delta {delta:g} is not below 1/n = {1.0 / n:.3g} (n = {n:,} rows): a delta that "
            "large allows publishing a row in the clear; use e.g. 1e-9 or 1/n^2"
        )
    if bad(max_grad_norm) or max_grad_norm <= 0:
        raise ModelError(f"max_grad_norm must be a positive number, got {max_grad_norm!r}")
    if accountant not in ACCOUNTANTS:
        raise ModelError(f"dp_accountant must be one of {ACCOUNTANTS}, got {accountant!r}")


@functools.cache
def sigma_layer_class() -> type:
    """A module holding one learned deviation per output column, with an opacus grad sampler.

    ``layer(x)`` is the deviation vector repeated for each row of ``x``; a loss that uses row
    ``i`` of the result only for row ``i`` makes ``backprops[i]`` that row's own gradient of the
    deviations, which is what the registered grad sampler returns. (A bare ``nn.Parameter`` on
    a ``Sequential``, as in the non-private decoder, has no per-sample gradient in opacus.)
    """
    import torch
    from opacus.grad_sample import register_grad_sampler

    class SigmaLayer(torch.nn.Module):
        def __init__(self, size: int, init: float = 0.1):
            super().__init__()
            self.sigma = torch.nn.Parameter(torch.full((size,), init))

        def forward(self, x: Any) -> Any:
            return self.sigma.unsqueeze(0).expand(x.shape[0], -1)

    @register_grad_sampler(SigmaLayer)
    def _grad_sample(layer: Any, activations: Any, backprops: Any) -> dict[Any, Any]:
        return {layer.sigma: backprops}

    return SigmaLayer


def train_private(
    torch: Any,
    *,
    module: Any,
    optimizer: Any,
    step: Callable[[Any, Any], float],
    n_rows: int,
    batch_size: int,
    epochs: int,
    epsilon: float,
    delta: float,
    max_grad_norm: float,
    accountant: str,
    sampler_generator: Any,
    noise_generator: Any,
    secure_noise: bool = True,
    max_training_time: float | None = None,
    progress: bool | None = None,
    description: str = "training (DP-SGD)",
    on_wrapped: Callable[[Any], None] | None = None,
) -> tuple[TrainLog, dict[str, Any]]:
    """Train ``module`` with DP-SGD; return the training log and the privacy record.

    ``step(index, optimizer)`` runs one step on the rows ``index`` (an int64 tensor, possibly
    empty) with the private ``optimizer`` it is given (``zero_grad``, ``backward`` of the mean
    loss over the batch, ``step``) and returns the batch loss. Every trainable parameter of
    ``module`` must sit in a layer opacus computes per-sample gradients for; the hooks are
    removed before returning.

    ``secure_noise`` (default): the batch sampling and the noise come from generators seeded
    with fresh operating-system entropy, not from the given (``random_state``-derived) ones: an
    adversary who knows the seed and all rows but one could otherwise replay the training and
    see that row. With ``False`` the run is reproducible and recorded as NOT private.

    ``on_wrapped(grad_sample_module)``, if given, receives opacus' wrapper before training, for
    a step that must run the private module outside its private update with the per-sample
    hooks off (``disable_hooks`` / ``enable_hooks``), as a GAN's generator update does.
    """
    opacus = require_opacus()
    if secure_noise:
        dev = getattr(noise_generator, "device", torch.device("cpu"))
        sampler_generator = torch.Generator().manual_seed(secrets.randbits(63))
        noise_generator = torch.Generator(device=dev).manual_seed(secrets.randbits(63))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.arange(n_rows)),
        batch_size=batch_size,
        generator=sampler_generator,
    )
    with warnings.catch_warnings():
        # "secure RNG turned off" is known: seeded runs are the point of random_state, and the
        # noise is drawn from torch's Mersenne twister (fine against everything but an attacker
        # who can predict the generator's state)
        warnings.simplefilter("ignore")
        engine = opacus.PrivacyEngine(accountant=accountant, secure_mode=False)
        try:
            gsm, opt, batches = engine.make_private_with_epsilon(
                module=module,
                optimizer=optimizer,
                data_loader=loader,
                target_epsilon=float(epsilon),
                target_delta=float(delta),
                epochs=int(epochs),
                max_grad_norm=float(max_grad_norm),
                poisson_sampling=True,
                noise_generator=noise_generator,
                grad_sample_mode="hooks",
                loss_reduction="mean",
            )
        except ValueError as e:
            raise ModelError(
                f"opacus found no noise level for epsilon {epsilon:g} at delta {delta:g} over "
                f"{epochs} epochs ({e}); use a larger dp_epsilon or fewer epochs"
            ) from e
    if on_wrapped is not None:
        on_wrapped(gsm)
    sample_rate = 1.0 / len(loader)
    log, steps = _run_epochs(
        step, batches, opt, gsm, epochs, max_training_time, progress, description
    )
    spent = float(engine.get_epsilon(float(delta)))
    if spent > float(epsilon) * (1 + 1e-9):  # pragma: no cover - the accountant's monotonicity
        raise ModelError(
            f"the accountant reports epsilon {spent:.4g} after {steps} steps, above the target "
            f"{epsilon:g}; the model is not returned"
        )
    record = {
        "epsilon": spent,
        "epsilon_target": float(epsilon),
        "delta": float(delta),
        "mechanism": f"DP-SGD (opacus {opacus.__version__}, {accountant} accountant)",
        "accountant": accountant,
        "neighbours": "add_remove",
        "noise_multiplier": float(opt.noise_multiplier),
        "max_grad_norm": float(max_grad_norm),
        "sample_rate": sample_rate,
        "expected_batch_size": sample_rate * n_rows,
        "epochs": log.epochs_run,
        "epochs_planned": int(epochs),
        "steps": steps,
        "steps_planned": int(epochs * len(loader)),
        "covered": "the trained network weights (and every row sampled from them: "
        "post-processing costs no budget)",
        "not_covered": list(NOT_COVERED),
        "noise": "Poisson sampling and Gaussian noise from torch generators seeded with fresh "
        "operating-system entropy (secure_noise=True; a Mersenne twister, not a CSPRNG: "
        "opacus' secure_mode needs torchcsprng)"
        if secure_noise
        else "seeded from random_state (secure_noise=False): reproducible, and NOT private "
        "against anyone who knows the seed",
        "secure_noise": bool(secure_noise),
    }
    return log, record


def _run_epochs(
    step: Callable[[Any, Any], float],
    batches: Any,
    opt: Any,
    gsm: Any,
    epochs: int,
    max_training_time: float | None,
    progress: bool | None,
    description: str,
) -> tuple[TrainLog, int]:
    """The DP-SGD epochs (stopped early only by the time budget); removes opacus' hooks from
    the module (``gsm.cleanup()``) at the end. Returns the log and the number of steps."""
    log = TrainLog()
    t0 = time.perf_counter()
    deadline = None if max_training_time is None else t0 + float(max_training_time)
    show = sys.stderr.isatty() if progress is None else progress
    bar = ProgressBar(show, epochs, description)
    steps = 0
    with warnings.catch_warnings():
        # the first layer's input (the rows) needs no gradient; torch says so at each backward
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        try:
            for epoch in range(epochs):
                total, n_b, stop_now = 0.0, 0, False
                for (idx,) in batches:
                    total += float(step(idx, opt))
                    n_b += 1
                    steps += 1
                    if deadline is not None and time.perf_counter() > deadline:
                        stop_now = True
                        break
                log.epochs_run = epoch + 1
                log.train_loss.append(total / max(n_b, 1))
                bar.advance(f"loss {log.train_loss[-1]:.4f}")
                if stop_now:
                    log.stopped = "time_budget"
                    break
        finally:
            bar.close()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gsm.cleanup()  # removes the hooks and per-sample gradients from the layers
    log.seconds = time.perf_counter() - t0
    return log, steps
