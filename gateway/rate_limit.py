"""Rate limits: a token bucket per principal (the token's issuer and subject), per client
application (the token's `azp`/`client_id`), and per IP address for anonymous callers.

Checked once per request right after the token is verified, before the body is read or parsed,
so a refused request costs next to nothing. A request takes one token from every bucket it
counts against (its principal's and its client application's), or from none when any of them is
empty; the answer is then HTTP 429 with `Retry-After` and `RATE_LIMITED`.

The buckets live in this process, or in Redis so that replicas share them: one Lua script reads,
refills and takes from all of a request's buckets at once (atomic, on Redis's clock). When Redis
does not answer, the buckets of this process decide instead (each replica then limits on its
own) until Redis is back; `rugzak_rate_limit_store_up` and `rugzak_rate_limit_fallbacks` say so.

Rates are written `N/s`, `N/min` or `N/h`, with an optional burst: `20/s:40`. Without a burst,
a bucket holds N tokens: "100/min" allows 100 at once, then refills at 100 a minute.

The operator's endpoints have limits of their own, on by default (`off` turns one off):

- the registry's API (gateway/registry/routes.py), per organisation (the token's `org`; a token
  without one: its subject) and per address for callers without a token: `registry` for every
  call, and `registry-compose` besides for the calls that compose a supergraph (check, add,
  remove, rollback), which cost seconds of CPU in the composition worker;
- cache invalidation (`POST /cache/invalidate`), per caller once verified (a signing subgraph,
  or a token's subject): `invalidate`. One call carries many tags: bulk changes batch.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from auth.principal import Principal
from gateway.errors import graphql_error
from gateway.outage_log import OutageLog

log = logging.getLogger("rugzak.rate_limit")

RATE_LIMITED = "RATE_LIMITED"
KINDS = ("principal", "client", "ip", "registry", "registry-compose", "invalidate")
_PER_CLIENT_KINDS = ("principal", "client")
_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}
_PERIODS.update(h=3600.0, hour=3600.0)
_RATE = re.compile(r"^(\d+(?:\.\d+)?)\s*/\s*([a-z]+)(?::(\d+))?$")
REDIS_TIMEOUT = 0.25  # seconds; a limiter slower than this is not worth waiting for
REDIS_RETRY_AFTER = 5.0  # seconds of deciding in memory after Redis failed
MEMORY_BUCKETS = 100_000  # buckets kept in memory; the least recently used one goes first


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """`20/s`, `600/min:50`, `1000/h`; `off` (or 0) is no limit: None."""
        text = text.strip().lower()
        if text in ("off", "none", "0"):
            return None
        match = _RATE.match(text)
        if match is None or match.group(2) not in _PERIODS:
            raise ValueError(f"a rate is N/s, N/min or N/h with an optional :BURST, got {text!r}")
        count = float(match.group(1))
        if count <= 0:
            return None
        burst = int(match.group(3)) if match.group(3) else max(1, math.ceil(count))
        if burst < 1:
            raise ValueError(f"a burst is at least 1, got {text!r}")
        return cls(count / _PERIODS[match.group(2)], burst)

    def __str__(self) -> str:
        return f"{self.per_second:g}/s:{self.burst}"


# Far above what a municipality does: its CI checks and adds a few subgraphs per pipeline (a
# monorepo's pipeline a couple of dozen at once), people list and show now and then, and a
# subgraph invalidates what it changed as it changes it. Composing is what costs: 12 a minute
# keeps one organisation to a fraction of a core even with a large supergraph.
DEFAULT_REGISTRY = Rate(10.0, 100)  # 10/s:100, every registry call
DEFAULT_REGISTRY_COMPOSE = Rate(12 / 60, 24)  # 12/min:24, check, add, remove, rollback
DEFAULT_INVALIDATE = Rate(50.0, 500)  # 50/s:500, invalidation calls


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits in force. `per_client` replaces the principal or client rate for callers of
    one client application: `("client", "mobile-app") -> Rate` (None: that one is unlimited)."""

    principal: Rate | None = None
    client: Rate | None = None
    ip: Rate | None = None
    per_client: Mapping[tuple[str, str], Rate | None] = field(default_factory=dict)
    registry: Rate | None = DEFAULT_REGISTRY
    registry_compose: Rate | None = DEFAULT_REGISTRY_COMPOSE
    invalidate: Rate | None = DEFAULT_INVALIDATE

    @property
    def enabled(self) -> bool:
        return any(getattr(self, k.replace("-", "_")) for k in KINDS) or any(
            self.per_client.values()
        )

    def rate(self, kind: str, client_id: str | None) -> Rate | None:
        if client_id is not None and (kind, client_id) in self.per_client:
            return self.per_client[(kind, client_id)]
        found: Rate | None = getattr(self, kind.replace("-", "_"))
        return found


