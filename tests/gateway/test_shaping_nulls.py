"""Null propagation while shaping, checked against graphql-core's executor on the same data.

The shaper completes objects and lists of objects of one known type on a fast path of its own.
Over random trees (nulls anywhere, in nullable and non-null objects, lists and list items) its
data must be graphql-core's, and its errors those of its own general path (which, like the
reference gateways, also reports errors in siblings of a field that nulled their parent, where
graphql-core stops at the first).
"""

from __future__ import annotations

import functools
import random
from typing import Any

import pytest
from graphql import build_schema, execute, parse

from gateway.execution import shaping
from gateway.execution.shaping import Shaper, compile_shape
from gateway.operation import normalize, select_operation

SCHEMA = build_schema(
    """
    type Query { a: A  an: A!  as: [A]  asn: [A!]  asnn: [A!]!  asn2: [A]! }
    type A { id: ID  idn: ID!  b: B  bn: B!  bs: [B!]  bsn: [B]!  name: String }
    type B { x: Int  xn: Int! }
    """
)
B_FIELDS = "{ x xn }"
A_FIELDS = f"{{ id idn b {B_FIELDS} bn {B_FIELDS} bs {B_FIELDS} bsn {B_FIELDS} name }}"
QUERY = "{ " + " ".join(f"{f} {A_FIELDS}" for f in ("a", "an", "as", "asn", "asnn", "asn2")) + " }"


def _b(rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.1:
        return None
    return {
        "x": rng.choice([1, None]),
        "xn": None if rng.random() < 0.1 else 2,
    }


def _list(rng: random.Random, item: Any) -> list[Any] | None:
    if rng.random() < 0.1:
        return None
    return [item(rng) for _ in range(rng.randint(0, 3))]


def _a(rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.1:
        return None
    return {
        "id": rng.choice(["1", None]),
        "idn": None if rng.random() < 0.08 else "2",
        "b": _b(rng),
        "bn": _b(rng),
        "bs": _list(rng, _b),
        "bsn": _list(rng, _b),
        "name": rng.choice(["Ann", None]),
    }


def _data(rng: random.Random) -> dict[str, Any]:
    return {
        "a": _a(rng),
        "an": _a(rng),
        "as": _list(rng, _a),
        "asn": _list(rng, _a),
        "asnn": _list(rng, _a),
        "asn2": _list(rng, _a),
    }


def _general_only(*args: Any) -> Any:
    """The shaping steps with every object and object list sent the general way."""
    fast = (shaping._OBJECT, shaping._OBJECT_NON_NULL, shaping._OBJECT_LIST)
    return tuple(
        (stored, k, f, shaping._COMPLETE if s in fast else s, child)
        for stored, k, f, s, child in STEPS(*args)
    )


STEPS = shaping._steps


def _shape(data: dict[str, Any]) -> tuple[Any, list[Any]]:
    document = parse(QUERY)
    op = normalize(SCHEMA, document, select_operation(document, None), {})
    errors: list[dict[str, Any]] = []
    shaped = Shaper(errors).shape(compile_shape(op), data)
    return shaped, sorted(e["path"] for e in errors)


def test_shaping_nulls_like_the_reference_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    document = parse(QUERY)
    rng = random.Random(20261129)
    fast_paths_taken = 0
    for _ in range(400):
        data = _data(rng)
        shaped, errors = _shape(data)
        assert shaped == execute(SCHEMA, document, root_value=data).data, data
        with monkeypatch.context() as patch:
            patch.setattr(shaping, "_steps", _general_only)
            assert _shape(data) == (shaped, errors), data
        fast_paths_taken += bool(errors)
    assert fast_paths_taken > 100  # the trees did put nulls where they hurt


def _objects(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


def test_pace_is_called_per_object_and_changes_nothing() -> None:
    """An anonymous request's shaping paces itself (gateway/pipeline/shape.py): a call per
    object it shapes, the answer and its errors unchanged."""
    document = parse(QUERY)
    program = compile_shape(normalize(SCHEMA, document, select_operation(document, None), {}))
    rng = random.Random(20261204)
    for _ in range(100):
        data = _data(rng)
        calls: list[None] = []
        errors: list[dict[str, Any]] = []
        paced = Shaper(errors, pace=functools.partial(calls.append, None)).shape(program, data)
        assert (paced, sorted(e["path"] for e in errors)) == _shape(data)
        # every object answered was shaped once; no object that is not in the data was
        assert _objects(paced) <= len(calls) <= _objects(data)


def test_a_null_below_a_failed_object_is_explained_by_its_error() -> None:
    """A subgraph failed to answer `a` (an error at ["a"]) and a later fetch wrote its own
    fields into `a` (fixtures/shareable_values: error_in_one_subgraph_of_a_shared_value): the
    missing non-null `idn` nulls `a`, with no error of its own below the subgraph's."""
    document = parse("{ a { id idn } }")
    op = normalize(SCHEMA, document, select_operation(document, None), {})
    failed = {"message": "geocoder timed out", "path": ["a"]}
    errors: list[dict[str, Any]] = [failed]
    assert Shaper(errors).shape(compile_shape(op), {"a": {"id": "1"}}) == {"a": None}
    assert errors == [failed]
    # without an error above it, the null is reported where it is
    errors = []
    assert Shaper(errors).shape(compile_shape(op), {"a": {"id": "1"}}) == {"a": None}
    assert [e["path"] for e in errors] == [["a", "idn"]]
