"""gateway/value_text.py against graphql-core's printer: the same text where a value fits on a
line, and always text that parses back to the same value."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    ArgumentNode,
    FieldNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    parse_value,
    print_ast,
    visit,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.value_text import argument_text, value_text, variable_definition_text

ROOT = Path(__file__).resolve().parents[2]


class _Arguments(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[ArgumentNode] = []

    def enter_field(self, node: FieldNode, *_: object) -> None:
        self.found.extend(node.arguments or ())


def _documents() -> list[Path]:
    found = sorted((ROOT / "tests" / "federation" / "fixtures").rglob("*.graphql"))
    return [p for p in found if "operations" in p.parts] + sorted(
        (ROOT / "examples").glob("*.graphql")
    )


def test_the_fixtures_operations_print_as_graphql_core_prints_them() -> None:
    arguments = variables = 0
    for path in _documents():
        document = parse(path.read_text())
        collector = _Arguments()
        visit(document, collector)
        for argument in collector.found:
            arguments += 1
            printed, expected = argument_text(argument), print_ast(argument)
            if "\n" in expected:  # graphql-core lays out a long value over lines; we do not
                again = parse_value(printed.split(": ", 1)[1])
                assert print_ast(again) == print_ast(argument.value), path
            else:
                assert printed == expected, path
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                for variable in definition.variable_definitions or ():
                    variables += 1
                    assert variable_definition_text(variable) == print_ast(variable), path
    assert arguments > 100 and variables > 10


def _json_string(text: str) -> str:
    escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text)
    return f'"{escaped}"'


_NAMES = st.sampled_from(["a", "b", "id", "first", "where"])
_SCALARS = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["1.5", "-0.25e3", "6E-2"]),
    st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=12).map(
        _json_string
    ),
    st.sampled_from(["true", "false", "null", "RED", "$v", '"""block\n  "quoted" """']),
)


_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + " ".join(items) + "]"),
        st.dictionaries(_NAMES, inner, max_size=3).map(
            lambda fields: "{" + " ".join(f"{k}: {v}" for k, v in fields.items()) + "}"
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=_VALUES)
def test_any_value_prints_as_text_that_parses_back_to_it(text: str) -> None:
    node = parse_value(text)
    printed = value_text(node)
    assert print_ast(parse_value(printed)) == print_ast(node)
    expected = print_ast(node)
    if "\n" not in expected:
        assert printed == expected
