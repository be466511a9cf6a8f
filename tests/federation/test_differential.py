"""Rugzak against the reference gateway (Hive Gateway with its Rust planner) over the same fixture
subgraphs and supergraph: every operation must give equal `data` and errors at equal paths.

Operations: the hand-written ones in `fixtures/<set>/operations/*.graphql`, and operations
generated from the API schema by hypothesis-graphql (a fixed seed; RUGZAK_DEEP=1 runs many more),
a quarter of them also dressed with aliases, fragments and type names (dressing.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, build_schema
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis_graphql import queries

from gateway.schema.supergraph import Supergraph, load_supergraph
from tests.federation.dressing import dress
from tests.federation.harness import (
    ApolloGivenUp,
    FederationPool,
    ask_rugzak,
    comparable,
    hand_written_operations,
    rugzak_for,
)
from tests.federation.known_reference_bugs import (
    field_behind_a_key_with_a_nullable_part,
    fragment_on_a_field_typed_concretely_in_one_subgraph,
    null_completion_error_left_out,
    one_field_needed_with_two_argument_sets,
    required_field_twice_error_at_the_last_key,
    requires_a_nested_field_required_in_turn,
    takes_an_argument_from_a_context,
    typename_beside_an_interface_object_field,
)
from tests.federation.reports import GENERATED, REFERENCE_DIFFERS, Generated
from tests.oracles.apollo import ApolloGateway
from tests.servers import Server

DEEP = os.environ.get("RUGZAK_DEEP") == "1"
GENERATED_PER_SET = 2000 if DEEP else 200
# draws per distinct operation wanted, at most (hypothesis repeats itself on small schemas)
ATTEMPTS_PER_OPERATION = 20
MIN_DISTINCT = 200
IN_FLIGHT = 4
# one drawn operation in so many is compared dressed too (tests/federation/dressing.py)
DRESS_EVERY = 4


@pytest.mark.parametrize(
    ("fixture_set", "path"), hand_written_operations(), ids=lambda v: getattr(v, "stem", v)
)
def test_hand_written_operations_match(
    fixture_set: str,
    path: Path,
    federation_pool: FederationPool,
    rugzak_pool: dict[str, Server],
) -> None:
    federation = federation_pool.get(fixture_set)
    rugzak = rugzak_for(rugzak_pool, federation, fixture_set)
    query = path.read_text()
    ours = ask_rugzak(rugzak, query)
    theirs = federation.hive.query(query)
    assert ours.get("data") is not None, ours
    expected_file = path.with_suffix(".expected.json")
    if expected_file.exists():
        # The reference gateway is wrong here by the Federation spec; the file's "why" says how,
        # and its "spec" holds the answer the spec gives, which we must give.
        expected = json.loads(expected_file.read_text())
        assert comparable(ours) == expected["spec"], expected["why"]
        assert comparable(theirs) != expected["spec"], (
            "the reference gateway was fixed: drop the file"
        )
        return
    assert comparable(ours) == comparable(theirs)


@pytest.mark.parametrize("fixture_set", sorted({name for name, _ in hand_written_operations()}))
def test_generated_operations_match(
    fixture_set: str, federation_pool: FederationPool, rugzak_pool: dict[str, Server]
) -> None:
    federation = federation_pool.get(fixture_set)
    rugzak = rugzak_for(rugzak_pool, federation, fixture_set)
    supergraph = load_supergraph(federation.fixtures.supergraph_sdl)
    schema = build_schema(supergraph.api_sdl)

    def apollo() -> ApolloGateway | None:
        """Apollo Gateway over this set, or None where it refuses the supergraph (2.14.4 does
        not serve @context: UNSUPPORTED_LINKED_FEATURE; any other refusal fails the test) or
        was given up on (see ask_apollo)."""
        try:
            return federation_pool.apollo(fixture_set)
        except ApolloGivenUp:
            return None
        except RuntimeError:
            if not uses_contexts(supergraph):
                raise
            return None

    def ask_apollo(query: str) -> dict[str, Any] | None:
        """Apollo Gateway's answer; None where it refuses the set or does not answer in time:
        its planner can take minutes and gigabytes on abstract types nested many levels deep
        (node's changedWith six times, interface_objects's similar), which is no plan to compare
        with either. Such a gateway is stopped and the next operation starts a fresh one
        (FederationPool.apollo_timed_out); operations in flight on it count as unplannable
        where Hive Gateway cannot plan them."""
        gateway = apollo()
        if gateway is None:
            return None
        try:
            return gateway.query(query)
        except httpx.TransportError:  # a timeout, or its connection closed meanwhile
            federation_pool.apollo_timed_out(fixture_set, gateway)
            return None

    def compare(query: str) -> str:
        """'compared' (with Hive Gateway), 'apollo' (Hive Gateway could not plan it, Apollo
        Gateway did and is compared with), or 'unplannable' (neither could); else fails."""
        ours = ask_rugzak(rugzak, query)
        theirs = federation.hive.query(query)
        if reference_could_not_plan(theirs):
            answer = ask_apollo(query)
            if answer is None or apollo_could_not_plan(answer):
                # nothing to compare with; Rugzak must at least plan and answer it (the
                # hand-written operations of such shapes carry the spec's answer)
                assert ours.get("data") is not None, (query, ours)
                assert not any(
                    e.get("extensions", {}).get("code") == "QUERY_PLANNING_FAILED"
                    for e in ours.get("errors") or ()
                ), (query, ours)
                return "unplannable"
            if comparable(ours) != comparable(answer):
                # no third opinion: only in a shape both references are known to answer
                # wrongly (each shown by a hand-written operation with the spec's answer)
                assert (
                    one_field_needed_with_two_argument_sets(supergraph, query)
                    or requires_a_nested_field_required_in_turn(supergraph, query)
                    or typename_beside_an_interface_object_field(supergraph, query)
                    or fragment_on_a_field_typed_concretely_in_one_subgraph(supergraph, query)
                    or field_behind_a_key_with_a_nullable_part(supergraph, query)
                ), (query, ours, answer)
                REFERENCE_DIFFERS.append((fixture_set, "apollo: " + query))
            return "apollo"
        if comparable(ours) != comparable(theirs) and takes_an_argument_from_a_context(
            supergraph, query
        ):
            REFERENCE_DIFFERS.append((fixture_set, "both: " + query))  # neither serves it
        elif comparable(ours) != comparable(theirs):
            # a second opinion: Apollo Gateway over the same supergraph and subgraphs
            second = federation_pool.apollo(fixture_set).query(query)
            if comparable(ours) != comparable(second):
                # both wrong: only in a shape known (and shown by a hand-written operation)
                assert (
                    one_field_needed_with_two_argument_sets(supergraph, query)
                    or null_completion_error_left_out(ours, second)
                    or required_field_twice_error_at_the_last_key(supergraph, query, ours, second)
                ), (query, ours, theirs, second)
                REFERENCE_DIFFERS.append((fixture_set, "both: " + query))
            else:
                REFERENCE_DIFFERS.append((fixture_set, query))
        return "compared"

    # each operation is sent as soon as it is drawn, a few in flight at once: drawing (here),
    # Rugzak, Hive Gateway and the fixture subgraphs are separate processes or threads, so both
    # cores stay busy; the first failure fails the test
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        pending: list[Future[str]] = []
        dressed: list[Future[str]] = []

        def each(query: str) -> None:
            pending.append(pool.submit(compare, query))
            if len(pending) % DRESS_EVERY == 0:  # and as a client might write it
                dressed.append(pool.submit(compare, dress(query, schema, seed=len(pending))))

        distinct = draw_operations(schema, each)
        outcomes = [future.result() for future in pending]
        outcomes_dressed = [future.result() for future in dressed]
    every = outcomes + outcomes_dressed
    GENERATED[fixture_set] = Generated(
        distinct=distinct,
        by_hive=every.count("compared"),
        by_apollo=every.count("apollo"),
        unplannable=every.count("unplannable"),
        dressed=len(dressed),
    )
    # every set's API schema is rich enough for this many distinct operations (a set too small
    # for it gets more fields of its own shape)
    assert distinct >= MIN_DISTINCT, f"{fixture_set}: only {distinct} distinct operations"
    assert outcomes.count("compared") + outcomes.count("apollo") >= distinct // 2


class _Enough(BaseException):
    """Ends the drawing once enough distinct operations are drawn: hypothesis lets a
    BaseException through at once (an Exception would be replayed as a failing example)."""


def draw_operations(schema: GraphQLSchema, each: Callable[[str], object]) -> int:
    """Calls `each` on up to `GENERATED_PER_SET` distinct operations from hypothesis-graphql
    (the same ones on every run unless DEEP) and returns how many. Hypothesis draws the same
    operation text again and again on small schemas, so duplicates are skipped and drawing goes
    on, for at most `ATTEMPTS_PER_OPERATION` times as many draws (a tiny schema ends; so does
    one hypothesis finds exhausted). `each` only starts the comparison (see above), so a failure
    is reported with its operation as drawn: hypothesis does not shrink it."""
    drawn: set[str] = set()

    @settings(
        max_examples=GENERATED_PER_SET * ATTEMPTS_PER_OPERATION,
        derandomize=not DEEP,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        verbosity=Verbosity.quiet,  # else each DEEP run tells how to "reproduce" _Enough
        suppress_health_check=list(HealthCheck),
    )
    @given(query=queries(schema))
    def draw(query: str) -> None:
        if query in drawn:
            return
        drawn.add(query)
        each(query)
        if len(drawn) >= GENERATED_PER_SET:
            raise _Enough

    with suppress(_Enough):
        draw()
    return len(drawn)


def reference_could_not_plan(body: dict[str, Any]) -> bool:
    """Hive Gateway's answer when its planner gives up, or fails on the way (a dressed form of
    an operation it answers as drawn): no data, one "Unexpected error." (a subgraph's error
    carries its own message)."""
    errors = body.get("errors") or []
    return (
        body.get("data") is None
        and len(errors) == 1
        and errors[0].get("message") == "Unexpected error."
    )


def apollo_could_not_plan(body: dict[str, Any]) -> bool:
    """Apollo Gateway's answer when its planner gives up ("Was not able to find any options for
    ...: This shouldn't have happened."): no data, one INTERNAL_SERVER_ERROR without a path."""
    errors = body.get("errors") or []
    return (
        body.get("data") is None
        and len(errors) == 1
        and not errors[0].get("path")
        and errors[0].get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR"
    )


def uses_contexts(supergraph: Supergraph) -> bool:
    """Some field takes an argument from a context (@fromContext, Federation 2.8)."""
    return any(
        field.context_arguments
        for graphs in supergraph.field_graphs.values()
        for field in graphs.values()
    )
