"""Strawberry's resolver decorators, typed.

Called with arguments, `strawberry.field(...)`, `strawberry.federation.field(...)` and
`strawberry.federation.mutation(...)` are typed as returning Any, so under mypy strict every
resolver below one would be untyped. These keep the resolver's own signature in its type, as
Strawberry does itself when a resolver is passed as `resolver=`; at run time they return
Strawberry's decorator unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import strawberry

P = ParamSpec("P")
R = TypeVar("R")

Policy = Sequence[Sequence[str]]


def _typed(decorator: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
    typed: Callable[[Callable[P, R]], Callable[P, R]] = decorator
    return typed


def field(
    *, description: str, directives: Sequence[object] = ()
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A resolver of a plain field."""
    return _typed(strawberry.field(description=description, directives=directives))


def federation_field(
    *,
    description: str,
    shareable: bool = False,
    policy: Policy = (),
    authenticated: bool = False,
    directives: Sequence[object] = (),
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A resolver of a field with federation directives (@shareable, @policy, @authenticated)."""
    return _typed(
        strawberry.federation.field(
            description=description,
            directives=directives,
            shareable=shareable,
            policy=policy,
            authenticated=authenticated,
        )
    )


def federation_mutation(
    *,
    description: str,
    policy: Policy = (),
    authenticated: bool = False,
    directives: Sequence[object] = (),
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A mutation's resolver with federation directives (@policy, @authenticated)."""
    return _typed(
        strawberry.federation.mutation(
            description=description,
            directives=directives,
            policy=policy,
            authenticated=authenticated,
        )
    )
