"""A generic Federation v2 fixture subgraph: an SDL plus a JSON document of data, nothing else.

It exists so that many federation constructs can be tested cheaply: a test writes a subgraph's SDL
and the data it should answer with, and gets a real subgraph that answers

- `{ _service { sdl } }` with the SDL exactly as written (the input of composition),
- root queries and mutations, from the data's `"Query"` / `"Mutation"` objects,
- `_entities(representations:)`, by looking each representation up by its key fields in the data's
  `"entities"` table.

The schema is built with graphql-core from the SDL plus the federation definitions a subgraph adds
(`_Any`, `_Entity`, `_Service`, `Query._entities`, `Query._service`). Federation directives are
not defined: the SDL is taken as valid (`assume_valid_sdl`), since composition is what checks it.

A Federation 1 subgraph (an SDL without a `@link` to the federation spec) is served as well: its
directives have their plain names (`@key`), and `extend type X @key(...)` of a type the SDL does
not otherwise define is taken as the definition of X (an entity like any other; `@extends` needs
nothing more). Its `_service { sdl }` is the SDL as written too.

The data document:

```json
{
  "Query": {"topProducts": [{"__ref": {"__typename": "Product", "upc": "1"}}]},
  "Mutation": {"...": "..."},
  "entities": {"Product": [{"upc": "1", "name": "Table", "price": 899}]}
}
```

Field values are plain JSON, resolved by field name, with these special objects (anywhere a field
value or list item stands):

- `{"__ref": {"__typename": T, <key fields>}}`: the entity record of type T with those key values
  (null if there is none).
- `{"__error": "message"}` or `{"__error": {"message": ..., "extensions": {...}}}`: the field (or
  list item) fails with that GraphQL error, at its own path.
- `{"__format": "ships {weight} g at {price} cents"}`: `str.format_map` over the parent object, i.e.
  the entity record merged with the representation the gateway sent; so a `@requires` field can
  show which required values arrived. A key the parent lacks is an error (a `KeyError`), unless
  the object also has `"__missing": "-"`: then it formats as that text, and a key looked up in a
  null (`{address[city]}` with `address: null`) formats as `None`, like the null itself; so a
  field can show which of several required values arrived (e.g. per member of an abstract type).
- `{"__lookup": T}`: the entity record of type T whose fields equal the field's arguments (e.g.
  `user(id: "1")`); null if none.
- `{"__cases": [{"args": {...}, "value": ...}], "__default": ...}`: the value of the first case
  whose args are all equal to the field's arguments (defaults applied), else `__default` (null).

Objects in abstract positions (interfaces, unions) need a `"__typename"`; entity records get theirs
from the table. `_entities` answers a representation with the record matching one of the type's
`@key`s, merged with the representation (representation values win: they carry `@requires`
fields; objects, and lists of objects of one length, merge field by field); when the data has no
table at all for that type, the representation itself is the entity (a stub); when the table
exists but nothing matches, null.

An entity interface (`interface Node @key(fields: "id")`, Federation 2.3) has no table of its own:
a representation whose `__typename` is the interface (as a gateway sends for an `@interfaceObject`
elsewhere) is looked up by the interface's keys in the tables of the types implementing it, and
answered as that concrete type (null if none matches).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    OperationDefinitionNode,
    OperationType,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    SelectionSetNode,
    StringValueNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    build_ast_schema,
    graphql,
    parse,
    value_from_ast_untyped,
)

FEDERATION_SPEC_PREFIX = "https://specs.apollo.dev/federation/"

JSON = Any


@dataclass(frozen=True)
class EntityKey:
    """One `@key` of an entity type: its field set, as a tree of field names."""

    fields: tuple[tuple[str, EntityKey | None], ...]

    def project(self, value: Mapping[str, JSON]) -> JSON | None:
        """The key's values taken from `value`, or None when some key field is missing."""
        out: dict[str, JSON] = {}
        for name, sub in self.fields:
            if name not in value:
                return None
            field_value = value[name]
            if sub is not None:
                if isinstance(field_value, list):
                    items = [
                        sub.project(v) if isinstance(v, Mapping) else None for v in field_value
                    ]
                    if any(item is None for item in items):
                        return None
                    field_value = items
                elif isinstance(field_value, Mapping):
                    field_value = sub.project(field_value)
                    if field_value is None:
                        return None
                elif field_value is not None:
                    return None
            out[name] = field_value
        return out


