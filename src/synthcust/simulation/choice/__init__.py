"""Discrete-choice models on purchase data: multinomial logit and latent-class logit.

Data come in **wide** format (one row per purchase occasion, one column per attribute and
alternative such as ``price.heinz32``, and a choice column) or **long** format (one row per
occasion x alternative). Both become a :class:`ChoiceData`: dense arrays ``X`` (occasions x
alternatives x attributes), the chosen alternative, an availability mask, household ids and
occasion order. Everything below is vectorised over occasions.

Utility of alternative ``j`` at occasion ``n`` (for latent class ``c``)::

    V_ncj = asc_cj + x_nj' beta_c + z_n' gamma_cj      (asc and gamma are 0 for the base)

* :class:`MultinomialLogit` (conditional logit with alternative-specific constants, generic
  attribute coefficients and alternative-specific coefficients of occasion covariates) is fitted
  by Newton-Raphson with step halving on the analytic gradient and Hessian; standard errors
  come from the inverse Hessian (or household-clustered sandwich, ``cov_type="cluster"``).
* :class:`LatentClassLogit` has ``K`` classes of households (the panel is respected: a
  household belongs to one class for all its occasions). It is fitted by EM; class membership
  is a multinomial logit on household covariates (a persona label is one-hot encoded), so
  classes can be tied to personas. Standard errors from the outer product of the household
  scores (BHHH).

Both give price elasticities (own and cross, aggregated over occasions) with parameter-draw
confidence intervals and willingness to pay with delta-method intervals, and save through the
one model file format (kind ``"choice"``; never pickle).

The package's modules: :mod:`~synthcust.simulation.choice.data` (specification, dense data,
readers), :mod:`~synthcust.simulation.choice.numerics` (utilities, likelihood, Newton),
:mod:`~synthcust.simulation.choice.base` (prediction, elasticities, WTP, persistence),
:mod:`~synthcust.simulation.choice.mnl` and :mod:`~synthcust.simulation.choice.latent_class`.
"""

from synthcust.simulation.choice.base import ChoiceModel, load_model, model_from_dict
from synthcust.simulation.choice.data import (
    ChoiceData,
    ChoiceSpec,
    choice_data,
    choice_data_from_long,
    detect_spec,
    observed_ranges,
    wide_to_long,
)
from synthcust.simulation.choice.latent_class import LatentClassLogit, select_n_classes
from synthcust.simulation.choice.mnl import MultinomialLogit

__all__ = [
    "ChoiceData",
    "ChoiceModel",
    "ChoiceSpec",
    "LatentClassLogit",
    "MultinomialLogit",
    "choice_data",
    "choice_data_from_long",
    "detect_spec",
    "load_model",
    "model_from_dict",
    "observed_ranges",
    "select_n_classes",
    "wide_to_long",
]
