"""Where Rugzak's composer knowingly differs from the reference library, and why (each set's
subgraphs say it in a comment). A change on either side shows up here."""

from __future__ import annotations

import pytest
from graphql import build_ast_schema, parse, validate_schema

from gateway.composition import CompositionFailed, compose
from tests.composition import reference_composer
from tests.composition.subgraph_sets import DEVIATIONS_DIR, load_set
from tests.composition.supergraph_facts import differences, facts

Reference = dict[str, dict[str, object]]


def _reference_supergraph(reference: Reference, name: str) -> str:
    result = reference[f"deviations/{name}"]
    assert "supergraph" in result, result
    return str(result["supergraph"])


def _refused_codes(name: str) -> set[str]:
    with pytest.raises(CompositionFailed) as refused:
        compose(load_set(DEVIATIONS_DIR / name))
    return set(refused.value.codes)


def test_progressive_override_of_a_root_field_labels_both_sides(reference: Reference) -> None:
    ours = compose(load_set(DEVIATIONS_DIR / "progressive_root_override"))
    theirs = _reference_supergraph(reference, "progressive_root_override")
    assert differences(facts(ours), facts(theirs)) == [
        "Query.featured @join__field(old): overrideLabel ours 'percent(50)' reference None",
        "planner.progressive Query.featured: ours ('percent(50)', ['new']) "
        "reference ('percent(50)', ['new', 'old'])",
    ]


def test_an_invalid_interface_implementation_is_refused(reference: Reference) -> None:
    theirs = _reference_supergraph(reference, "invalid_interface_field")
    assert validate_schema(build_ast_schema(parse(theirs), assume_valid_sdl=True))
    assert _refused_codes("invalid_interface_field") == {"INVALID_GRAPHQL"}


def test_a_fed1_extension_cannot_resolve_another_subgraphs_key(reference: Reference) -> None:
    _reference_supergraph(reference, "fed1_key_of_another_subgraph")
    assert _refused_codes("fed1_key_of_another_subgraph") == {"SATISFIABILITY_ERROR"}


def test_a_fed1_extends_key_may_not_be_more_nullable(reference: Reference) -> None:
    theirs = _reference_supergraph(reference, "fed1_extends_nullable_key")
    assert "type Person {\n  address: Address\n  id: ID\n" in facts(theirs).api_schema
    assert _refused_codes("fed1_extends_nullable_key") == {"FIELD_TYPE_MISMATCH"}


def test_executable_directives_only_where_every_subgraph_agrees(reference: Reference) -> None:
    ours = facts(compose(load_set(DEVIATIONS_DIR / "executable_directives")))
    theirs = facts(_reference_supergraph(reference, "executable_directives"))
    assert ours.directives == {"upper": ([("strict", "Boolean", "false")], False, ["FIELD"])}
    assert theirs.directives == {
        "upper": ([("strict", "Boolean", "false")], True, ["FIELD"]),
        "trace": ([], False, ["FIELD"]),
    }


def test_a_composed_directive_with_conflicting_arguments_is_refused(reference: Reference) -> None:
    theirs = _reference_supergraph(reference, "composed_directive_conflict")
    assert '@personalData(category: "identity") @personalData(category: "public")' in theirs
    with pytest.raises(CompositionFailed) as refused:
        compose(load_set(DEVIATIONS_DIR / "composed_directive_conflict"))
    (error,) = refused.value.errors
    assert (error.code, error.coordinate, error.subgraphs) == (
        "INCONSISTENT_NON_REPEATABLE_DIRECTIVE_ARGUMENTS",
        "Citizen.name",
        ("a", "b"),
    )
    assert '@personalData(category: "identity") in "a"' in error.message
    assert '@personalData(category: "public") in "b"' in error.message


def test_cost_needs_federation_2_9(reference: Reference) -> None:
    _reference_supergraph(reference, "cost_in_federation_2_8")
    assert _refused_codes("cost_in_federation_2_8") == {"INVALID_LINK_DIRECTIVE_USAGE"}
    apollo = reference_composer.compose_many(
        {"set": load_set(DEVIATIONS_DIR / "cost_in_federation_2_8")}, apollo=True
    )["set"]
    assert "INVALID_LINK_DIRECTIVE_USAGE" in reference_composer.error_codes(apollo)


