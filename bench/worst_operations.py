"""The worst operations the default limits still admit, one per limit, over the reference
supergraph: each as large as its limit allows while staying within every other.

bench/limits_cost.py times how long the gateway's event loop is held to parse, validate,
normalize and plan each unseen one; bench/hostile_load.py sends them while measuring a citizen's
profile query. The operations are built from the limits, so they follow the defaults when those
change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from graphql import GraphQLError, get_introspection_query, parse

from gateway.limits import OperationLimits
from gateway.limits.refusal import LimitExceeded
from gateway.limits.shape import check, measure, token_count

# anonymous callers may read these: what an attacker without a token reaches
MUNICIPALITY_FIELDS = ("nisCode", "name", "province", "postalCode", "openTicketCount")


@dataclass(frozen=True)
class Worst:
    name: str
    why: str
    query: str
    variables: dict[str, object]


def _keys(count: int, aliases: int) -> Iterator[str]:
    """`count` response keys on Municipality: its fields, then aliases of `name`."""
    for i in range(count):
        if i < len(MUNICIPALITY_FIELDS):
            yield MUNICIPALITY_FIELDS[i]
        elif i - len(MUNICIPALITY_FIELDS) < aliases:
            yield f"a{i}: name"
        else:
            return


def within(query: str, limits: OperationLimits) -> bool:
    """Whether the limits admit the query's size and shape (its cost is checked later)."""
    try:
        document = parse(
            query, max_lexical_tokens=limits.max_tokens, max_comments=limits.max_comments
        )
        size = len(query.encode())
        check(measure(document, size, token_count(document), limits.max_fields), limits)
    except (GraphQLError, LimitExceeded):
        return False
    return True


def _largest(build: Callable[[int], str], start: int, limits: OperationLimits) -> tuple[int, str]:
    """The largest n <= start whose `build(n)` the limits admit."""
    for n in range(start, 0, -1):
        query = build(n)
        if within(query, limits):
            return n, query
    raise ValueError("the limits admit not even the smallest such operation")


def fragments(limits: OperationLimits) -> Worst:
    """As many distinct fragments spread in one selection set as the limits allow: validation
    compares every pair of them. Each selects one field: the fields of Municipality as often as
    one may be repeated, then aliases."""
    keys = [f for f in MUNICIPALITY_FIELDS for _ in range(limits.max_repeated_fields)]
    keys += [f"a{i}: name" for i in range(limits.max_aliases)]

    def build(n: int) -> str:
        spreads = " ".join(f"...F{i}" for i in range(n))
        defs = "\n".join(f"fragment F{i} on Municipality {{ {keys[i]} }}" for i in range(n))
        return f"{{ municipalities {{ {spreads} }} }}\n{defs}"

    n, query = _largest(build, min(len(keys), limits.max_fragments), limits)
    return Worst("fragments", f"{n} fragments spread in one selection set", query, {})


def repeated(limits: OperationLimits) -> Worst:
    """One response path selected as often as allowed, each with every field: validation
    compares every pair of them, and their selections pairwise too."""
    inner = " ".join(MUNICIPALITY_FIELDS)

    def build(n: int) -> str:
        same = " ".join(f"municipality {{ {inner} }}" for _ in range(n))
        return f'{{ institution(institutionNumber: "040113") {{ {same} }} }}'

    n, query = _largest(build, limits.max_repeated_fields, limits)
    return Worst("repeated", f"one path {n} times, with its fields", query, {})


def aliases(limits: OperationLimits) -> Worst:
    """Every alias allowed on the root list of municipalities, each with every field."""
    fields = " ".join(MUNICIPALITY_FIELDS)

    def build(n: int) -> str:
        return "{ " + " ".join(f"m{i}: municipalities {{ {fields} }}" for i in range(n)) + " }"

    n, query = _largest(build, limits.max_aliases, limits)
    return Worst("aliases", f"{n} aliases of the list of municipalities", query, {})


def directives(limits: OperationLimits) -> Worst:
    """Every directive allowed, each deciding on a variable."""
    variables = ", ".join(f"$v{i}: Boolean = true" for i in range(20))

    def build(n: int) -> str:
        body = " ".join(
            f"{MUNICIPALITY_FIELDS[i % len(MUNICIPALITY_FIELDS)]} @include(if: $v{i % 20})"
            for i in range(n)
        )
        return f"query Worst({variables}) {{ municipalities {{ {body} }} }}"

    n, query = _largest(build, limits.max_directives, limits)
    return Worst("directives", f"{n} @include directives on variables", query, {})


def depth(limits: OperationLimits) -> Worst:
    """Introspection nested as deep as the depth limit allows (validation bounds how often
    `fields` may nest in it)."""

    def build(n: int) -> str:
        inner = "name"
        for _ in range(n):
            inner = f"name ofType {{ {inner} }}"
        return f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"

    n, query = _largest(build, limits.max_depth, limits)
    return Worst("depth", f"introspection {n + 5} levels deep", query, {})


def introspection(limits: OperationLimits) -> Worst:
    query = get_introspection_query(descriptions=True)
    return Worst("introspection", "GraphiQL's introspection query", query, {})


def cost(limits: OperationLimits) -> Worst:
    """The widest list fan-out within the cost limit that an anonymous caller may send."""
    fields = " ".join(MUNICIPALITY_FIELDS)
    count = min(limits.max_cost // max(1, limits.list_size), limits.max_root_fields)

    def build(n: int) -> str:
        return "{ " + " ".join(f"m{i}: municipalities {{ {fields} }}" for i in range(n)) + " }"

    n, query = _largest(build, count, limits)
    return Worst("cost", f"{n} lists of municipalities", query, {})


def variables(limits: OperationLimits) -> Worst:
    """As many variables as the tokens allow, all used in one list argument: each is coerced
    and checked."""

    def build(n: int) -> str:
        defs = ", ".join(f"$s{i}: TicketStatus!" for i in range(n))
        args = ", ".join(f"$s{i}" for i in range(n))
        return f"query Worst({defs}) {{ me {{ tickets(status: [{args}]) {{ id }} }} }}"

    n, query = _largest(build, limits.max_tokens // 7, limits)
    values: dict[str, object] = {f"s{i}": "NEW" for i in range(n)}
    return Worst("variables", f"{n} variables in one list argument", query, values)


WORST: tuple[Callable[[OperationLimits], Worst], ...] = (
    fragments,
    repeated,
    aliases,
    directives,
    depth,
    introspection,
    cost,
    variables,
)


def worst_operations(limits: OperationLimits) -> list[Worst]:
    return [make(limits) for make in WORST]
