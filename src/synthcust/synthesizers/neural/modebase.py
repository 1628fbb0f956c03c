"""What CTGAN and TVAE share: checks, the mode-specific transform, device, precision, training.

Both models encode rows with :class:`~synthcust.synthesizers.neural.modes.DataTransformer`,
train with :func:`~synthcust.synthesizers.neural.training.train_loop` and store the transform
next to one network's weights. A subclass keeps its own ``__init__`` (its signature is what
``get_params`` and saved models record) and builds its networks and training step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from synthcust.exceptions import ModelError
from synthcust.synthesizers.base import BaseSynthesizer
from synthcust.synthesizers.neural.modes import DataTransformer
from synthcust.synthesizers.neural.torchutil import (
    deterministic,
    require_torch,
    resolve_device,
    resolve_precision,
    torch_seed,
)
from synthcust.synthesizers.neural.training import TrainLog, check_training_args, train_loop
from synthcust.transform.codec import Encoded


class ModeNormSynthesizer(BaseSynthesizer):
    """Base of the synthesizers on mode-specific normalisation (CTGAN, TVAE)."""

    label: ClassVar[str] = ""  # progress-bar text
    #: parameters that are sequences of hidden-layer sizes / whole numbers >= 1
    layer_params: ClassVar[tuple[str, ...]] = ()
    int_params: ClassVar[tuple[str, ...]] = ()

    epochs: int
    batch_size: int
    max_training_time: float | None
    device: str | None
    precision: str
    threads: int | None
    verbose: bool | None

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        check_training_args(self.epochs, self.batch_size, self.max_training_time, None)
        for name in self.int_params:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ModelError(f"{name} must be a whole number >= 1, got {v!r}")
        for name in self.layer_params:
            v = getattr(self, name)
            if not isinstance(v, Sequence) or not all(
                isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in v
            ):
                raise ModelError(f"{name} must be a sequence of layer sizes >= 1, got {v!r}")
        t = self.threads
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 1):
            raise ModelError(f"threads must be a whole number >= 1 or None, got {t!r}")

    # ------------------------------------------------------------------ fit pieces
    def _prepare(self, enc: Encoded, rng: np.random.Generator) -> tuple[Any, int]:
        """Check parameters, pick device and precision, fit the transform; (torch, rows)."""
        self._check_params()
        torch = require_torch()
        self.device_ = resolve_device(self.device)
        self.precision_ = resolve_precision(self.precision, self.device_)
        n = enc.numeric.shape[0] if enc.numeric.shape[1] else enc.codes.shape[0]
        self.transformer_ = DataTransformer().fit(
            enc, [self.codec_.n_categories(c) for c in enc.categorical_names], rng
        )
        return torch, n

    def _train(
        self,
        torch: Any,
        rng: np.random.Generator,
        n: int,
        batch: int,
        build: Callable[[Any, Any], Callable[[Any], float]],
        drop_last: bool = False,
    ) -> None:
        """Seed, build the networks and step (``build(torch, device_generator)``), train."""
        init_seed, seed = torch_seed(rng), torch_seed(rng)
        with deterministic(seed, self.threads) as gen:
            dgen = device_generator(torch, gen, self.device_)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(init_seed)
                step = build(torch, dgen)
            self.training_log_ = train_loop(
                n_rows=n,
                step=step,
                epochs=self.epochs,
                batch_size=batch,
                generator=gen,
                patience=None,
                max_training_time=self.max_training_time,
                progress=self.verbose,
                description=self.label,
                drop_last=drop_last,
            )

    def _sampling_context(self, rng: np.random.Generator) -> Any:
        return deterministic(torch_seed(rng), self.threads)

    # ------------------------------------------------------------------ persistence
    def _base_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        t_state, arrays = self.transformer_.to_state("t.")
        log = self.training_log_.to_dict()
        log.pop("seconds")  # wall time would make two fits of the same data differ
        return {"transformer": t_state, "training_log": log}, arrays

    def _load_base(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.transformer_ = DataTransformer.from_state(state["transformer"], arrays, "t.")
        self.training_log_ = TrainLog.from_dict({"seconds": 0.0, **state["training_log"]})


def device_generator(torch: Any, gen: Any, dev: Any) -> Any:
    """The CPU generator itself, or a generator on ``dev`` seeded from it."""
    if dev.type == "cpu":
        return gen
    seed = int(torch.randint(0, 2**62, (1,), generator=gen))
    return torch.Generator(device=dev).manual_seed(seed)
