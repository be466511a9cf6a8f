"""Authentication failures and their stable codes.

Every failure raises `AuthenticationError`. Its `code` is one of the `AuthErrorCode` values below
and is meant for the `extensions.code` of the GraphQL error the gateway returns; `message` is a
sentence for people. Neither ever contains the token, a claim value or a key.

| code                         | HTTP | meaning                                                 |
| ---------------------------- | ---- | ------------------------------------------------------- |
| INVALID_AUTHORIZATION_HEADER | 401  | the Authorization header is not `Bearer <token>`        |
| TOKEN_TOO_LARGE              | 401  | longer than the configured limit (refused unparsed)     |
| MALFORMED_TOKEN              | 401  | not a compact JWS with JSON object header and payload   |
| UNSUPPORTED_ALGORITHM        | 401  | `none`, HMAC, or an algorithm the issuer is not listed  |
|                              |      | for                                                     |
| UNTRUSTED_ISSUER             | 401  | `iss` is missing or names no trusted issuer             |
| UNKNOWN_SIGNING_KEY          | 401  | the issuer publishes no usable key for the token's kid  |
| INVALID_SIGNATURE            | 401  | the signature does not verify                           |
| TOKEN_EXPIRED                | 401  | `exp` has passed (beyond the leeway)                    |
| TOKEN_NOT_YET_VALID          | 401  | `nbf` or `iat` lies in the future (beyond the leeway)   |
| INVALID_AUDIENCE             | 401  | `aud` is missing or does not name this service          |
| INVALID_CLAIMS               | 401  | no `exp`, or a time/identity claim of the wrong type or |
|                              |      | an `rrn` that is not a valid INSZ                       |
| WRONG_TOKEN_TYPE             | 401  | a token the gateway minted for a subgraph, shown to the |
|                              |      | gateway as a client token (or, at a subgraph, any token |
|                              |      | that is not one the gateway minted)                     |
| AUTH_PROVIDER_UNAVAILABLE    | 503  | the issuer's JWKS cannot be fetched: not the caller's   |
|                              |      | fault; the request may be retried later                 |

`http_status` and `www_authenticate` (RFC 6750) give the matching HTTP answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class AuthErrorCode(StrEnum):
    INVALID_AUTHORIZATION_HEADER = "INVALID_AUTHORIZATION_HEADER"
    TOKEN_TOO_LARGE = "TOKEN_TOO_LARGE"
    MALFORMED_TOKEN = "MALFORMED_TOKEN"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    UNTRUSTED_ISSUER = "UNTRUSTED_ISSUER"
    UNKNOWN_SIGNING_KEY = "UNKNOWN_SIGNING_KEY"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_NOT_YET_VALID = "TOKEN_NOT_YET_VALID"
    INVALID_AUDIENCE = "INVALID_AUDIENCE"
    INVALID_CLAIMS = "INVALID_CLAIMS"
    WRONG_TOKEN_TYPE = "WRONG_TOKEN_TYPE"
    AUTH_PROVIDER_UNAVAILABLE = "AUTH_PROVIDER_UNAVAILABLE"


_NOT_CALLERS_FAULT: Final = frozenset({AuthErrorCode.AUTH_PROVIDER_UNAVAILABLE})


class AuthenticationError(Exception):
    """A request could not be authenticated; `code` is an `AuthErrorCode` value (a plain str)."""

    code: str
    message: str

    def __init__(self, code: AuthErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message

    @property
    def http_status(self) -> int:
        """401 when the caller's credentials are at fault, 503 when the identity provider is."""
        return 503 if self.code in _NOT_CALLERS_FAULT else 401

    @property
    def www_authenticate(self) -> str:
        """A `WWW-Authenticate` header value for the response (RFC 6750 section 3)."""
        if self.code == AuthErrorCode.INVALID_AUTHORIZATION_HEADER:
            error = "invalid_request"
        elif self.code in _NOT_CALLERS_FAULT:
            return "Bearer"
        else:
            error = "invalid_token"
        description = self.message.replace("\\", "").replace('"', "'")
        return f'Bearer error="{error}", error_description="{description}"'

    def __repr__(self) -> str:
        return f"AuthenticationError(code={self.code!r}, message={self.message!r})"
