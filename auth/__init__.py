"""Authentication: bearer tokens from trusted issuers -> a verified `Principal`.

- `auth.principal`: `Principal`, `ANONYMOUS`
- `auth.errors`: `AuthenticationError` and its codes
- `auth.verifier`: `TrustedIssuer`, `TokenVerifier`, `verifier_from_env`
- `auth.dev_issuer`: `DevIssuer`, a local identity provider for the demo and tests
- `auth.token_cli`: `rugzak token ...`
"""

from auth.errors import AuthenticationError, AuthErrorCode
from auth.principal import ANONYMOUS, Principal
from auth.verifier import TokenVerifier, TrustedIssuer, verifier_from_env

__all__ = [
    "ANONYMOUS",
    "AuthErrorCode",
    "AuthenticationError",
    "Principal",
    "TokenVerifier",
    "TrustedIssuer",
    "verifier_from_env",
]
