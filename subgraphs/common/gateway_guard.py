"""A subgraph answers only the gateway: the check of `x-rugzak-signature` on each request.

With RUGZAK_SUBGRAPH_SECRET (or RUGZAK_SUBGRAPH_SECRET_FILE) set, a GraphQL request without a
valid gateway signature (auth/gateway_signature.py) is answered with HTTP 401 and

    {"errors": [{"message": ..., "extensions": {"code": "GATEWAY_SIGNATURE_REQUIRED"}}]}

(`INVALID_GATEWAY_SIGNATURE` for a malformed, stale or wrong one), before the token is looked at
or the store is touched. Without a secret every request passes, as before. The registry's
`{ _service { sdl } }` passes unsigned (service_sdl.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import orjson
from starlette.requests import Request
from starlette.responses import Response

from auth.gateway_signature import (
    SIGNATURE_HEADER,
    GatewaySignatureError,
    GatewaySignatureVerifier,
    secrets_from_env,
)
from subgraphs.common.service_sdl import is_service_sdl_request

log = logging.getLogger("rugzak.subgraphs")


def signature_verifier_from_env(
    name: str, env: Mapping[str, str] = os.environ
) -> GatewaySignatureVerifier | None:
    """The verifier for the configured secrets; None (and a warning) when there are none.
    A secret that is set but unusable (too short, unreadable file) raises: better not to start
    than to start open."""
    secrets = secrets_from_env(env)
    if not secrets:
        log.warning(
            "%s: no RUGZAK_SUBGRAPH_SECRET; it answers callers other than the gateway", name
        )
        return None
    return GatewaySignatureVerifier(secrets)


def request_target(request: Request) -> str:
    """The path and query as received (what the gateway signed), not a decoded form."""
    scope = request.scope
    raw_path: bytes | None = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


async def refuse_unsigned(
    request: Request, verifier: GatewaySignatureVerifier | None
) -> Response | None:
    """None when the request may go on; else the 401 to answer."""
    if verifier is None:
        return None
    body = await request.body()
    if SIGNATURE_HEADER not in request.headers and is_service_sdl_request(request.method, body):
        return None
    try:
        verifier.verify(
            request.headers.get(SIGNATURE_HEADER),
            request.method,
            request_target(request),
            body,
            request.headers,
        )
    except GatewaySignatureError as error:
        body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
        return Response(
            orjson.dumps(body),
            status_code=401,
            media_type="application/json",
            headers={"www-authenticate": 'RugzakSignature realm="subgraph"'},
        )
    return None
