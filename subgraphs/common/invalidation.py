"""Telling the gateway that data changed: `POST {gateway}/cache/invalidate` after a commit.

A subgraph that changes data its answers were tagged with (`extensions.cacheTags`, see
`subgraphs.common.caching`) sends those tags, so the gateway's next read of them is fresh:

    POST $RUGZAK_GATEWAY_URL/cache/invalidate
    {"tags": ["Ticket:123", "Citizen:85671012385"]}

    x-rugzak-subgraph: <its name>
    x-rugzak-signature: t=...,v1=...

signed (auth/gateway_signature.py) with the subgraph's own invalidation key,
RUGZAK_INVALIDATION_KEY (auth/invalidation_keys.py: `rugzak invalidation-key NAME` derives it
from the gateway's master secret), with one `v1` per key it holds, so that during a rotation
either works. The gateway checks the signature against the key it derives for that name, and
lets the subgraph invalidate only tags of the types it resolves. The key is good for nothing
else: no other subgraph accepts it.

It never fails the change that caused it: the call waits at most `timeout` seconds (1 s), and any
failure (no gateway configured, gateway down, refused) is logged and counted, not raised. The
change is committed either way; entries the gateway keeps then expire by their `max-age`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Final
from urllib.parse import urlsplit

import httpx
import orjson

from auth.gateway_signature import SIGNATURE_HEADER, SUBGRAPH_HEADER, GatewaySigner

log = logging.getLogger("rugzak.subgraphs")

GATEWAY_URL_ENV: Final = "RUGZAK_GATEWAY_URL"
INVALIDATE_PATH: Final = "/cache/invalidate"
DEFAULT_TIMEOUT: Final = 1.0


def sign_with_all(
    secrets: Sequence[bytes], method: str, target: str, body: bytes, headers: Mapping[str, str]
) -> str:
    """`t=<now>,v1=<one per secret>`: valid for a verifier holding any one of the secrets."""
    now = int(time.time())
    digests = []
    for secret in secrets:
        signed = GatewaySigner(secret, clock=lambda: now).sign(method, target, body, headers)
        digests.append(signed.split(",v1=", 1)[1])
    return ",".join([f"t={now}", *(f"v1={d}" for d in digests)])


class GatewayInvalidator:
    """Sends invalidations to one gateway; counts what became of them (`sent`, `failed`)."""

    def __init__(
        self,
        gateway_url: str,
        name: str,
        secrets: Sequence[bytes] = (),
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base = gateway_url.rstrip("/")
        self.url = base + INVALIDATE_PATH
        self.target = (urlsplit(base).path or "") + INVALIDATE_PATH
        self.name = name
        self.secrets = tuple(secrets)
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def invalidate(self, tags: Iterable[str]) -> bool:
        """True when the gateway confirmed; False (logged, counted) on any failure."""
        wanted = sorted(set(tags))
        if not wanted:
            return True
        body = orjson.dumps({"tags": wanted})
        headers = {"content-type": "application/json", SUBGRAPH_HEADER: self.name}
        if self.secrets:
            headers[SIGNATURE_HEADER] = sign_with_all(
                self.secrets, "POST", self.target, body, headers
            )
        try:
            response = await asyncio.wait_for(
                self._client.post(self.url, content=body, headers=headers), self.timeout
            )
        except Exception as exc:  # down, slow, refused: the change stands, entries expire
            self.failed += 1
            log.warning("cache invalidation of %s at %s failed: %r", wanted, self.url, exc)
            return False
        if not response.is_success:
            self.failed += 1
            log.warning(
                "cache invalidation of %s at %s refused: HTTP %d %s",
                wanted,
                self.url,
                response.status_code,
                response.text[:200],
            )
            return False
        self.sent += 1
        return True

    async def aclose(self) -> None:
        await self._client.aclose()


def invalidator_from_env(
    name: str, secrets: Sequence[bytes], env: Mapping[str, str] = os.environ
) -> GatewayInvalidator | None:
    """The invalidator for RUGZAK_GATEWAY_URL; None (and a note in the log) when it is unset."""
    url = env.get(GATEWAY_URL_ENV, "").strip()
    if not url:
        log.info("%s: no %s; the gateway is not told when data changes", name, GATEWAY_URL_ENV)
        return None
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{GATEWAY_URL_ENV} must be an http(s) URL, not {url!r}")
    if not secrets:
        log.warning(
            "%s: %s is set but RUGZAK_INVALIDATION_KEY is not: the gateway will refuse its "
            "invalidations",
            name,
            GATEWAY_URL_ENV,
        )
    return GatewayInvalidator(url, name, secrets)


def metrics_text(invalidator: GatewayInvalidator | None) -> str:
    """The invalidations sent and failed, in Prometheus' text format (zeros without a gateway)."""
    sent, failed = (0, 0) if invalidator is None else (invalidator.sent, invalidator.failed)
    name = "rugzak_subgraph_cache_invalidations_total"
    return (
        f"# HELP {name} Cache invalidations sent to the gateway, by outcome\n"
        f"# TYPE {name} counter\n"
        f'{name}{{outcome="sent"}} {sent}\n'
        f'{name}{{outcome="failed"}} {failed}\n'
    )
