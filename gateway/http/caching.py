"""HTTP caching of the gateway's own answers: Cache-Control from the subgraphs' hints, and ETags.

- `public, max-age=N` only for a query whose every fetch said it may be cached publicly (N is the
  smallest max-age among them), that reads no field under authorisation or declared personal
  data, and that came without credentials: such an answer is the same for everybody.
- `private, max-age=N` for such a query sent with credentials (an Authorization header): the
  caller's browser may keep it, no shared cache may.
- `no-store` for everything else: personal or authorised data, a subgraph that said `private`
  or `no-store` or gave no hint, errors, mutations, and requests that never ran.

An entity-cache hit counts with the last hint its subgraph gave: the entry was stored for that
long at most, so a client may see it up to about twice that age.

GET with a persisted-query hash (the URL names the operation, so a browser or CDN can key on it)
gets a strong ETag, the hash of the body, and a 304 when If-None-Match names it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from gateway.cache.entities import CacheControl
from gateway.operation import NOperation, NSelection
from gateway.schema.supergraph import Supergraph

NO_STORE = "no-store"


def reads_guarded(operation: NOperation, supergraph: Supergraph) -> bool:
    """Whether the operation reads a field or type under authorisation (@authenticated,
    @requiresScopes, @policy) or declared personal data (@personalData)."""
    fields, types = supergraph.field_access, supergraph.type_access
    personal = supergraph.personal_fields

    def walk(selection: NSelection) -> bool:
        for type_name, selected in selection.by_type.items():
            if type_name in types:
                return True
            for field in selected.values():
                coordinate = (type_name, field.name)
                if coordinate in fields or coordinate in personal:
                    return True
                if field.selection is not None and walk(field.selection):
                    return True
        return False

    return walk(operation.root)


def cache_control(
    hints: Iterable[CacheControl | None],
    *,
    query: bool,
    errors: bool,
    guarded: bool,
    credentials: bool,
) -> str:
    """The Cache-Control of an answer that ran; `hints` has one entry per fetch."""
    if not query or errors or guarded:
        return NO_STORE
    max_age: float | None = None
    shared = True
    for hint in hints:
        if hint is None or hint.no_store or not hint.max_age or hint.max_age <= 0:
            return NO_STORE
        shared = shared and not hint.private
        max_age = hint.max_age if max_age is None else min(max_age, hint.max_age)
    if max_age is None:  # no fetch at all (only __typename or introspection): no hint
        return NO_STORE
    scope = "public" if shared and not credentials else "private"
    return f"{scope}, max-age={int(max_age)}"


def with_credentials(value: str, headers: Mapping[str, str]) -> str:
    """`value`, made private when the request carried credentials of any kind (a token, or a
    cookie the gateway may pass on to subgraphs): a shared cache must never keep it."""
    if value.startswith("public") and ("authorization" in headers or "cookie" in headers):
        return "private" + value[len("public") :]
    return value


def etag(body: bytes) -> str:
    """A strong validator: the same bytes, the same tag."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 13.1.2): `*`, or any listed tag, W/ or not."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == tag:
            return True
    return False
