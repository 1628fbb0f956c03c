"""Scale-out on Dask: partitioned sampling and fitting from partitioned data."""
