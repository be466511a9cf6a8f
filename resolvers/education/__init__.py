"""Data access for the education subgraph."""