def parse_rate_limits(items: Iterable[str]) -> RateLimits:
    """`--rate-limit` values: `principal=20/s:40`, `client=500/s`, `ip=10/s:30`, and for one
    client application `client.APP=...` or `principal.APP=...`; the operator's endpoints'
    `registry=`, `registry-compose=` and `invalidate=` (on by default); `off` removes a limit."""
    rates: dict[str, Rate | None] = {}
    per_client: dict[tuple[str, str], Rate | None] = {}
    for item in items:
        for part in item.replace(";", " ").split():
            who, sep, value = part.partition("=")
            kind, dot, client = who.partition(".")
            if (
                not sep
                or kind not in KINDS
                or (dot and (not client or kind not in _PER_CLIENT_KINDS))
            ):
                raise ValueError(
                    "a rate limit is principal=RATE, client=RATE, ip=RATE, principal.APP=RATE, "
                    "client.APP=RATE, registry=RATE, registry-compose=RATE or invalidate=RATE, "
                    f"got {part!r}"
                )
            if dot:
                per_client[(kind, client)] = Rate.parse(value)
            else:
                rates[kind] = Rate.parse(value)
    return RateLimits(
        principal=rates.get("principal"),
        client=rates.get("client"),
        ip=rates.get("ip"),
        per_client=per_client,
        registry=rates.get("registry", DEFAULT_REGISTRY),
        registry_compose=rates.get("registry-compose", DEFAULT_REGISTRY_COMPOSE),
        invalidate=rates.get("invalidate", DEFAULT_INVALIDATE),
    )


@dataclass(frozen=True, slots=True)
class Refusal:
    kind: str  # the bucket that was empty: one of KINDS
    retry_after: float  # seconds until it holds a token again
    who: str = ""  # whose bucket, in words (default: the kind's)

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))

    @property
    def message(self) -> str:
        who = self.who or _WHO.get(self.kind, "caller")
        return f"Too many requests for this {who}: try again in {self.retry_after_header} s."

    def to_graphql(self) -> dict[str, Any]:
        return graphql_error(
            self.message, RATE_LIMITED, limit=self.kind, retryAfter=round(self.retry_after, 3)
        )


_WHO = {"principal": "caller", "client": "client application", "ip": "address"}


class Buckets(Protocol):
    description: str

    async def take(self, buckets: Sequence[tuple[str, Rate]]) -> tuple[int, float]:
        """Take a token from each bucket, or from none: (-1, 0) when taken, else the index of
        the bucket that must wait longest and how many seconds."""
        ...

    async def close(self) -> None: ...


