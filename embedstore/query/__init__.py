"""The query side: opened versions, the search seam, batch, results, indexes and evaluation."""
