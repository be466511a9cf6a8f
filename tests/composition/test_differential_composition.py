"""Rugzak's composer against the reference composition library (@theguild/federation-composition).

Every fixture subgraph set (tests/federation/fixtures, the sets under tests/gateway, the
Federation 1, mixed and feature sets in tests/composition/valid and valid_unplanned) and the
three reference subgraphs are composed by both; the supergraphs must mean the same: the same
API schema (sorted and printed) and the same join metadata per type and field
(tests/composition/supergraph_facts.py), not the same text. Each set under
tests/composition/invalid must be refused by both, ours with the code
subgraph_sets.INVALID_SETS lists. Known deviations are in test_reference_deviations.py.
"""

from __future__ import annotations

import time

import pytest

from gateway.composition import CompositionFailed, compose
from tests.composition import reference_composer
from tests.composition.subgraph_sets import (
    INVALID_DIR,
    INVALID_SETS,
    REFERENCE_SUBGRAPHS,
    ROOT,
    UNPLANNED_VALID_SETS,
    VALID_SETS,
    load_set,
    reference_subgraph_sources,
)
from tests.composition.supergraph_facts import differences, facts

ALL_VALID_SETS = VALID_SETS | UNPLANNED_VALID_SETS


@pytest.mark.parametrize("set_name", list(ALL_VALID_SETS))
def test_fixture_set_composes_like_the_reference(
    set_name: str, reference: dict[str, dict[str, object]]
) -> None:
    expected = reference[set_name]
    assert "supergraph" in expected, f"the reference refuses {set_name}: {expected}"
    ours = compose(load_set(ALL_VALID_SETS[set_name]))
    assert differences(facts(ours), facts(str(expected["supergraph"]))) == []


def test_reference_subgraphs_compose_like_the_reference(
    reference: dict[str, dict[str, object]],
) -> None:
    sources = reference_subgraph_sources()
    expected = reference_composer.compose_many({REFERENCE_SUBGRAPHS: sources})[REFERENCE_SUBGRAPHS]
    assert "supergraph" in expected, expected
    started = time.perf_counter()
    ours = compose(sources)
    assert time.perf_counter() - started < 5.0
    assert differences(facts(ours), facts(str(expected["supergraph"]))) == []
    # and so equivalent to schema.graphql, which `make schema` writes with the reference (when
    # it is not stale: another test says when it is)
    schema_file = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    if differences(facts(schema_file), facts(str(expected["supergraph"]))) == []:
        assert differences(facts(ours), facts(schema_file)) == []


def test_every_invalid_set_has_an_expected_code() -> None:
    assert sorted(d.name for d in INVALID_DIR.iterdir() if d.is_dir()) == sorted(INVALID_SETS)


@pytest.mark.parametrize("name", list(INVALID_SETS))
def test_invalid_set_is_refused_by_both(name: str, reference: dict[str, dict[str, object]]) -> None:
    code = INVALID_SETS[name]
    expected = reference[f"invalid/{name}"]
    assert "errors" in expected, f"the reference composes invalid/{name}"
    assert code in reference_composer.error_codes(expected), expected["errors"]
    with pytest.raises(CompositionFailed) as refused:
        compose(load_set(INVALID_DIR / name))
    errors = [e for e in refused.value.errors if e.code == code]
    assert errors, [str(e) for e in refused.value.errors]
    for error in errors:  # something a person can act on
        assert error.subgraphs, str(error)
        assert error.coordinate, str(error)
        assert error.hint, str(error)
