"""A subgraph answers only the gateway: it checks the token the gateway minted for it, and reads
who is calling from that token alone (auth/subgraph_tokens.py).

    RUGZAK_GATEWAY_JWKS_URL    the gateway's public keys: http(s)://GATEWAY/.well-known/
                               gateway-jwks.json, a file:// URL, or a file path (the key
                               directory's jwks.json)
    RUGZAK_GATEWAY_ISSUER      the gateway's issuer id (default rugzak-gateway)
    RUGZAK_SUBGRAPH_AUDIENCE   the audience this subgraph accepts (default: its own name)

With RUGZAK_GATEWAY_JWKS_URL set, a GraphQL request must carry `authorization: Bearer <token>`
where the token is one the gateway signed for this subgraph (typ rugzak-subgraph+jwt, `aud` =
this subgraph, not expired). Anything else is answered with HTTP 401, before the store is
touched, and the code:

    GATEWAY_TOKEN_REQUIRED   no token at all
    INVALID_GATEWAY_TOKEN    a token that is not that: `extensions.reason` says why (a client's
                             own token: WRONG_TOKEN_TYPE; one minted for another subgraph:
                             INVALID_AUDIENCE; TOKEN_EXPIRED, INVALID_SIGNATURE, ...)

(503 with AUTH_PROVIDER_UNAVAILABLE when the gateway's keys cannot be fetched.)

One exception: `{ _service { sdl } }` exactly (the SDL, no data; subgraphs/common/service_sdl.py)
is answered to anyone, so that the gateway's registry and `rugzak compose` read a subgraph's SDL
without sending any credential to the URL they were given.

Without RUGZAK_GATEWAY_JWKS_URL every request is anonymous and answered (a warning at start):
for local experiments only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response

from auth.config import jwks_url_setting
from auth.errors import AuthenticationError, AuthErrorCode
from auth.principal import ANONYMOUS, Principal
from auth.subgraph_tokens import DEFAULT_GATEWAY_ISSUER, subgraph_token_verifier
from auth.verifier import TokenVerifier
from subgraphs.common.service_sdl import is_service_sdl_request

log = logging.getLogger("rugzak.subgraphs")

JWKS_ENV: Final = "RUGZAK_GATEWAY_JWKS_URL"
ISSUER_ENV: Final = "RUGZAK_GATEWAY_ISSUER"
AUDIENCE_ENV: Final = "RUGZAK_SUBGRAPH_AUDIENCE"
TOKEN_REQUIRED: Final = "GATEWAY_TOKEN_REQUIRED"
INVALID_TOKEN: Final = "INVALID_GATEWAY_TOKEN"


def gateway_verifier_from_env(
    name: str, env: Mapping[str, str] = os.environ
) -> TokenVerifier | None:
    """The verifier of the gateway's tokens for subgraph `name`; None (and a warning) when
    RUGZAK_GATEWAY_JWKS_URL is unset. A bad setting raises ValueError: better not to start
    than to start open."""
    if env.get("RUGZAK_SUBGRAPH_SECRET") or env.get("RUGZAK_SUBGRAPH_SECRET_FILE"):
        log.warning(
            "%s: RUGZAK_SUBGRAPH_SECRET is no longer used; set %s to the gateway's JWKS",
            name,
            JWKS_ENV,
        )
    url = env.get(JWKS_ENV, "").strip()
    if not url:
        log.warning(
            "%s: no %s; it answers callers other than the gateway, all as anonymous",
            name,
            JWKS_ENV,
        )
        return None
    issuer = env.get(ISSUER_ENV, "").strip() or DEFAULT_GATEWAY_ISSUER
    audience = env.get(AUDIENCE_ENV, "").strip() or name
    try:
        return subgraph_token_verifier(audience, jwks_url_setting(url, None), issuer)
    except ValueError as exc:
        raise ValueError(f"{JWKS_ENV}: {exc}") from None


def refusal(status: int, code: str, message: str, reason: str | None = None) -> Response:
    extensions: dict[str, Any] = {"code": code}
    if reason is not None:
        extensions["reason"] = reason
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"www-authenticate": 'Bearer realm="subgraph"'},
    )


async def gateway_principal(
    request: Request, verifier: TokenVerifier | None
) -> Principal | Response:
    """Who calls, from the gateway's token; or the 401 (503) to answer."""
    if verifier is None:
        return ANONYMOUS
    header = request.headers.get("authorization")
    if not header:
        if is_service_sdl_request(request.method, await request.body()):
            return ANONYMOUS
        return refusal(
            401,
            TOKEN_REQUIRED,
            "this service answers only the gateway: the request carries no gateway token",
        )
    try:
        principal = await verifier.authenticate(header)
    except AuthenticationError as error:
        if error.code == AuthErrorCode.AUTH_PROVIDER_UNAVAILABLE:
            return refusal(error.http_status, error.code, error.message)
        return refusal(
            401,
            INVALID_TOKEN,
            f"this service answers only the gateway: {error.message}",
            reason=error.code,
        )
    # the token stays here: a subgraph has nobody to show it to
    return replace(principal, token=None)
