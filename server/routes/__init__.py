"""One router per resource: models, queries, batch, health and the page."""
