"""A subgraph SDL of a chosen size that is costly to compose: entity types with keys, each with
twenty documented fields that take arguments, chained to the next type, each reachable from a
root field. About 900 KB composes in some 15 s of CPU on this kind of machine."""

from __future__ import annotations

HEAD = (
    'extend schema\n  @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n\n'
)


def heavy_sdl(target_bytes: int, prefix: str = "Heavy") -> str:
    types: list[str] = []
    roots: list[str] = []
    size = len(HEAD)
    i = 0
    while size < target_bytes:
        fields = "\n".join(
            f'  "Field {j} of {prefix}{i}."\n  f{j}(first: Int = 10, filter: String): [String!]'
            for j in range(20)
        )
        text = (
            f'"Type {i} of a large subgraph."\n'
            f'type {prefix}{i} @key(fields: "id") {{\n  id: ID!\n{fields}\n'
            f"  next: {prefix}{i + 1}\n}}\n"
        )
        types.append(text)
        roots.append(f"  {prefix.lower()}{i}(id: ID!): {prefix}{i}")
        size += len(text) + len(roots[-1]) + 1
        i += 1
    types.append(f'type {prefix}{i} @key(fields: "id") {{\n  id: ID!\n}}\n')
    return HEAD + "type Query {\n" + "\n".join(roots) + "\n}\n\n" + "\n".join(types)
