"""Each subgraph's own key for the cache invalidations it sends the gateway.

The gateway holds a master secret (RUGZAK_INVALIDATION_SECRET, or the file named in
RUGZAK_INVALIDATION_SECRET_FILE; comma- or line-separated for rotation, the first one current).
Subgraph N's key is

    base64url(HMAC-SHA256(master, "rugzak invalidation key" 0x00 N))     (43 characters)

which `rugzak invalidation-key N` prints for the operator to hand to that subgraph alone
(RUGZAK_INVALIDATION_KEY). The subgraph signs `POST /cache/invalidate` with it
(auth/gateway_signature.py) and names itself in `x-rugzak-subgraph`; the gateway derives N's key
from its master and checks the signature, then lets N invalidate only tags of types N resolves.

A key is worth nothing anywhere else: subgraphs take only tokens the gateway signs with its
private key, and one subgraph's key says nothing about another's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from typing import Final

from auth.gateway_signature import GatewaySignatureVerifier, secrets_from_env

MASTER_ENV: Final = "RUGZAK_INVALIDATION_SECRET"
MASTER_FILE_ENV: Final = "RUGZAK_INVALIDATION_SECRET_FILE"
KEY_ENV: Final = "RUGZAK_INVALIDATION_KEY"  # a subgraph's own key(s)
_LABEL: Final = b"rugzak invalidation key\x00"


def derive_key(master: bytes, subgraph: str) -> bytes:
    """Subgraph `subgraph`'s key (ASCII, 43 bytes) under `master`."""
    digest = hmac.new(master, _LABEL + subgraph.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=")


def masters_from_env(env: Mapping[str, str] = os.environ) -> tuple[bytes, ...]:
    """The gateway's master secrets; () when none is configured (then no subgraph may sign)."""
    return secrets_from_env(MASTER_ENV, MASTER_FILE_ENV, env)


def own_keys_from_env(env: Mapping[str, str] = os.environ) -> tuple[bytes, ...]:
    """A subgraph's own key(s), from RUGZAK_INVALIDATION_KEY; () when unset."""
    return secrets_from_env(KEY_ENV, KEY_ENV + "_FILE", env)


class InvalidationKeys:
    """The gateway's side: a verifier per subgraph name, for the keys derived from each
    master (so that during a rotation either master's keys verify)."""

    def __init__(
        self, masters: tuple[bytes, ...], clock: Callable[[], float] | None = None
    ) -> None:
        if not masters:
            raise ValueError("no invalidation master secret given")
        self._masters = masters
        self._clock = clock
        self._verifiers: dict[str, GatewaySignatureVerifier] = {}

    def verifier(self, subgraph: str) -> GatewaySignatureVerifier:
        found = self._verifiers.get(subgraph)
        if found is None:
            keys = [derive_key(master, subgraph) for master in self._masters]
            found = (
                GatewaySignatureVerifier(keys)
                if self._clock is None
                else GatewaySignatureVerifier(keys, clock=self._clock)
            )
            if len(self._verifiers) < 1000:  # names come from the supergraph: few
                self._verifiers[subgraph] = found
        return found
