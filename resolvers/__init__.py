"""Data access for the reference subgraphs: SQLite stores, deterministic seeds and dataloaders.

Nothing in here knows about GraphQL: loaders return plain, typed records and domain errors, and
the `subgraphs` package turns them into schema types and GraphQL errors.
"""
