"""A query plan for people: as a tree of Sequence / Parallel / Fetch nodes (`rugzak plan`), and as
JSON (the response's `extensions.queryPlan`, when the gateway is configured to expose it).

The plan itself is a DAG; the tree hangs each fetch under the last fetch it waits for, and names
any other fetch it waits for as "also after #n".
"""

from __future__ import annotations

from typing import Any

from graphql import parse, print_ast

from gateway.planning.plan import FetchNode, PathSegment, QueryPlan


def path_text(path: tuple[PathSegment, ...]) -> str:
    parts = []
    for seg in path:
        cond = f"(on {'|'.join(sorted(seg.types))})" if seg.types else ""
        parts.append(cond + seg.key)
    return ".".join(parts) if parts else "(root)"


def _order(plan: QueryPlan) -> dict[int, int]:
    """A topological position for every fetch (dependencies first)."""
    by_id = {f.id: f for f in plan.fetches}
    position: dict[int, int] = {}

    def visit(node: FetchNode) -> int:
        if node.id not in position:
            position[node.id] = -1  # guards against a cycle, which planning never makes
            deps = [visit(by_id[d]) for d in node.depends_on if d in by_id]
            position[node.id] = 1 + max(deps, default=-1)
        return position[node.id]

    for node in plan.fetches:
        visit(node)
    return position


def _fetch_lines(node: FetchNode, also_after: list[int]) -> list[str]:
    kind = "Entity fetch" if node.is_entity_fetch else "Fetch"
    head = f"{kind} #{node.id} from {node.service!r}"
    if node.path:
        head += f" at {path_text(node.path)}"
    if also_after:
        head += ", also after " + ", ".join(f"#{d}" for d in also_after)
    lines = [head + " {"]
    if node.representations:
        for type_name, fields in node.representations.items():
            names = ", ".join(f.name if f.key == f.name else f"{f.name} <- {f.key}" for f in fields)
            sent_as = node.representation_typenames.get(type_name)
            as_text = f" (sent as {sent_as})" if sent_as else ""
            lines.append(f"  representations: {type_name}{as_text} {{ {names} }}")
    for binding in node.context_bindings:
        names = ", ".join(f.name for f in binding.fields) or "null"
        where = path_text(binding.ancestor) if binding.ancestor is not None else "nowhere"
        lines.append(f"  context: ${binding.variable} <- {names} at {where}")
    lines.extend("  " + line for line in print_ast(parse(node.document)).splitlines())
    lines.append("}")
    return lines


def render_plan(plan: QueryPlan) -> str:
    if not plan.fetches:
        suffix = " (introspection only)" if plan.has_introspection else ""
        return "QueryPlan: no subgraph fetches" + suffix
    order = _order(plan)
    children: dict[int | None, list[FetchNode]] = {}
    for node in plan.fetches:
        parent = max(node.depends_on, key=lambda d: (order[d], d), default=None)
        children.setdefault(parent, []).append(node)

    def block(node: FetchNode) -> list[str]:
        parent = max(node.depends_on, key=lambda d: (order[d], d), default=None)
        also = [d for d in node.depends_on if d != parent]
        lines = _fetch_lines(node, also)
        after = children.get(node.id, [])
        if not after:
            return lines
        return ["Sequence {", *_nest(lines), *_nest(group(after)), "}"]

    def group(nodes: list[FetchNode]) -> list[str]:
        if len(nodes) == 1:
            return block(nodes[0])
        lines = ["Parallel {"]
        for node in nodes:
            lines.extend(_nest(block(node)))
        return [*lines, "}"]

    head = f"QueryPlan ({len(plan.fetches)} fetches) {{"
    return "\n".join([head, *_nest(group(children.get(None, []))), "}"])


def _nest(lines: list[str]) -> list[str]:
    return ["  " + line for line in lines]


def plan_json(plan: QueryPlan) -> list[dict[str, Any]]:
    return [
        {
            "id": node.id,
            "service": node.service,
            "kind": "entities" if node.is_entity_fetch else node.operation_kind,
            "path": path_text(node.path),
            "dependsOn": list(node.depends_on),
            "operation": node.document,
        }
        for node in plan.fetches
    ]
