"""The bounded engine: counts and PPMI rows on disk within a memory limit (DuckDB, row blocks)."""
