"""Behaviour on synthetic customers: choice models, what-if scenarios, journeys, attribution.

Modules (each result is a :class:`synthcust.reporting.Report`: ``to_dict``, ``to_html``,
``write``):

* :mod:`~synthcust.simulation.choice`: multinomial and latent-class logit on purchase data
  (``data``, ``numerics``, ``base``, ``mnl``, ``latent_class``); saved as model files of kind
  ``"choice"``; :mod:`~synthcust.simulation.choice_report` describes a fitted one.
* :mod:`~synthcust.simulation.scenarios`: what-if scenarios (prices, attributes, new and removed
  alternatives) over a population.
* :mod:`~synthcust.simulation.abtest` (:mod:`~synthcust.simulation.abtest_result`): virtual
  A/B(/n) tests with power analysis and an extrapolation flag.
* :mod:`~synthcust.simulation.funnel` (``funnel_steps``, ``funnel_model``): where each persona
  is lost in a funnel, and what a change to a step does.
* :mod:`~synthcust.simulation.validation`: behaviour validation on held-out purchases.
* :mod:`~synthcust.simulation.journeys` (``journey_scenarios``): a journey simulator with
  known channel effects; :mod:`~synthcust.simulation.journey_model`: a variable-order Markov
  journey model (model files of kind ``"journey_markov"``).
* :mod:`~synthcust.simulation.attribution` (``attribution_data``): multi-touch attribution;
  :mod:`~synthcust.simulation.attribution_lab` scores it against the simulator's truth.
* :mod:`~synthcust.simulation.env`: a Gymnasium pricing environment.
* :mod:`~synthcust.simulation.reports`: what the simulation reports share.

The faces reach these through :mod:`synthcust.workflows` (``behaviour``, ``experiments``,
``journeys``).
"""
