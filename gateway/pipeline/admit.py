"""Step 3, admit: whether this request may go on, decided before any GraphQL work.

- Rate limits per principal, client application and anonymous address: checked right after the
  token, before the body is read or parsed (a refused request costs next to nothing).
- The allow-list of persisted operations per client (`--persisted-allow-list`).
- Automatic persisted queries: the query named by its hash, and registered once admitted.
- Anonymous callers' turns (gateway/limits/priority.py): the work that follows runs in one.
The operation limits (size, tokens, shape, cost) are checked where the work they bound starts:
in parse and validate (gateway/pipeline/parse_validate.py)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager

from starlette.requests import Request

from auth.principal import Principal
from gateway.allow_list import AllowList, client_of
from gateway.errors import RequestError
from gateway.http.client_ip import ClientAddress
from gateway.limits.priority import Priority
from gateway.metrics import Metrics
from gateway.persisted_queries import PersistedQueries, Resolved
from gateway.pipeline.failure import Failure
from gateway.pipeline.parameters import Parameters
from gateway.rate_limit import RateLimiter


class Admit:
    def __init__(
        self,
        persisted: PersistedQueries,
        allow_list: AllowList | None,
        rate_limiter: RateLimiter | None,
        priority: Priority,
        client_address: ClientAddress,
        metrics: Metrics,
    ) -> None:
        self.persisted = persisted
        self.allow_list = allow_list
        self.rate_limiter = rate_limiter
        self.priority = priority
        self.client_address = client_address
        self.metrics = metrics

    async def within_rate(self, request: Request, principal: Principal) -> Failure | None:
        """None when the caller is within its rate limits; else the refusal (429)."""
        if self.rate_limiter is None:
            return None
        address = self.address(request) if principal.is_anonymous else None
        refusal = await self.rate_limiter.admit(principal, address)
        if refusal is None:
            return None
        return Failure.of(refusal, {"retry-after": refusal.retry_after_header})

    async def operation(
        self, parameters: Parameters, principal: Principal, headers: Mapping[str, str]
    ) -> Resolved | Failure:
        """The query to run: allowed for this client, and resolved when named by its hash."""
        if self.allow_list is not None:
            try:
                self.allow_list.check(client_of(principal, headers), parameters.digest())
            except RequestError as exc:
                self.metrics.persisted_queries.labels(outcome="refused").inc()
                return Failure.of(exc)
        try:
            resolved = await self.persisted.resolve(parameters.query, parameters.extensions)
        except RequestError as exc:
            self.metrics.persisted_queries.labels(outcome="error").inc()
            return Failure.of(exc)
        if parameters.query is None:
            self.metrics.persisted_queries.labels(outcome="hit").inc()
        return resolved

    def turn(self, principal: Principal, request: Request) -> AbstractAsyncContextManager[None]:
        """The request's turn: at once with a token; an anonymous one waits for a place and
        gives way to callers with a token (raises Busy when the line is full)."""
        anonymous = principal.is_anonymous
        return self.priority.turn(anonymous, self.address(request) if anonymous else None)

    async def register(self, resolved: Resolved, principal: Principal) -> None:
        """An automatic persisted query, stored once its operation passed the limits."""
        if resolved.register is None:
            return
        stored = await self.persisted.register(resolved.register, resolved.query, principal)
        outcome = "registered" if stored else "not_stored"
        self.metrics.persisted_queries.labels(outcome=outcome).inc()

    def address(self, request: Request) -> str | None:
        """The caller's address: the socket's peer, or a trusted proxy's X-Forwarded-For."""
        peer = request.scope.get("client")
        forwarded = request.headers.getlist("x-forwarded-for")
        return self.client_address.of(peer[0] if peer else None, forwarded)
