"""Rugzak's composer against the reference composition library (@theguild/federation-composition).

Every fixture subgraph set (tests/federation/fixtures, the sets under tests/gateway, the
Federation 1 and spelling sets in tests/composition/valid) and the three reference subgraphs are
composed by both; the supergraphs must mean the same: the same API schema (sorted and printed)
and the same join metadata per type and field (tests/composition/supergraph_facts.py), not the
same text. Each set under tests/composition/invalid must be refused by both, ours with the code
listed here.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.composition import CompositionFailed, SubgraphSource, compose
from tests.composition import reference_composer
from tests.composition.supergraph_facts import differences, facts

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REFERENCE_SUBGRAPHS = "reference-subgraphs"


def _set_dirs() -> dict[str, Path]:
    dirs = {f"fixtures/{d.name}": d for d in (ROOT / "tests/federation/fixtures").iterdir()}
    dirs |= {f"gateway/{d.name}": d for d in (ROOT / "tests/gateway").glob("*_subgraphs")}
    dirs |= {f"valid/{d.name}": d for d in (HERE / "valid").iterdir()}
    return {name: path for name, path in sorted(dirs.items()) if list(path.glob("*.graphql"))}


VALID_SETS = _set_dirs()
INVALID_DIR = HERE / "invalid"
# our error code for each invalid set (the reference must refuse it too, with the same code)
INVALID_SETS = {
    "argument_type_mismatch": "FIELD_ARGUMENT_TYPE_MISMATCH",
    "enum_value_mismatch": "ENUM_VALUE_MISMATCH",
    "external_missing_on_base": "EXTERNAL_MISSING_ON_BASE",
    "external_unused": "EXTERNAL_UNUSED",
    "fed1_extension_without_base": "EXTENSION_WITH_NO_BASE",
    "field_type_mismatch": "FIELD_TYPE_MISMATCH",
    "interface_object_without_interface": "INTERFACE_OBJECT_USAGE_ERROR",
    "key_on_missing_field": "KEY_INVALID_FIELDS",
    "key_selects_interface": "KEY_FIELDS_SELECT_INVALID_TYPE",
    "non_shareable_field": "INVALID_FIELD_SHARING",
    "not_imported_directive": "INVALID_GRAPHQL",
    "override_from_self": "OVERRIDE_FROM_SELF_ERROR",
    "provides_on_scalar": "PROVIDES_ON_NON_OBJECT_FIELD",
    "required_argument_missing": "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
    "required_input_field_missing": "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
    "requires_non_external": "REQUIRES_FIELDS_MISSING_EXTERNAL",
    "type_kind_mismatch": "TYPE_KIND_MISMATCH",
    "unsatisfiable_field": "SATISFIABILITY_ERROR",
}


def load_set(path: Path) -> list[SubgraphSource]:
    return [
        SubgraphSource(p.stem, f"http://127.0.0.1/{p.stem}/graphql", p.read_text(encoding="utf-8"))
        for p in sorted(path.glob("*.graphql"))
    ]


def reference_subgraph_sources() -> list[SubgraphSource]:
    from tools.reference_supergraph import CANONICAL_URLS, SUBGRAPHS, served_sdl

    return [SubgraphSource(n, CANONICAL_URLS[n], served_sdl(n)) for n in SUBGRAPHS]


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[str, object]]:
    """What the reference library makes of every set, composed once for the module."""
    why_not = reference_composer.available()
    if why_not:
        pytest.skip(f"reference composition library unavailable: {why_not}")
    sets = {name: load_set(path) for name, path in VALID_SETS.items()}
    sets |= {f"invalid/{name}": load_set(INVALID_DIR / name) for name in INVALID_SETS}
    sets[REFERENCE_SUBGRAPHS] = reference_subgraph_sources()
    return reference_composer.compose_many(sets)


@pytest.mark.parametrize("set_name", list(VALID_SETS))
def test_fixture_set_composes_like_the_reference(
    set_name: str, reference: dict[str, dict[str, object]]
) -> None:
    expected = reference[set_name]
    assert "supergraph" in expected, f"the reference refuses {set_name}: {expected}"
    ours = compose(load_set(VALID_SETS[set_name]))
    assert differences(facts(ours), facts(str(expected["supergraph"]))) == []


def test_reference_subgraphs_compose_like_the_reference(
    reference: dict[str, dict[str, object]],
) -> None:
    expected = reference[REFERENCE_SUBGRAPHS]
    assert "supergraph" in expected, expected
    started = time.perf_counter()
    ours = compose(reference_subgraph_sources())
    assert time.perf_counter() - started < 5.0
    assert differences(facts(ours), facts(str(expected["supergraph"]))) == []
    # and so equivalent to schema.graphql, which `make schema` writes with the reference
    schema_file = (ROOT / "schema.graphql").read_text(encoding="utf-8")
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
