"""The cluster engine: pair data read, counted and multiplied on a Dask cluster."""
