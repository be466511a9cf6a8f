"""The subgraph sets tests/composition composes, by name: valid sets (fixtures of other test
suites and our own), invalid sets with the code we refuse them with, known deviations from the
reference library; and the three reference subgraphs (composed apart, as importing them can
fail on its own)."""

from __future__ import annotations

from pathlib import Path

from gateway.composition import SubgraphSource

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REFERENCE_SUBGRAPHS = "reference-subgraphs"
INVALID_DIR = HERE / "invalid"
DEVIATIONS_DIR = HERE / "deviations"
# Federation versions the reference library does not know yet (v2.10+): Apollo's composition
# is their oracle
NEWER_DIR = HERE / "newer"
NEWER_VALID_SETS = {d.name: d for d in sorted((NEWER_DIR / "valid").iterdir()) if d.is_dir()}
NEWER_INVALID_SETS = {"cache_tag_before_2_12": "INVALID_LINK_DIRECTIVE_USAGE"}


def _valid_dirs() -> dict[str, Path]:
    dirs = {f"fixtures/{d.name}": d for d in (ROOT / "tests/federation/fixtures").iterdir()}
    dirs |= {f"gateway/{d.name}": d for d in (ROOT / "tests/gateway").glob("*_subgraphs")}
    dirs |= {f"valid/{d.name}": d for d in (HERE / "valid").iterdir()}
    return {name: path for name, path in sorted(dirs.items()) if list(path.glob("*.graphql"))}


