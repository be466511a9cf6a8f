"""Federation v2.10 to v2.12 (the newest Rugzak composes), which the reference library does not
know yet: compared with Apollo's composition instead, the same way (API schema and join
metadata, tests/composition/supergraph_facts.py; the same code for refused sets)."""

from __future__ import annotations

import pytest

from gateway.composition import CompositionFailed, compose
from tests.composition import reference_composer
from tests.composition.subgraph_sets import (
    NEWER_DIR,
    NEWER_INVALID_SETS,
    NEWER_VALID_SETS,
    load_set,
)
from tests.composition.supergraph_facts import differences, facts

Reference = dict[str, dict[str, object]]


@pytest.mark.parametrize("name", list(NEWER_VALID_SETS))
def test_newer_federation_set_composes_like_apollo(name: str, apollo_reference: Reference) -> None:
    expected = apollo_reference[f"valid/{name}"]
    assert "supergraph" in expected, expected
    ours = compose(load_set(NEWER_VALID_SETS[name]))
    assert differences(facts(ours), facts(str(expected["supergraph"]))) == []


@pytest.mark.parametrize("name", list(NEWER_INVALID_SETS))
def test_newer_invalid_set_is_refused_by_both(name: str, apollo_reference: Reference) -> None:
    code = NEWER_INVALID_SETS[name]
    expected = apollo_reference[f"invalid/{name}"]
    assert code in reference_composer.error_codes(expected), expected
    with pytest.raises(CompositionFailed) as refused:
        compose(load_set(NEWER_DIR / "invalid" / name))
    assert code in refused.value.codes


def test_versions_after_2_12_are_refused() -> None:
    sdl = """extend schema @link(url: "https://specs.apollo.dev/federation/v2.13", import: ["@key"])
    type Query { a: String }"""
    from gateway.composition import SubgraphSource

    with pytest.raises(CompositionFailed) as refused:
        compose([SubgraphSource("a", "http://a.test/graphql", sdl)])
    assert refused.value.codes == ["UNKNOWN_FEDERATION_LINK_VERSION"]
