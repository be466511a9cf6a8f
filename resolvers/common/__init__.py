"""Shared data pieces: INSZ numbers, the synthetic population, municipalities, the SQLite helper."""