VALID_SETS = _valid_dirs()
# valid sets tests/federation/test_planning_properties.py leaves out, as hypothesis-graphql
# generates operations the API schema refuses for them (it does not know @oneOf inputs)
UNPLANNED_VALID_SETS = {
    f"valid/{d.name}": d for d in sorted((HERE / "valid_unplanned").iterdir()) if d.is_dir()
}
# our error code for each invalid set (the reference refuses it too, with the same code)
INVALID_SETS = {
    "argument_default_mismatch": "FIELD_ARGUMENT_DEFAULT_MISMATCH",
    "argument_type_mismatch": "FIELD_ARGUMENT_TYPE_MISMATCH",
    "auth_on_interface": "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
    "auth_on_interface_object": "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
    "compose_directive_major_versions": "DIRECTIVE_COMPOSITION_ERROR",
    "compose_directive_without_link": "DIRECTIVE_COMPOSITION_ERROR",
    "compose_unknown_directive": "DIRECTIVE_COMPOSITION_ERROR",
    "context_field_reached_without_context": "SATISFIABILITY_ERROR",
    "context_invalid_selection": "CONTEXT_INVALID_SELECTION",
    "context_name_invalid": "CONTEXT_NAME_INVALID",
    "context_no_resolvable_key": "CONTEXT_NO_RESOLVABLE_KEY",
    "context_not_set": "CONTEXT_NOT_SET",
    "context_on_field": "INVALID_GRAPHQL",
    "context_unreachable": "SATISFIABILITY_ERROR",
    "contextual_argument_required_elsewhere": "CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS",
    "cost_on_interface_field": "COST_APPLIED_TO_INTERFACE_FIELD",
    "default_value_uses_inaccessible": "DEFAULT_VALUE_USES_INACCESSIBLE",
    "duplicate_federation_link": "INVALID_LINK_DIRECTIVE_USAGE",
    "empty_merged_enum": "EMPTY_MERGED_ENUM_TYPE",
    "empty_merged_input": "EMPTY_MERGED_INPUT_TYPE",
    "enum_both_ways_values_differ": "ENUM_VALUE_MISMATCH",
    "enum_value_mismatch": "ENUM_VALUE_MISMATCH",
    "enum_values_all_inaccessible": "ONLY_INACCESSIBLE_CHILDREN",
    "external_argument_missing": "EXTERNAL_ARGUMENT_MISSING",
    "external_argument_type_mismatch": "FIELD_ARGUMENT_TYPE_MISMATCH",
    "external_missing_on_base": "EXTERNAL_MISSING_ON_BASE",
    "external_unused": "EXTERNAL_UNUSED",
    "fed1_extension_without_base": "EXTENSION_WITH_NO_BASE",
    "fed1_value_type_differs": "SATISFIABILITY_ERROR",
    "field_type_enum_vs_scalar": "FIELD_TYPE_MISMATCH",
    "field_type_mismatch": "FIELD_TYPE_MISMATCH",
    "import_not_in_version": "INVALID_LINK_DIRECTIVE_USAGE",
    "import_type_not_in_version": "INVALID_LINK_DIRECTIVE_USAGE",
    "inaccessible_implementation": "IMPLEMENTED_BY_INACCESSIBLE",
    "input_field_default_mismatch": "INPUT_FIELD_DEFAULT_MISMATCH",
    "input_fields_all_inaccessible": "ONLY_INACCESSIBLE_CHILDREN",
    "interface_field_no_implementation": "INTERFACE_FIELD_NO_IMPLEM",
    "interface_key_missing_implementation": "INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE",
    "interface_object_before_2_3": "INVALID_LINK_DIRECTIVE_USAGE",
    "interface_object_field_not_shareable": "INVALID_FIELD_SHARING",
    "interface_object_field_shared_one_side": "INVALID_FIELD_SHARING",
    "interface_object_without_interface": "INTERFACE_OBJECT_USAGE_ERROR",
    "interface_object_without_interface_anywhere": "INTERFACE_OBJECT_USAGE_ERROR",
    "key_fields_has_args": "KEY_FIELDS_HAS_ARGS",
    "key_fields_not_a_string": "KEY_INVALID_FIELDS_TYPE",
    "key_on_field": "INVALID_GRAPHQL",
    "key_on_missing_field": "KEY_INVALID_FIELDS",
    "key_selects_interface": "KEY_FIELDS_SELECT_INVALID_TYPE",
    "key_unsupported_on_interface": "KEY_UNSUPPORTED_ON_INTERFACE",
    "list_size_invalid_slicing_argument": "LIST_SIZE_INVALID_SLICING_ARGUMENT",
    "list_size_sized_field_not_a_list": "LIST_SIZE_APPLIED_TO_NON_LIST",
    "missing_transitive_auth": "MISSING_TRANSITIVE_AUTH_REQUIREMENTS",
    "mutation_not_shareable": "INVALID_FIELD_SHARING",
    "no_queries": "NO_QUERIES",
    "non_shareable_field": "INVALID_FIELD_SHARING",
    "not_imported_directive": "INVALID_GRAPHQL",
    "only_inaccessible_children": "ONLY_INACCESSIBLE_CHILDREN",
    "override_from_self": "OVERRIDE_FROM_SELF_ERROR",
    "override_label_before_2_7": "INVALID_GRAPHQL",
    "override_label_invalid": "OVERRIDE_LABEL_INVALID",
    "override_missing_from": "INVALID_GRAPHQL",
    "override_on_interface": "OVERRIDE_ON_INTERFACE",
    "override_source_has_override": "OVERRIDE_SOURCE_HAS_OVERRIDE",
    "override_with_external": "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
    "progressive_override_without_source": "SATISFIABILITY_ERROR",
    "provides_fields_has_args": "PROVIDES_FIELDS_HAS_ARGS",
    "provides_interface_field_not_external": "PROVIDES_FIELDS_MISSING_EXTERNAL",
    "provides_on_interface_field": "PROVIDES_UNSUPPORTED_ON_INTERFACE",
    "provides_on_scalar": "PROVIDES_ON_NON_OBJECT_FIELD",
    "query_root_inaccessible": "QUERY_ROOT_TYPE_INACCESSIBLE",
    "referenced_inaccessible": "REFERENCED_INACCESSIBLE",
    "required_argument_missing": "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
    "required_inaccessible": "REQUIRED_INACCESSIBLE",
    "required_input_field_missing": "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
    "requires_from_unresolvable_entity": "SATISFIABILITY_ERROR",
    "requires_non_external": "REQUIRES_FIELDS_MISSING_EXTERNAL",
    "requires_on_interface": "REQUIRES_UNSUPPORTED_ON_INTERFACE",
    "requires_scopes_unknown_arg": "INVALID_GRAPHQL",
    "requires_unreachable": "SATISFIABILITY_ERROR",
    "root_mutation_used": "ROOT_MUTATION_USED",
    "root_query_used": "ROOT_QUERY_USED",
    "shareable_on_interface_field": "INVALID_SHAREABLE_USAGE",
    "shareable_on_type_extension_only": "INVALID_FIELD_SHARING",
    "shareable_repeated_before_2_2": "INVALID_GRAPHQL",
    "tag_name_invalid": "INVALID_GRAPHQL",
    "tag_on_external_field": "MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL",
    "type_kind_mismatch": "TYPE_KIND_MISMATCH",
    "union_member_missing": "INVALID_GRAPHQL",
    "unknown_federation_version": "UNKNOWN_FEDERATION_LINK_VERSION",
    "unsatisfiable_field": "SATISFIABILITY_ERROR",
    "value_type_field_missing": "SATISFIABILITY_ERROR",
}


def load_set(path: Path) -> list[SubgraphSource]:
    return [
        SubgraphSource(p.stem, f"http://127.0.0.1/{p.stem}/graphql", p.read_text(encoding="utf-8"))
        for p in sorted(path.glob("*.graphql"))
    ]


def reference_subgraph_sources() -> list[SubgraphSource]:
    """The SDL the three reference subgraphs serve, taken in-process (importing them)."""
    from tools.reference_supergraph import CANONICAL_URLS, SUBGRAPHS, served_sdl

    return [SubgraphSource(n, CANONICAL_URLS[n], served_sdl(n)) for n in SUBGRAPHS]


def newer_sets() -> dict[str, list[SubgraphSource]]:
    sets = {f"valid/{n}": load_set(d) for n, d in NEWER_VALID_SETS.items()}
    return sets | {f"invalid/{n}": load_set(NEWER_DIR / "invalid" / n) for n in NEWER_INVALID_SETS}


def all_sets() -> dict[str, list[SubgraphSource]]:
    sets = {name: load_set(path) for name, path in (VALID_SETS | UNPLANNED_VALID_SETS).items()}
    sets |= {f"invalid/{name}": load_set(INVALID_DIR / name) for name in INVALID_SETS}
    sets |= {f"deviations/{d.name}": load_set(d) for d in DEVIATIONS_DIR.iterdir() if d.is_dir()}
    return sets
