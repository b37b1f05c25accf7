"""Saved searches: the user's stored list queries (`service`), their compiled predicates and
selective terms (`queries`), the in-memory percolator (`percolator`), and the fan-out when
an item becomes public (`fanout`)."""
