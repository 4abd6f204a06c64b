"""The training pipeline, one way down: read -> count -> fit -> publish."""
