"""Shared pieces of the reference subgraphs: app factory, context, errors, federation settings."""
