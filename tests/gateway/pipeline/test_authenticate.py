"""Step 2: the caller, from its token and the purpose it states."""

from __future__ import annotations

from starlette.requests import Request

from auth.principal import ANONYMOUS
from gateway.pipeline.authenticate import Authenticator
from gateway.pipeline.failure import Failure


def _request(**headers: str) -> Request:
    encoded = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "headers": encoded, "query_string": b""})


async def test_without_issuers_a_caller_is_anonymous_and_a_token_is_refused() -> None:
    authenticate = Authenticator(None, "https://gateway.example")
    assert await authenticate(_request()) is ANONYMOUS
    refused = await authenticate(_request(authorization="Bearer x.y.z"))
    assert isinstance(refused, Failure)
    assert (refused.code, refused.status) == ("UNTRUSTED_ISSUER", 401)
    assert refused.headers["www-authenticate"].startswith("Bearer")