class MemoryBuckets:
    """The buckets of this process (the event loop makes each `take` atomic)."""

    description = "memory"

    def __init__(self, max_buckets: int = MEMORY_BUCKETS) -> None:
        self.max_buckets = max_buckets
        # key -> (tokens, monotonic time they were counted)
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, buckets: Sequence[tuple[str, Rate]]) -> tuple[int, float]:
        return self.take_now(buckets)

    def take_now(self, buckets: Sequence[tuple[str, Rate]]) -> tuple[int, float]:
        now = time.monotonic()
        levels = []
        worst, wait = -1, 0.0
        for i, (key, rate) in enumerate(buckets):
            tokens, at = self._levels.get(key, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + (now - at) * rate.per_second)
            levels.append(tokens)
            if tokens < 1.0 and (1.0 - tokens) / rate.per_second > wait:
                worst, wait = i, (1.0 - tokens) / rate.per_second
        if worst >= 0:
            return worst, wait
        for (key, _), tokens in zip(buckets, levels, strict=True):
            self._levels[key] = (tokens - 1.0, now)
            self._levels.move_to_end(key)
        while len(self._levels) > self.max_buckets:
            # a forgotten bucket starts full again: only ever in the caller's favour
            self._levels.popitem(last=False)
        return -1, 0.0

    async def close(self) -> None:
        self._levels.clear()


