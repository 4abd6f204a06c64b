"""Subword vectors: hashed character n-grams fitted to a version's vectors, so that an item the
version has never seen gets a vector from its spelling.

- :mod:`.ngrams`: the one hashing rule (n-grams of 3 to 6 characters with ``<`` ``>`` boundary
  markers, FNV-1a into buckets, as fastText does) and the composition of an item's vector from
  the bucket vectors; numpy only, light enough for the query path.
- :mod:`.fitting`: the bucket vectors fitted by damped sparse least squares (scipy), after a
  method has fitted the item vectors.
"""
