"""What a registry change is judged by, computed in the composition worker (worker.py): the
subgraphs composed into a supergraph, that supergraph loaded as the gateway would load it, the
ownership rule, and the breaking and dangerous changes against the supergraph served now.

Everything here is CPU and memory bound and may be as large as a hostile SDL makes it, so it
never runs in the serving process: inputs and outputs are plain picklable values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gateway.composition import CompositionError, CompositionFailed, SubgraphSource, compose
from gateway.errors import SupergraphError
from gateway.registry.breaking import SchemaChange, breaking_changes, dangerous_changes
from gateway.registry.ownership import ownership_violations
from gateway.schema.supergraph import load_supergraph


@dataclass(frozen=True, slots=True)
class Candidate:
    sources: tuple[SubgraphSource, ...]
    # the subgraph being changed (its SDL is the one size-checked first); None: all of them
    subgraph: str | None = None
    # organisation of every live subgraph, the changed one's too; None: no ownership check
    owners: dict[str, str] | None = None
    # the supergraph served now, to find breaking changes against; None: no comparison
    live_supergraph: str | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    supergraph: str
    schema_hash: str
    compose_ms: float
    violations: tuple[CompositionError, ...] = ()
    breaking: tuple[SchemaChange, ...] = ()
    dangerous: tuple[SchemaChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Refused:
    """The candidate does not compose (`errors`), or its supergraph does not load (`message`)."""

    errors: tuple[CompositionError, ...] = ()
    message: str = ""


def evaluate(candidate: Candidate) -> Evaluation | Refused:
    started = time.perf_counter()
    try:
        sdl = compose(list(candidate.sources))
        new = load_supergraph(sdl)
    except CompositionFailed as exc:
        return Refused(errors=tuple(exc.errors))
    except SupergraphError as exc:
        return Refused(message=exc.message)
    compose_ms = (time.perf_counter() - started) * 1000
    violations: list[CompositionError] = []
    if candidate.owners is not None and candidate.subgraph is not None:
        violations = ownership_violations(new, candidate.subgraph, candidate.owners)
    if candidate.live_supergraph is None or violations:
        return Evaluation(sdl, new.schema_hash, compose_ms, tuple(violations))
    try:
        old = load_supergraph(candidate.live_supergraph)
    except SupergraphError as exc:
        return Refused(message=f"the live supergraph does not load: {exc.message}")
    return Evaluation(
        sdl,
        new.schema_hash,
        compose_ms,
        (),
        tuple(breaking_changes(old, new)),
        tuple(dangerous_changes(old, new)),
    )
