"""The release of this embedstore, recorded in every version it publishes."""

__version__ = "0.1.0"