def test_a_provided_external_interface_object_field_stays_external(reference: Reference) -> None:
    ours = facts(compose(load_set(DEVIATIONS_DIR / "provides_on_interface_object")))
    theirs = facts(_reference_supergraph(reference, "provides_on_interface_object"))
    assert differences(ours, theirs) == [
        "Item.label @join__field(search): external ours True reference False",
        "planner.resolvers Item.label: ours ['catalog'] reference ['catalog', 'search']",
        "planner.resolvers Pen.label: ours ['catalog'] reference ['catalog', 'search']",
    ]
    apollo = reference_composer.compose_many(
        {"set": load_set(DEVIATIONS_DIR / "provides_on_interface_object")}, apollo=True
    )["set"]
    assert differences(ours, facts(str(apollo["supergraph"]))) == []


def test_an_override_between_interface_objects_moves_the_field(reference: Reference) -> None:
    ours = facts(compose(load_set(DEVIATIONS_DIR / "override_on_interface_object")))
    theirs = facts(_reference_supergraph(reference, "override_on_interface_object"))
    assert differences(ours, theirs) == [
        "Node.views @join__field(b): only in reference",
        "planner.resolvers Doc.views: ours ['c'] reference ['b', 'c']",
        "planner.resolvers Node.views: ours ['c'] reference ['b', 'c']",
    ]


def test_a_field_granted_more_widely_than_what_it_requires_is_refused(
    reference: Reference,
) -> None:
    _reference_supergraph(reference, "transitive_access_weaker_groups")
    assert _refused_codes("transitive_access_weaker_groups") == {
        "MISSING_TRANSITIVE_AUTH_REQUIREMENTS"
    }


def test_a_field_granted_more_narrowly_than_what_it_requires_composes(
    reference: Reference,
) -> None:
    theirs = reference["deviations/transitive_access_stronger_groups"]
    assert "MISSING_TRANSITIVE_AUTH_REQUIREMENTS" in reference_composer.error_codes(theirs)
    compose(load_set(DEVIATIONS_DIR / "transitive_access_stronger_groups"))


# Sets Rugzak treats like Apollo's composition where the reference library differs: the set ->
# the reference library's error codes (None: it composes).
LIKE_APOLLO: dict[str, set[str] | None] = {
    "composed_directive_argument_types": None,
    "cost_weight_not_an_int": {"INVALID_INPUT"},
    "directive_in_key": {"KEY_INVALID_FIELDS"},
    "external_on_interface": None,
    "imported_scope_scalar": {"INVALID_LINK_DIRECTIVE_USAGE"},
    "input_object_default_field_order": {"FIELD_ARGUMENT_DEFAULT_MISMATCH"},
    "interface_object_key_field_not_shared": None,
    "input_list_nullability": {"FIELD_TYPE_MISMATCH"},
    "interface_field_type_mismatch": {"INVALID_GRAPHQL"},
    "key_through_union": None,
    "link_import_without_at": {"COMPOSITION_ERROR"},
    "namespaced_federation_link": {"INVALID_GRAPHQL"},
    "requires_on_interface_object": None,
    "tag_on_schema": {"INVALID_GRAPHQL"},
}


@pytest.fixture(scope="module")
def apollo() -> Reference:
    return reference_composer.compose_many(
        {name: load_set(DEVIATIONS_DIR / name) for name in LIKE_APOLLO}, apollo=True
    )


@pytest.mark.parametrize("name", sorted(LIKE_APOLLO))
def test_like_apollo_where_the_reference_differs(
    name: str, reference: Reference, apollo: Reference
) -> None:
    theirs = reference[f"deviations/{name}"]
    if LIKE_APOLLO[name] is None:
        assert "supergraph" in theirs, theirs
    else:
        assert reference_composer.error_codes(theirs) == LIKE_APOLLO[name], theirs
    expected = apollo[name]
    if "supergraph" in expected:
        ours = compose(load_set(DEVIATIONS_DIR / name))
        assert differences(facts(ours), facts(str(expected["supergraph"]))) == []
    else:
        assert _refused_codes(name) & reference_composer.error_codes(expected), expected


def test_an_uncomposed_spec_stays_out_of_the_supergraph(reference: Reference) -> None:
    ours = facts(compose(load_set(DEVIATIONS_DIR / "uncomposed_custom_link")))
    theirs = facts(_reference_supergraph(reference, "uncomposed_custom_link"))
    assert differences(ours, theirs) == [
        "composed directives: ours {'links': [], 'applied': {'cost': {}, 'listSize': {}}} "
        "reference {'links': ['https://municipal.example/nothing/v1.0'], "
        "'applied': {'cost': {}, 'listSize': {}, 'unused': {}}}"
    ]
    apollo = reference_composer.compose_many(
        {"set": load_set(DEVIATIONS_DIR / "uncomposed_custom_link")}, apollo=True
    )["set"]
    assert differences(ours, facts(str(apollo["supergraph"]))) == []