# KEYS: the buckets; ARGV: per bucket its rate (tokens per second) and burst. Redis's own clock,
# so replicas with skewed clocks agree. Nothing is taken unless every bucket has a token.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local levels = {}
local worst, wait = 0, 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 't', 'at')
  local tokens, at = tonumber(state[1]), tonumber(state[2])
  if tokens == nil or at == nil then tokens, at = burst, now end
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < 1 and (1 - tokens) / rate > wait then worst, wait = i, (1 - tokens) / rate end
end
if worst > 0 then return {worst - 1, tostring(wait)} end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('HSET', key, 't', tostring(levels[i] - 1), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end
return {-1, '0'}
"""


class RedisBuckets:
    """Buckets in Redis, shared by every replica that uses the same Redis; the buckets of this
    process decide while Redis does not answer."""

    def __init__(self, url: str, fallback: MemoryBuckets | None = None) -> None:
        import redis.asyncio as aioredis

        parts = urlsplit(url)
        # never the password: this shows up in logs and /metrics
        self.description = f"redis {parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
        self._client = aioredis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self._script = self._client.register_script(_TAKE)
        self.fallback = fallback or MemoryBuckets()
        self.errors = 0
        self.fallbacks = 0
        self._down_until = 0.0
        self.outage = OutageLog(
            log,
            f"rate limit store {self.description}",
            meanwhile="limiting in this process meanwhile",
        )

    @property
    def healthy(self) -> bool:
        return time.monotonic() >= self._down_until

    async def take(self, buckets: Sequence[tuple[str, Rate]]) -> tuple[int, float]:
        if self.healthy:
            keys = [f"rugzak:rl:{key}" for key, _ in buckets]
            args: list[str | int] = []
            for _, rate in buckets:
                args += [repr(rate.per_second), rate.burst]
            try:
                index, wait = await asyncio.wait_for(
                    self._script(keys=keys, args=args), REDIS_TIMEOUT
                )
            except Exception as exc:  # any failure: decide in memory, told once per outage
                self.errors += 1
                self._down_until = time.monotonic() + REDIS_RETRY_AFTER
                self.outage.failed(exc)
            else:
                self.outage.answered()
                return int(index), float(wait)
        self.fallbacks += 1
        return self.fallback.take_now(buckets)

    async def close(self) -> None:
        try:
            await self._client.aclose()
        except Exception:  # closing a broken connection must not stop a shutdown
            log.debug("closing the rate limit store failed", exc_info=True)


def buckets_for(url: str | None) -> MemoryBuckets | RedisBuckets:
    """`None` or `memory`: this process; `redis://host:port/db`: shared by replicas."""
    if not url or url == "memory":
        return MemoryBuckets()
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise ValueError(f"the rate limit store is memory or redis://host:port/db, got {url!r}")
    return RedisBuckets(url)


def _key(kind: str, *parts: str) -> str:
    # hashed: subjects and addresses are personal data, and keys stay short
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}:{digest[:32]}"


class RateLimiter:
    def __init__(self, limits: RateLimits, buckets: MemoryBuckets | RedisBuckets) -> None:
        self.limits = limits
        self.buckets = buckets
        self.refused: dict[str, int] = dict.fromkeys(KINDS, 0)

    async def admit(self, principal: Principal, address: str | None) -> Refusal | None:
        """None when the request may go on; else which limit it hit and for how long."""
        wanted: list[tuple[str, str, Rate]] = []
        if principal.is_anonymous:
            rate = self.limits.ip
            if rate is not None and address is not None:
                wanted.append(("ip", _key("ip", address), rate))
        else:
            client = principal.client_id
            rate = self.limits.rate("principal", client)
            if rate is not None:
                who = principal.subject or principal.insz or principal.token or ""
                wanted.append(("principal", _key("principal", principal.issuer or "", who), rate))
            rate = self.limits.rate("client", client)
            if rate is not None and client is not None:
                wanted.append(("client", _key("client", principal.issuer or "", client), rate))
        return await self._take(wanted, "")

    async def admit_registry(
        self, principal: Principal, address: str | None, composes: bool
    ) -> Refusal | None:
        """A call of the registry's API: counted per organisation (a token without one: per
        subject; no token: per address), against `registry`, and `registry-compose` too when
        it composes a supergraph."""
        who: tuple[str, ...]
        if principal.is_anonymous:
            if address is None:
                return None
            who, whose = ("ip", address), "address"
        elif principal.organisation:
            who, whose = ("org", principal.issuer or "", principal.organisation), "organisation"
        else:
            who = ("subject", principal.issuer or "", principal.subject or principal.token or "")
            whose = "caller"
        wanted = [("registry", self.limits.registry)]
        if composes:
            wanted.append(("registry-compose", self.limits.registry_compose))
        buckets = [(kind, _key(kind, *who), rate) for kind, rate in wanted if rate is not None]
        return await self._take(buckets, whose)

    async def admit_invalidation(self, caller: str) -> Refusal | None:
        """A cache invalidation by `caller` (verified: `subgraph NAME`, or a token's issuer
        and subject)."""
        rate = self.limits.invalidate
        if rate is None:
            return None
        return await self._take([("invalidate", _key("invalidate", caller), rate)], "caller")

    async def _take(self, wanted: Sequence[tuple[str, str, Rate]], whose: str) -> Refusal | None:
        """The first empty bucket of `wanted` (kind, key, rate), as a refusal in `whose` words
        ("": the kind's own); None when every one had a token."""
        if not wanted:
            return None
        index, wait = await self.buckets.take([(key, rate) for _, key, rate in wanted])
        if index < 0:
            return None
        kind = wanted[index][0]
        self.refused[kind] += 1
        return Refusal(kind, wait, whose)

    async def close(self) -> None:
        await self.buckets.close()


class RateLimitCollector(Collector):
    """rugzak_rate_limited{limit}: requests refused; with Redis, rugzak_rate_limit_store_up and
    rugzak_rate_limit_fallbacks: decisions made in this process because Redis did not answer."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def collect(self) -> Iterator[Metric]:
        refused = CounterMetricFamily(
            "rugzak_rate_limited", "Requests refused by a rate limit", labels=["limit"]
        )
        for kind, count in self.limiter.refused.items():
            refused.add_metric([kind], count)
        yield refused
        buckets = self.limiter.buckets
        if isinstance(buckets, RedisBuckets):
            yield GaugeMetricFamily(
                "rugzak_rate_limit_store_up",
                "1 while Redis holds the rate limits, 0 while this process decides alone",
                value=1 if buckets.healthy else 0,
            )
            yield CounterMetricFamily(
                "rugzak_rate_limit_fallbacks",
                "Rate limit decisions made in this process because Redis did not answer",
                value=buckets.fallbacks,
            )