def parse_field_set(fields: str) -> EntityKey:
    """Parse a federation FieldSet (`"id organization { id }"`) into an EntityKey."""
    document = parse("{" + fields + "}", no_location=True)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return _key_from_selection_set(operation.selection_set)


def _key_from_selection_set(selection_set: SelectionSetNode) -> EntityKey:
    fields: list[tuple[str, EntityKey | None]] = []
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode):
            raise ValueError("fragments in @key field sets are not supported by the fixture")
        sub = _key_from_selection_set(selection.selection_set) if selection.selection_set else None
        fields.append((selection.name.value, sub))
    return EntityKey(tuple(fields))


def _federation_names(document: DocumentNode) -> dict[str, str]:
    """Local names of federation directives in this SDL (handles `import` aliases and `as`).

    An SDL without a `@link` to the federation spec is a Federation 1 subgraph: its directives
    have their plain names (`@key`).
    """
    prefix = "federation"
    imported: dict[str, str] = {}
    linked = False
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "link":
                continue
            args = {arg.name.value: arg.value for arg in directive.arguments or ()}
            url = args.get("url")
            if not isinstance(url, StringValueNode) or not url.value.startswith(
                FEDERATION_SPEC_PREFIX
            ):
                continue
            linked = True
            alias = args.get("as")
            if isinstance(alias, StringValueNode):
                prefix = alias.value
            imports = value_from_ast_untyped(args["import"]) if "import" in args else []
            for item in imports or ():
                if isinstance(item, str):
                    imported[item.lstrip("@")] = item.lstrip("@")
                elif isinstance(item, Mapping) and "name" in item:
                    name = str(item["name"]).lstrip("@")
                    imported[name] = str(item.get("as", item["name"])).lstrip("@")
    names = {}
    for directive_name in ("key", "interfaceObject"):
        default = f"{prefix}__{directive_name}" if linked else directive_name
        names[directive_name] = imported.get(directive_name, default)
    return names


def _directive_args(
    node: TypeDefinitionNode | TypeExtensionNode, name: str
) -> list[dict[str, Any]]:
    found = []
    for directive in node.directives or ():
        if directive.name.value == name:
            arguments = directive.arguments or ()
            found.append({arg.name.value: value_from_ast_untyped(arg.value) for arg in arguments})
    return found


def _query_type_name(document: DocumentNode) -> str:
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for operation_type in definition.operation_types or ():
                if operation_type.operation == OperationType.QUERY:
                    return operation_type.type.name.value
    return "Query"


def _with_orphan_extensions_defined(document: DocumentNode) -> DocumentNode:
    """Turn `extend type X` of a type the SDL never defines into its definition (Fed v1)."""
    defined = {d.name.value for d in document.definitions if isinstance(d, TypeDefinitionNode)}
    definitions: list[Any] = []
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeExtensionNode) and definition.name.value not in defined:
            defined.add(definition.name.value)
            definition = ObjectTypeDefinitionNode(
                name=definition.name,
                interfaces=definition.interfaces,
                directives=definition.directives,
                fields=definition.fields,
            )
        definitions.append(definition)
    return DocumentNode(definitions=tuple(definitions))


class _Root:
    """The root value: root fields read from the data's object named like the root type."""

    def __init__(self, data: Mapping[str, JSON]) -> None:
        self.data = data


