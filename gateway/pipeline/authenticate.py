"""Step 2, authenticate: the caller's token (if any) verified, and the purpose a civil servant
states per request (`x-rugzak-purpose`) when the token does not carry one."""

from __future__ import annotations

from starlette.requests import Request

from auth.errors import AuthenticationError, AuthErrorCode
from auth.principal import ANONYMOUS, Principal
from auth.verifier import TokenVerifier
from gateway.errors import RequestError
from gateway.pipeline.failure import Failure

# a civil servant states why they read (when their token does not say it)
PURPOSE_HEADER = "x-rugzak-purpose"


class Authenticator:
    def __init__(self, verifier: TokenVerifier | None, own_issuer: str) -> None:
        self.verifier = verifier
        # the issuer of the tokens the gateway mints for subgraphs: never a client's
        self.own_issuer = own_issuer

    async def __call__(self, request: Request) -> Principal | Failure:
        try:
            return await self.principal(request)
        except AuthenticationError as exc:
            headers = {"www-authenticate": exc.www_authenticate}
            return Failure.message(exc.message, exc.code, headers)
        except RequestError as exc:
            return Failure.of(exc)

    async def principal(self, request: Request) -> Principal:
        """The caller; raises AuthenticationError or RequestError (the other endpoints that
        need a caller, e.g. the registry's, answer those their own way)."""
        header = request.headers.get("authorization")
        if self.verifier is None:
            if header:
                raise AuthenticationError(
                    AuthErrorCode.UNTRUSTED_ISSUER, "this gateway trusts no token issuer"
                )
            return ANONYMOUS
        principal = await self.verifier.authenticate(header)
        if principal.issuer == self.own_issuer:  # belt and braces: see auth.verifier
            raise AuthenticationError(
                AuthErrorCode.WRONG_TOKEN_TYPE,
                "a token the gateway made for a subgraph is not a client token",
            )
        stated = request.headers.get(PURPOSE_HEADER, "").strip()
        if not stated or stated == principal.purpose:
            return principal
        if principal.purpose is not None:
            raise RequestError(
                f"the {PURPOSE_HEADER} header contradicts the token's purpose claim", "FORBIDDEN"
            )
        # a civil servant's application states the purpose per request when the token has none
        return principal.with_purpose(stated) if principal.is_staff else principal
