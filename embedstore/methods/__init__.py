"""The training methods, each written once: counts (or their products) in, vectors out."""
