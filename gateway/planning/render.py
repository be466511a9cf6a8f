"""A query plan as text a person can read: each fetch, where it applies, what it waits for."""

from __future__ import annotations

from graphql import parse, print_ast

from gateway.planning.plan import FetchNode, PathSegment, QueryPlan


def _path(path: tuple[PathSegment, ...]) -> str:
    parts = []
    for seg in path:
        cond = f"(on {'|'.join(sorted(seg.types))})" if seg.types else ""
        parts.append(cond + seg.key)
    return ".".join(parts) if parts else "(root)"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_fetch(node: FetchNode) -> str:
    kind = "entity fetch" if node.is_entity_fetch else f"{node.operation_kind} fetch"
    after = ", ".join(f"#{d}" for d in node.depends_on) or "nothing"
    lines = [f"#{node.id} {kind} from {node.service!r} at {_path(node.path)}, after {after}"]
    if node.representations:
        for type_name, fields in node.representations.items():
            names = ", ".join(f.name if f.key == f.name else f"{f.name} <- {f.key}" for f in fields)
            lines.append(f"    representations: {type_name} {{ {names} }}")
    lines.append(_indent(print_ast(parse(node.document)), "    "))
    return "\n".join(lines)


def render_plan(plan: QueryPlan) -> str:
    if not plan.fetches:
        return "QueryPlan: no subgraph fetches" + (
            " (introspection only)" if plan.has_introspection else ""
        )
    head = f"QueryPlan: {len(plan.fetches)} fetch(es)"
    return "\n\n".join([head, *(render_fetch(n) for n in plan.fetches)])
