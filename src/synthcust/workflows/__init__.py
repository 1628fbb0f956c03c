"""What every face calls: the CLI, the library (:mod:`synthcust.api`) and the HTTP service.

One module per workflow, one set of defaults (:mod:`synthcust.workflows.defaults`):

- :mod:`~synthcust.workflows.fit`: PII, schema, constraints, segments, the default model,
  differential privacy charged to the ledger (refused over budget);
- :mod:`~synthcust.workflows.sample`: conditions, segments, the privacy gate, Dask;
- :mod:`~synthcust.workflows.split`: the 80/20 train/holdout split every figure uses;
- :mod:`~synthcust.workflows.evaluate`: synthetic vs real train and holdout, ids left out;
- :mod:`~synthcust.workflows.privacy`: the privacy curve and the ledger's views;
- :mod:`~synthcust.workflows.demo`: the whole first path on the demo world;
- :mod:`~synthcust.workflows.personas` and :mod:`~synthcust.workflows.llm`: segmentation,
  persona cards and members, interviews, brand-voice copy;
- :mod:`~synthcust.workflows.behaviour`, :mod:`~synthcust.workflows.experiments` and
  :mod:`~synthcust.workflows.journeys`: choice models and scenarios, behaviour validation, A/B
  tests, funnels, diversity panels, journeys and attribution;
- :mod:`~synthcust.workflows.oversample` and :mod:`~synthcust.workflows.relational`:
  rebalancing and the augment study; related tables.

The faces hold no logic of their own: they parse arguments, call these, and render results.
Submodules are imported on use (``from synthcust.workflows.fit import fit``), so that a face
importing one workflow does not load the others.
"""
