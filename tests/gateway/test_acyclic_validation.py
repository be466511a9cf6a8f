"""gateway/limits/acyclic_validation.py: graphql-core's errors, less garbage left in cycles."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest
from graphql import DocumentNode, GraphQLError, parse, validate

from bench.worst_operations import worst_operations
from gateway.limits import OperationLimits
from gateway.limits.acyclic_validation import validate_acyclic
from gateway.schema.supergraph import load_supergraph

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_supergraph((ROOT / "schema.graphql").read_text()).api_schema
INVALID = [
    "{ nosuchfield me { nope } }",
    "query Q($a: Int) { me { name } } query Q { me { name } }",
    "{ ...F } fragment F on Query { ...G } fragment G on Query { ...F }",
    "{ " + " ".join(f"f{i}: nosuch{i}" for i in range(150)) + " }",  # beyond 100 errors
]


def _garbage(run: Callable[[], object]) -> int:
    gc.collect()
    gc.disable()
    try:
        run()
        return gc.collect()
    finally:
        gc.enable()


def _formatted(errors: list[GraphQLError]) -> list[object]:
    return [error.formatted for error in errors]


@pytest.mark.parametrize("text", INVALID + [w.query for w in worst_operations(OperationLimits())])
def test_the_same_errors_as_graphql_core(text: str) -> None:
    document = parse(text)
    assert _formatted(validate_acyclic(SCHEMA, document)) == _formatted(validate(SCHEMA, document))


@pytest.mark.parametrize("name", ["fragments", "repeated"])
def test_a_large_operation_leaves_at_most_half_the_cyclic_garbage(name: str) -> None:
    (worst,) = [w for w in worst_operations(OperationLimits()) if w.name == name]
    document: DocumentNode = parse(worst.query)
    plain = _garbage(lambda: validate(SCHEMA, document))
    ours = _garbage(lambda: validate_acyclic(SCHEMA, document))
    assert ours * 2 <= plain, (ours, plain)
