"""Subgraph SDLs -> supergraph SDL: read and check each subgraph, merge, check the merged
schema, print it in the join form, and make sure the gateway can load what was printed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graphql import validate_schema

from gateway.composition.access_checks import check_transitive_access
from gateway.composition.errors import CompositionFailed, ErrorLog
from gateway.composition.merge_checks import check_merged
from gateway.composition.merge_types import merge_schema
from gateway.composition.satisfiability import check_satisfiability
from gateway.composition.subgraph_checks import check_subgraph
from gateway.composition.subgraph_graphql import check_graphql, relevant
from gateway.composition.subgraph_reader import read_subgraphs
from gateway.composition.supergraph_printer import print_supergraph


@dataclass(frozen=True, slots=True)
class SubgraphSource:
    name: str
    url: str
    sdl: str


def compose(subgraphs: Sequence[SubgraphSource]) -> str:
    """The supergraph SDL; raises `CompositionFailed` with every error found."""
    log = ErrorLog()
    if not subgraphs:
        log.add("NO_SUBGRAPHS", "nothing to compose", hint="pass at least one subgraph.")
    read = read_subgraphs([(s.name, s.url, s.sdl) for s in subgraphs], log)
    log.raise_if_any()
    for subgraph in read:
        check_graphql(subgraph, log)
        check_subgraph(subgraph, log)
    log.raise_if_any()
    schema = merge_schema(read, log)
    check_merged(schema, log)
    check_transitive_access(schema, log)
    log.raise_if_any()
    check_satisfiability(schema, log)
    log.raise_if_any()
    sdl = print_supergraph(schema)
    _check_loads(sdl)
    return sdl


def _check_loads(sdl: str) -> None:
    from gateway.errors import SupergraphError
    from gateway.schema.supergraph import load_supergraph

    try:
        problems = [e for e in validate_schema(load_supergraph(sdl).schema) if relevant(e)]
    except SupergraphError as exc:
        log = ErrorLog()
        log.add(
            "INVALID_SUPERGRAPH",
            f"the composed supergraph does not load: {exc.message}",
            hint="this is a bug in Rugzak's composer; please report it with the subgraphs.",
        )
        raise CompositionFailed(log.errors) from exc
    if problems:
        log = ErrorLog()
        for problem in problems:
            log.add(
                "INVALID_GRAPHQL",
                f"the merged schema is not valid GraphQL: {problem.message}",
                hint="make the types agree across subgraphs (e.g. an implementation's field "
                "must be a subtype of the interface's field in every subgraph).",
            )
        raise CompositionFailed(log.errors)
