"""Where counts and matrix products come from: in memory, bounded (on disk, DuckDB) or a Dask
cluster."""
