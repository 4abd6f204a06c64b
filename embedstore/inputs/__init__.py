"""Everything that parses a user's bytes: pair files, Parquet pair data, text corpora, vector
files."""
