"""Composition: subgraph SDLs (Federation 1 and 2) into a supergraph SDL in the join form."""

from gateway.composition.compose import SubgraphSource, compose
from gateway.composition.errors import CompositionError, CompositionFailed

__all__ = ["CompositionError", "CompositionFailed", "SubgraphSource", "compose"]
