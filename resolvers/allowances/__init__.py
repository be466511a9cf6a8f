"""Data access for the allowances subgraph."""