class FixtureSubgraph:
    """A subgraph schema over an SDL and JSON data; `execute` answers one GraphQL request."""

    def __init__(self, sdl: str, data: Mapping[str, JSON]) -> None:
        self.sdl = sdl
        self.data = data
        document = _with_orphan_extensions_defined(parse(sdl))
        names = _federation_names(document)
        query_name = _query_type_name(document)

        self.keys: dict[str, list[EntityKey]] = {}
        # entity interfaces (`interface Node @key(...)`): their keys, not members of `_Entity`
        self.interface_keys: dict[str, list[EntityKey]] = {}
        for definition in document.definitions:
            if isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
                keys = self.keys
            elif isinstance(definition, InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode):
                keys = self.interface_keys
            else:
                continue
            for args in _directive_args(definition, names["key"]):
                if args.get("resolvable", True) is False:
                    continue
                key = parse_field_set(str(args["fields"]))
                keys.setdefault(definition.name.value, []).append(key)

        has_query = any(
            isinstance(d, ObjectTypeDefinitionNode) and d.name.value == query_name
            for d in document.definitions
        )
        extra = ["scalar _Any", "type _Service { sdl: String }"]
        root_fields = ["_service: _Service!"]
        if self.keys:
            extra.append("union _Entity = " + " | ".join(sorted(self.keys)))
            root_fields.insert(0, "_entities(representations: [_Any!]!): [_Entity]!")
        extend = "extend type" if has_query else "type"
        extra.append(f"{extend} {query_name} {{ {' '.join(root_fields)} }}")
        full = DocumentNode(
            definitions=(*document.definitions, *parse("\n".join(extra)).definitions)
        )
        self.schema: GraphQLSchema = build_ast_schema(full, assume_valid_sdl=True)

        tables = data.get("entities", {})
        self.tables: dict[str, list[dict[str, JSON]]] = {
            typename: [{**record, "__typename": typename} for record in records]
            for typename, records in tables.items()
        }

    @classmethod
    def from_files(cls, sdl_path: Path, data_path: Path | None) -> FixtureSubgraph:
        data = json.loads(data_path.read_text()) if data_path is not None else {}
        return cls(sdl_path.read_text(), data)

    async def execute(
        self,
        query: str,
        variables: Mapping[str, JSON] | None = None,
        operation_name: str | None = None,
    ) -> dict[str, JSON]:
        """One GraphQL request; returns the response body (`data`, and `errors` if any)."""
        result: ExecutionResult = await graphql(
            self.schema,
            query,
            root_value=_Root(self.data),
            variable_values=dict(variables) if variables is not None else None,
            operation_name=operation_name,
            field_resolver=self._resolve_field,
            type_resolver=self._resolve_type,
        )
        return dict(result.formatted)

    # -- lookups -------------------------------------------------------------------------------

    def find_entity(self, representation: Mapping[str, JSON]) -> dict[str, JSON] | None:
        """The record for a representation (`__typename` + key fields), merged with it."""
        typename = representation.get("__typename")
        if not isinstance(typename, str):
            return None
        if typename in self.interface_keys and typename not in self.tables:
            return self._find_interface_entity(typename, representation)
        if typename not in self.tables:
            return dict(representation)
        for key in self.keys.get(typename, ()):
            wanted = key.project(representation)
            if wanted is None:
                continue
            for record in self.tables[typename]:
                if key.project(record) == wanted:
                    return _overlay(copy.deepcopy(record), representation)
        return None

    def _find_interface_entity(
        self, interface: str, representation: Mapping[str, JSON]
    ) -> dict[str, JSON] | None:
        """An entity interface's representation, answered as the implementing type it is."""
        schema_type = self.schema.get_type(interface)
        assert isinstance(schema_type, GraphQLAbstractType)
        for key in self.interface_keys[interface]:
            wanted = key.project(representation)
            if wanted is None:
                continue
            for object_type in self.schema.get_possible_types(schema_type):
                for record in self.tables.get(object_type.name, ()):
                    if key.project(record) == wanted:
                        merged = _overlay(copy.deepcopy(record), representation)
                        merged["__typename"] = object_type.name
                        return merged
        return None

    def lookup(self, typename: str, args: Mapping[str, JSON]) -> dict[str, JSON] | None:
        for record in self.tables.get(typename, ()):
            if all(record.get(name) == value for name, value in args.items()):
                return copy.deepcopy(record)
        return None

    # -- resolvers -----------------------------------------------------------------------------

    def _resolve_field(self, source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        if isinstance(source, _Root):
            if info.field_name == "_service":
                return {"sdl": self.sdl}
            if info.field_name == "_entities":
                return [self.find_entity(rep) for rep in args["representations"]]
            container = source.data.get(info.parent_type.name, {})
        else:
            container = source
        if isinstance(container, Mapping):
            value = container.get(info.field_name)
        else:
            value = getattr(container, info.field_name, None)
        return self._materialize(value, source, args)

    def _materialize(self, value: JSON, parent: Any, args: Mapping[str, JSON]) -> Any:
        if isinstance(value, list):
            return [self._materialize(item, parent, args) for item in value]
        if not isinstance(value, Mapping):
            return value
        if "__ref" in value:
            return self.find_entity(value["__ref"])
        if "__error" in value:
            return _error(value["__error"])
        if "__format" in value:
            fields = parent if isinstance(parent, Mapping) else {}
            if "__missing" in value:
                return str(value["__format"]).format_map(_Lenient(fields, value["__missing"]))
            return str(value["__format"]).format_map(fields)
        if "__lookup" in value:
            return self.lookup(str(value["__lookup"]), args)
        if "__cases" in value:
            for case in value["__cases"]:
                if all(args.get(k) == v for k, v in case.get("args", {}).items()):
                    return self._materialize(case.get("value"), parent, args)
            return self._materialize(value.get("__default"), parent, args)
        return value

    def _resolve_type(
        self, value: Any, info: GraphQLResolveInfo[Any], abstract_type: GraphQLAbstractType
    ) -> str | None:
        if isinstance(value, Mapping) and isinstance(value.get("__typename"), str):
            return str(value["__typename"])
        possible = self.schema.get_possible_types(abstract_type)
        return possible[0].name if len(possible) == 1 else None


_ABSENT = object()


class _Lenient:
    """A `__format` value when `__missing` is given: a key the value does not have formats as
    the `__missing` text, and looking into null (or into something absent) stays null (absent)."""

    def __init__(self, value: Any, missing: JSON) -> None:
        self.value = value
        self.missing = missing

    def __getitem__(self, key: Any) -> _Lenient:
        if self.value is None or self.value is _ABSENT:
            return self
        try:
            return _Lenient(self.value[key], self.missing)
        except (KeyError, IndexError, TypeError):
            return _Lenient(_ABSENT, self.missing)

    def __format__(self, spec: str) -> str:
        if self.value is _ABSENT:
            return format(str(self.missing), spec)
        return format(self.value, spec)


def _overlay(record: dict[str, JSON], representation: Mapping[str, JSON]) -> dict[str, JSON]:
    """The record with the representation's values over it (they carry @requires fields); an
    object, or a list of objects of the same length, in both merges field by field, so that a
    key through a list (`lines { productId }`) keeps the record's other fields of each line."""
    for name, value in representation.items():
        mine = record.get(name)
        if isinstance(mine, dict) and isinstance(value, Mapping):
            record[name] = _overlay(mine, value)
        elif (
            isinstance(mine, list)
            and isinstance(value, list)
            and len(mine) == len(value)
            and all(isinstance(a, dict) for a in mine)
            and all(isinstance(b, Mapping) for b in value)
        ):
            record[name] = [_overlay(a, b) for a, b in zip(mine, value, strict=True)]
        else:
            record[name] = value
    return record


def _error(spec: JSON) -> GraphQLError:
    if isinstance(spec, Mapping):
        return GraphQLError(str(spec.get("message", "error")), extensions=spec.get("extensions"))
    return GraphQLError(str(spec))


def load_fixture_dir(directory: Path) -> dict[str, tuple[Path, Path | None]]:
    """A fixture set's subgraphs: `<name>.graphql` with optional `<name>.json`, by name."""
    found: dict[str, tuple[Path, Path | None]] = {}
    for sdl_path in sorted(directory.glob("*.graphql")):
        data_path = sdl_path.with_suffix(".json")
        found[sdl_path.stem] = (sdl_path, data_path if data_path.exists() else None)
    return found
