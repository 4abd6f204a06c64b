"""The training methods, each written once."""
