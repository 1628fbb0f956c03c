"""Building blocks of the differentially private marginal synthesizer.

* :mod:`~synthcust.synthesizers.dp.accounting`: zCDP <-> (epsilon, delta) conversions and the
  Gaussian and exponential mechanisms;
* :mod:`~synthcust.synthesizers.dp.bins`: fine domains of columns (public bins for numbers,
  category lists) and DP bounds for columns whose bounds the user chose to pay for;
* :mod:`~synthcust.synthesizers.dp.tree`: consistent marginals and the tree-structured model
  (MST selection, estimation, exact conditional sampling).
"""
