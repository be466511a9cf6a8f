"""Rugzak against itself where the reference gateways cannot judge: response keys named like other
fields (keys included), mapped back, give the answer of the operation as drawn (alias_swaps.py).

A gateway asks subgraphs for keys and @requires values beside the client's fields; a client
alias named like one of them must never hand one field's value to another (the wrong-value bug
of fixtures/key_alias_requires was of this kind). Drawn operations are those of
test_differential (hypothesis-graphql, a fixed seed unless RUGZAK_DEEP=1).
"""

from __future__ import annotations

import os

import pytest
from graphql import parse, validate
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis_graphql import queries

from gateway.schema.supergraph import load_supergraph
from tests.federation.alias_swaps import client_errors_only, swap_aliases, unswap
from tests.federation.harness import (
    FederationPool,
    ask_rugzak,
    comparable,
    hand_written_operations,
    rugzak_for,
)
from tests.servers import Server

DEEP = os.environ.get("RUGZAK_DEEP") == "1"
PER_SET = 400 if DEEP else 40


@pytest.mark.parametrize("fixture_set", sorted({name for name, _ in hand_written_operations()}))
def test_other_fields_names_as_response_keys_change_nothing_but_the_keys(
    fixture_set: str, federation_pool: FederationPool, rugzak_pool: dict[str, Server]
) -> None:
    federation = federation_pool.get(fixture_set)
    rugzak = rugzak_for(rugzak_pool, federation, fixture_set)
    schema = load_supergraph(federation.fixtures.supergraph_sdl).api_schema
    drawn: list[str] = []

    @settings(
        max_examples=PER_SET,
        derandomize=not DEEP,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )
    @given(query=queries(schema))
    def draw(query: str) -> None:
        drawn.append(query)

    draw()
    compared = 0
    for index, query in enumerate(dict.fromkeys(drawn)):
        swapped = swap_aliases(query, schema, seed=index)
        if swapped == query or validate(schema, parse(swapped)):
            continue  # nothing swapped, or keys that fragments on two types cannot share
        mapped = unswap(ask_rugzak(rugzak, swapped), swapped)
        if mapped is None:
            continue
        plain = ask_rugzak(rugzak, query)
        assert comparable(client_errors_only(mapped, query)) == comparable(
            client_errors_only(plain, query)
        ), (query, swapped)
        compared += 1
    assert compared >= len(set(drawn)) // 3, f"{fixture_set}: only {compared} compared"
