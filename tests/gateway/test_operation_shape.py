"""The shape of a document, measured before validation in time linear in the document, and the
limits checked against it."""

from __future__ import annotations

import pytest
from graphql import parse
from graphql.language import Lexer, Source, TokenKind

from gateway.limits import LimitSettings, OperationLimits
from gateway.limits.refusal import LimitExceeded
from gateway.limits.shape import Shape, check, measure, token_count


def shape(query: str, budget: int = 10**6) -> Shape:
    document = parse(query)
    return measure(document, len(query.encode()), token_count(document), budget)


def multiplied(width: int) -> str:
    """Three fragments, each `width` aliases of the next: width^3 leaf fields."""
    return (
        "{ ...A }\nfragment A on Query {"
        + "".join(f' a{i}: institution(institutionNumber: "1") {{ ...B }}' for i in range(width))
        + "}\nfragment B on Institution {"
        + "".join(f" b{i}: municipality {{ ...C }}" for i in range(width))
        + "}\nfragment C on Municipality {"
        + "".join(f" c{i}: name" for i in range(width))
        + "}"
    )


def test_fragments_are_expanded_in_the_counts() -> None:
    found = shape(multiplied(30))
    assert found.fields == 30 + 30 * 30 + 30**3
    assert found.aliases == found.fields  # every field here has an alias
    assert (found.depth, found.root_fields, found.fragments) == (3, 30, 3)


def test_depth_root_fields_and_directives() -> None:
    found = shape(
        "query Q($on: Boolean!) @live { a: me @include(if: $on) { name { givenName } } "
        "...F ... on Query @skip(if: false) { __typename } }\n"
        "fragment F on Query @x { municipalities { name } }"
    )
    assert found.depth == 3
    assert found.root_fields == 3  # me, municipalities (through F), __typename (inline)
    assert found.directives == 4  # @live, @include, @skip, and F's own
    assert found.aliases == 1


def test_one_fragment_spread_twice_in_one_selection_set_counts_once() -> None:
    found = shape("{ ...F ...F ... on Query { ...F } }\nfragment F on Query { __typename }")
    assert found.fields == 1


def test_repeated_counts_the_nodes_on_one_response_path() -> None:
    assert shape("{ __typename __typename }").repeated == 2
    # merged parents merge their selections: 2 x 3 nodes on municipalities.name
    nested = "{ municipalities { name name name } municipalities { name name name } }"
    assert shape(nested).repeated == 6
    # through fragments, and an alias makes another path
    with_fragments = (
        "{ municipalities { ...F ...G } m: municipalities { ...F } }\n"
        "fragment F on Municipality { name name }\nfragment G on Municipality { name }"
    )
    assert shape(with_fragments).repeated == 3


def test_repeated_is_not_measured_beyond_the_fields_budget() -> None:
    assert shape(multiplied(12), budget=1000).repeated is None
    with pytest.raises(LimitExceeded) as refused:
        check(shape(multiplied(12), budget=1000), OperationLimits())
    assert refused.value.code == "MAX_FIELDS_LIMIT"


def test_cycles_and_unknown_fragments_count_as_empty() -> None:
    found = shape(
        "{ ...A ...Nowhere }\nfragment A on Query { __typename ...B }\n"
        "fragment B on Query { ...A municipalities { name } }"
    )
    assert found.fields >= 1  # no recursion error, no endless loop


def test_a_long_chain_of_fragments_does_not_exhaust_the_stack() -> None:
    chain = 5_000
    query = "{ ...F0 }\n" + "\n".join(
        f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(chain)
    )
    query += f"\nfragment F{chain} on Query {{ __typename }}"
    found = shape(query)
    assert (found.fields, found.fragments, found.repeated) == (1, chain + 1, 1)


def test_tokens_are_the_lexers_without_comments() -> None:
    query = "# a comment\n{ a: me { name { givenName } } }  # another\n"
    lexer, expected = Lexer(Source(query)), 0
    while (token := lexer.advance()).kind is not TokenKind.EOF:
        expected += token.kind is not TokenKind.COMMENT
    assert token_count(parse(query)) == expected == 11


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (OperationLimits(max_bytes=10), "QUERY_TOO_LARGE"),
        (OperationLimits(max_tokens=5), "MAX_TOKENS_LIMIT"),
        (OperationLimits(max_fields=2), "MAX_FIELDS_LIMIT"),
        (OperationLimits(max_depth=2), "MAX_DEPTH_LIMIT"),
        (OperationLimits(max_aliases=0), "MAX_ALIASES_LIMIT"),
        (OperationLimits(max_root_fields=1), "MAX_ROOT_FIELDS_LIMIT"),
        (OperationLimits(max_directives=0), "MAX_DIRECTIVES_LIMIT"),
        (OperationLimits(max_fragments=0), "MAX_FRAGMENTS_LIMIT"),
        (OperationLimits(max_repeated_fields=1), "MAX_REPEATED_FIELDS_LIMIT"),
    ],
)
def test_each_limit_refuses_with_its_code(limits: OperationLimits, code: str) -> None:
    query = (
        "{ a: me @include(if: true) { name { givenName } } ...F }\n"
        "fragment F on Query { __typename __typename }"
    )
    found = shape(query)
    check(found, OperationLimits())
    with pytest.raises(LimitExceeded) as refused:
        check(found, limits)
    assert refused.value.code == code
    error = refused.value.to_graphql()
    assert error["extensions"]["limit"] == getattr(limits, _field(code))


def _field(code: str) -> str:
    return {
        "QUERY_TOO_LARGE": "max_bytes",
        "MAX_TOKENS_LIMIT": "max_tokens",
        "MAX_FIELDS_LIMIT": "max_fields",
        "MAX_DEPTH_LIMIT": "max_depth",
        "MAX_ALIASES_LIMIT": "max_aliases",
        "MAX_ROOT_FIELDS_LIMIT": "max_root_fields",
        "MAX_DIRECTIVES_LIMIT": "max_directives",
        "MAX_FRAGMENTS_LIMIT": "max_fragments",
        "MAX_REPEATED_FIELDS_LIMIT": "max_repeated_fields",
    }[code]


def test_settings_per_client_inherit_the_defaults_and_refuse_nonsense(tmp_path: object) -> None:
    settings = LimitSettings.parse(
        '{"max_depth": 12, "clients": {"staff-app": {"max_cost": 20000}}}'
    )
    assert settings.default.max_depth == 12 and settings.default.max_cost == 5000
    staff = settings.for_client("staff-app")
    assert (staff.max_depth, staff.max_cost) == (12, 20000)
    assert settings.for_client("other") is settings.default
    assert settings.widest().max_cost == 20000
    for bad in ('{"max_dept": 3}', '{"max_depth": -1}', '{"max_depth": true}', "[]", "{",
                '{"clients": {"x": 3}}', '{"max_depth": 0}'):  # fmt: skip
        with pytest.raises(ValueError):
            LimitSettings.parse(bad)
    assert LimitSettings.parse('{"list_size": 0}').default.list_size == 0
