"""Scale-out on Dask: partitioned sampling, simulation and fitting from partitioned data.

* :func:`sample_partitioned`: ``n`` rows from a model into a folder of Parquet partitions, with
  deterministic per-partition seeds (the same files whatever the number of workers).
* :func:`simulate_partitioned`: a vectorised per-partition function over a partitioned
  population (scenario simulation of a very large population).
* :func:`fit_copula_partitioned`: the Gaussian copula from data larger than memory, via
  mergeable statistics (quantile summaries + correlation sums).

Dask is optional (``pip install 'synthcust[scale]'``); ``scheduler="sync"`` runs without it.
"""

from synthcust.scale.copula_fit import fit_copula_partitioned
from synthcust.scale.dask import (
    PartitionedResult,
    partition_seed,
    sample_partitioned,
    simulate_partitioned,
)

__all__ = [
    "PartitionedResult",
    "fit_copula_partitioned",
    "partition_seed",
    "sample_partitioned",
    "simulate_partitioned",
]
