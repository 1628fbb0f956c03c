"""What every face calls: the CLI, the library (:mod:`synthcust.api`) and the HTTP service.

One module per workflow, one set of defaults (:mod:`synthcust.workflows.defaults`):

- :mod:`~synthcust.workflows.fit`: PII, schema, constraints, segments, the default model,
  differential privacy charged to the ledger (refused over budget);
- :mod:`~synthcust.workflows.sample`: conditions, segments, the privacy gate, Dask;
- :mod:`~synthcust.workflows.split`: the 80/20 train/holdout split every figure uses;
- :mod:`~synthcust.workflows.evaluate`: synthetic vs real train and holdout, ids left out;
- :mod:`~synthcust.workflows.privacy`: the privacy curve and the ledger's views;
- :mod:`~synthcust.workflows.demo`: the whole first path on the demo world.

The faces hold no logic of their own: they parse arguments, call these, and render results.
Submodules are imported on use (``from synthcust.workflows.fit import fit``), so that a face
importing one workflow does not load the others.
"""
