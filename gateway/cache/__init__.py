"""Caches shared between requests (and, with Redis, between gateway replicas)."""
