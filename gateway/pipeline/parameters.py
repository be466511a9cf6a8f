"""Step 1, parameters: what a GraphQL request over HTTP carries, from a GET's query string or a
POST's JSON body (read within the body limit, refused past it without reading the rest)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from gateway.allow_list import sha256
from gateway.errors import RequestError
from gateway.pipeline.failure import Failure

JSON_TYPES = ("application/json", "application/graphql-response+json")


@dataclass(frozen=True, slots=True)
class Parameters:
    """What a GraphQL request carries; `query` may be absent when a persisted query is named."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any]
    extensions: dict[str, Any] | None

    @property
    def names_persisted_query(self) -> bool:
        return "persistedQuery" in (self.extensions or {})

    def digest(self) -> str:
        """The hash naming the operation: the persisted query's (which the persisted-query
        store then checks against the query text, if one came along), or the text's own."""
        persisted = (self.extensions or {}).get("persistedQuery")
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if isinstance(digest, str):
            return digest.lower()
        return sha256(self.query or "")


async def read_parameters(request: Request, max_body_bytes: int) -> Parameters | Failure:
    try:
        if request.method == "GET":
            return from_query_string(request.query_params)
        return await from_body(request, max_body_bytes)
    except RequestError as exc:
        return Failure.of(exc)


def from_query_string(params: Mapping[str, str]) -> Parameters:
    return _fields(
        params.get("query"),
        params.get("operationName"),
        _json_param(params, "variables"),
        _json_param(params, "extensions"),
    )


async def from_body(request: Request, max_body_bytes: int) -> Parameters:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise RequestError("POST requests must have content-type application/json", "BAD_REQUEST")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body_bytes:
        raise RequestError("request body too large", "PAYLOAD_TOO_LARGE")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body_bytes:
            raise RequestError("request body too large", "PAYLOAD_TOO_LARGE")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc}", "BAD_REQUEST") from exc
    if not isinstance(payload, dict):
        raise RequestError("request body must be a JSON object", "BAD_REQUEST")
    return _fields(
        payload.get("query"),
        payload.get("operationName"),
        payload.get("variables"),
        payload.get("extensions"),
    )


def _json_param(params: Mapping[str, str], name: str) -> Any:
    if not params.get(name):
        return None
    try:
        return orjson.loads(params[name])
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"{name} are not valid JSON", "BAD_REQUEST") from exc


def _fields(query: Any, operation_name: Any, variables: Any, extensions: Any) -> Parameters:
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestError("`extensions` must be a JSON object", "BAD_REQUEST")
    if query is not None and not isinstance(query, str):
        raise RequestError("`query` must be a string", "BAD_REQUEST")
    if query is not None and not query.strip():
        query = None
    if query is None and not (extensions and "persistedQuery" in extensions):
        raise RequestError("GraphQL operations must contain a non-empty `query`.", "BAD_REQUEST")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("`operationName` must be a string", "BAD_REQUEST")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise RequestError("`variables` must be a JSON object", "BAD_REQUEST")
    return Parameters(query, operation_name or None, variables, extensions)
