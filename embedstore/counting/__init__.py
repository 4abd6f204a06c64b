"""Co-occurrence counts, the one input of every method: the record and windowed counting of text."""
