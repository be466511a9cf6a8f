"""GraphQL over HTTP's two response media types, and the status codes that depend on them.

A client that accepts `application/graphql-response+json` gets it, and with it status 400 when
its request never ran: the document does not parse or validate, or the variables do not coerce.
Everyone else (no Accept header, `*/*`, `application/json`) gets `application/json`, where the
spec wants 200 for those same failures: legacy clients read the errors from the body."""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# at equal quality the newer media type wins: it says more with its status codes
_PREFERENCE = (GRAPHQL_RESPONSE, JSON)


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept: str | None) -> str:
    """The media type to answer a GraphQL request with, given its Accept header. An Accept that
    names neither type (nor a wildcard) still gets `application/json`, which every GraphQL
    client reads, rather than a 406 that none of them expects."""
    if not accept or not accept.strip():
        return JSON
    best: dict[str, float] = {}
    for item in accept.split(","):
        media_range, *parameters = item.split(";")
        media_range = media_range.strip().lower()
        quality = _quality(parameters)
        for media_type in _PREFERENCE:
            # a wildcard stands for application/json only: the legacy answer
            names = media_range == media_type or (
                media_type == JSON and media_range in ("*/*", "application/*")
            )
            if names and quality > best.get(media_type, -1.0):
                best[media_type] = quality
    accepted = [t for t in _PREFERENCE if best.get(t, 0.0) > 0.0]
    if not accepted:
        return JSON
    return max(accepted, key=lambda t: (best[t], -_PREFERENCE.index(t)))


def request_error_status(media_type: str) -> int:
    """The status of an answer to a request that did not run (parse, validation or variable
    coercion failed): 400 under application/graphql-response+json, 200 under application/json."""
    return 400 if media_type == GRAPHQL_RESPONSE else 200
