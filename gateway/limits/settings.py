"""How large, deep and costly an operation may be: safe defaults, and overrides per client
application (`--operation-limits`).

The defaults admit real operations with room to spare (the citizen's whole profile: 96 tokens,
depth 7, 51 fields, cost 513; GraphiQL's introspection query: 163 tokens, depth 15, 220 fields)
and keep the worst admitted operation's parse + validate + normalize + plan to tens of
milliseconds on one core (bench/limits_cost.py measures it), so that no unseen operation holds
the event loop for long.

A client application is the verified token's `azp`/`client_id`. Overrides apply only to
clients a token proves: a caller without a token can name any application in a header, so it
always gets the defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from auth.principal import Principal


@dataclass(frozen=True, slots=True)
class OperationLimits:
    """The limits of one client application (or the defaults)."""

    # the query text, in UTF-8 bytes: checked before anything is parsed
    max_bytes: int = 32_768
    # lexical tokens (comments not counted; `max_comments` bounds those): the parser stops at
    # the limit, so a huge document never becomes an AST
    max_tokens: int = 2_000
    max_comments: int = 500
    # levels of fields, fragments expanded (`{ a { b } }` is 2)
    max_depth: int = 20
    # aliases, fields at the root, and directives, in the operation with its fragments expanded
    max_aliases: int = 30
    max_root_fields: int = 20
    max_directives: int = 50
    # how often one response name may be selected in one selection set (fragments included):
    # validation compares every such pair, so a field repeated 50,000 times costs seconds
    max_repeated_fields: int = 20
    # fields in the operation with its fragments expanded: fragments that multiply aliases
    # (30 x 30 x 30 = 27,000 fields from 2.9 KB) are refused before validation
    max_fields: int = 1_000
    # fragment definitions: validation compares every pair of fragments spread together
    max_fragments: int = 64
    # the estimated cost (@cost / @listSize, IBM and Apollo demand-control semantics)
    max_cost: int = 5_000
    # the size assumed for a list the schema gives no @listSize for
    list_size: int = 10

    def with_overrides(self, overrides: Mapping[str, Any], where: str) -> OperationLimits:
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"{where}: unknown limits {unknown}; known: {sorted(known)}")
        for name, value in overrides.items():
            least = 0 if name == "list_size" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(
                    f"{where}: {name} must be a whole number >= {least}, got {value!r}"
                )
        return dataclasses.replace(self, **overrides)


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """The defaults and the overrides per client application."""

    default: OperationLimits = field(default_factory=OperationLimits)
    clients: Mapping[str, OperationLimits] = field(default_factory=dict)

    def for_client(self, client: str | None) -> OperationLimits:
        if client is None:
            return self.default
        return self.clients.get(client, self.default)

    def for_principal(self, principal: Principal) -> OperationLimits:
        """The limits of the caller's client application, which only a token proves."""
        if principal.is_anonymous or not self.clients:
            return self.default
        return self.for_client(principal.client_id)

    def widest(self) -> OperationLimits:
        """Each limit at its largest over the defaults and every client."""
        every = [self.default, *self.clients.values()]
        names = [f.name for f in dataclasses.fields(OperationLimits)]
        return OperationLimits(**{n: max(getattr(limits, n) for limits in every) for n in names})

    @classmethod
    def parse(cls, text: str, where: str = "--operation-limits") -> LimitSettings:
        """From JSON (or `@FILE` holding it): `{"max_depth": 12, "clients": {"staff-app":
        {"max_cost": 20000}}}`. Top-level limits replace the defaults; a client's inherit the
        rest from them. ValueError says what is wrong."""
        if text.startswith("@"):
            path = Path(text[1:])
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"{where}: cannot read {path}: {exc}") from exc
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{where}: must be a JSON object")
        clients = data.pop("clients", {})
        if not isinstance(clients, dict):
            raise ValueError(f"{where}: clients must map client ids to objects of limits")
        default = OperationLimits().with_overrides(data, where)
        per_client: dict[str, OperationLimits] = {}
        for client, overrides in clients.items():
            if not isinstance(overrides, dict):
                raise ValueError(f"{where}: client {client!r} must have an object of limits")
            per_client[client] = default.with_overrides(overrides, f"{where}: client {client!r}")
        return cls(default, per_client)
