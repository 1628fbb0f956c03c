"""The one set of defaults every face uses: the CLI, the library and the HTTP service.

Change a default here and every face changes with it.

>>> from synthcust.workflows.defaults import HOLDOUT, default_synthesizer
>>> HOLDOUT, default_synthesizer() in ("autoregressive", "copula")
(0.2, True)
"""

from __future__ import annotations

from synthcust.evaluation.privacy import GateThresholds
from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.neural.torchutil import torch_available

__all__ = [
    "CURVE_EPSILONS",
    "CURVE_REFERENCE",
    "DPSGD_SYNTHESIZERS",
    "DP_DELTA",
    "DP_SYNTHESIZER",
    "GATE",
    "HOLDOUT",
    "SEED",
    "SPLIT_SEED",
    "available_synthesizers",
    "default_synthesizer",
]

#: Share of real rows held out from training (docs/methods/metrics.md#splits: 80/20).
HOLDOUT = 0.2
#: Seed of the train/holdout split (docs/methods/metrics.md#splits: ``random_state=0``).
SPLIT_SEED = 0
#: Seed of fits, samples and evaluations when none is given by the CLI or the service.
SEED = 0
#: The model a fit with ``dp_epsilon`` and no synthesizer uses.
DP_SYNTHESIZER = "dp_marginal"
#: Synthesizers that can be trained under DP-SGD (``dp_epsilon`` with one of these).
DPSGD_SYNTHESIZERS = ("ctgan", "tvae", "autoregressive")
#: Delta of a DP fit when none is given (it must be below 1 / rows).
DP_DELTA = 1e-9
#: Epsilons of the privacy curve.
CURVE_EPSILONS = "0.5,1,2,4,8"
#: The non-private model the privacy curve compares with.
CURVE_REFERENCE = "copula"
#: Bars of the privacy gate (``sample --gate``, evaluation scorecard).
GATE = GateThresholds()


def available_synthesizers() -> list[str]:
    """Names of the single-table synthesizers, sorted.

    Returns
    -------
    list of str
        ``["autoregressive", "copula", "ctgan", "dp_marginal", "tvae"]`` and any registered.
    """
    return sorted(REGISTRY)


def default_synthesizer() -> str:
    """The flagship ``"autoregressive"`` when torch is installed, else ``"copula"``.

    The autoregressive model wins every fidelity, detection and utility figure in
    ``bench/bench_deep.py``; the copula needs no torch and fits in a fraction of a second.

    Returns
    -------
    str
        The synthesizer every face fits when none is named.
    """
    return "autoregressive" if torch_available() else "copula"
