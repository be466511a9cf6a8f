"""Tests of the three reference subgraphs, over real HTTP where it matters."""
