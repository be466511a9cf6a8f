"""Data access for the ticketing subgraph."""
