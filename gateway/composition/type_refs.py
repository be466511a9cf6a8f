"""GraphQL type references as strings ("[Int!]!"): structure, subtyping, nullability."""

from __future__ import annotations

from collections.abc import Callable


def is_non_null(type_string: str) -> bool:
    return type_string.endswith("!")


def nullable(type_string: str) -> str:
    return type_string[:-1] if type_string.endswith("!") else type_string


def is_list(type_string: str) -> bool:
    return nullable(type_string).startswith("[")


def list_item(type_string: str) -> str:
    return nullable(type_string)[1:-1]


def named(type_string: str) -> str:
    return type_string.replace("[", "").replace("]", "").replace("!", "")


def same_shape(a: str, b: str) -> bool:
    """Equal up to nullability at any level."""
    return a.replace("!", "") == b.replace("!", "")


def is_subtype(sub: str, sup: str, is_possible: Callable[[str, str], bool]) -> bool:
    """Can a field declared `sub` stand where `sup` is expected (output positions)?

    `is_possible(abstract, concrete)` says whether `concrete` implements or is a member of
    `abstract`."""
    if is_non_null(sup):
        return is_non_null(sub) and is_subtype(sub[:-1], sup[:-1], is_possible)
    sub = nullable(sub)
    if is_list(sup):
        return is_list(sub) and is_subtype(list_item(sub), list_item(sup), is_possible)
    if is_list(sub):
        return False
    return sub == sup or is_possible(sup, sub)


def most_general(types: list[str], is_possible: Callable[[str, str], bool]) -> str | None:
    """The one type every other is a subtype of (the supergraph type of an output field)."""
    for candidate in _by_nullability(types):
        if all(is_subtype(t, candidate, is_possible) for t in types):
            return candidate
    return None


def most_specific_input(types: list[str]) -> str | None:
    """The input type every declaration accepts as well or better: the same shape, non-null
    wherever any declaration is (arguments and input fields)."""
    first = types[0]
    if any(not same_shape(t, first) for t in types):
        return None
    out = first
    for t in types[1:]:
        out = _stricter(out, t)
    return out


def _stricter(a: str, b: str) -> str:
    non_null = is_non_null(a) or is_non_null(b)
    inner_a, inner_b = nullable(a), nullable(b)
    if inner_a.startswith("["):
        inner = "[" + _stricter(inner_a[1:-1], inner_b[1:-1]) + "]"
    else:
        inner = inner_a
    return inner + ("!" if non_null else "")


def _by_nullability(types: list[str]) -> list[str]:
    """Candidates, most nullable first (then in subgraph order)."""
    unique = list(dict.fromkeys(types))
    return sorted(unique, key=lambda t: t.count("!"))
