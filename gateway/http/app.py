"""The Starlette app: /graphql (POST and GET, JSON; an explorer page for browsers), /health, the
gateway's own JWKS (/.well-known/gateway-jwks.json: the keys of the tokens it mints for
subgraphs) and the development issuer's (/.well-known/jwks.json)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from auth.errors import AuthenticationError
from auth.gateway_keys import GatewayKeys
from auth.invalidation_keys import InvalidationKeys
from auth.principal import Principal
from auth.subgraph_tokens import ALL_CLAIMS, MINIMAL_CLAIMS, SubgraphTokenMinter
from auth.verifier import TokenVerifier
from gateway import request_log, tracing
from gateway.allow_list import AllowList, sha256
from gateway.audit.log import AccessLog
from gateway.cache.entities import EntityCache
from gateway.cache.invalidation import InvalidationEndpoint
from gateway.cache.memory import BoundedMemoryCache
from gateway.cache.store import cache_store
from gateway.collector import Collector, CollectorMetrics
from gateway.config import GatewayConfig
from gateway.errors import RequestError, graphql_error
from gateway.execution.credentials import SubgraphCredentials
from gateway.execution.executor import Executor
from gateway.execution.resilience import Resilience
from gateway.execution.subgraph_client import SubgraphClient
from gateway.http.admin import METRICS_READ, AdminListener, on_admin_listener
from gateway.http.caching import NO_STORE
from gateway.http.client_ip import ClientAddress, parse_networks
from gateway.http.disconnect import CancelOnDisconnect
from gateway.http.explorer import EXPLORER_HTML
from gateway.http.graphiql import graphiql_html, graphiql_routes
from gateway.http.headers import SecurityHeaders, cors_middleware, page_headers
from gateway.http.media_types import JSON, negotiate
from gateway.limits.priority import Busy, Priority, PriorityMetrics, TokensFirst
from gateway.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gateway.metrics import Metrics, StoreSize
from gateway.operation_cache import CacheLimits, OperationCaches
from gateway.persisted_queries import PersistedQueries
from gateway.pipeline.admit import Admit
from gateway.pipeline.authenticate import Authenticator
from gateway.pipeline.context import Asks, RequestContext
from gateway.pipeline.failure import Failure
from gateway.pipeline.handler import HandlerSettings, RequestHandler
from gateway.pipeline.parameters import read_parameters
from gateway.pipeline.respond import json_response, refuse, respond, validated
from gateway.policies import Policy, PolicyRegistry, load_policy_module
from gateway.rate_limit import RateLimitCollector, RateLimiter, Refusal, buckets_for
from gateway.readiness import Readiness
from gateway.registry.routes import registry_routes
from gateway.registry.service import Registry
from gateway.schema.reload import SupergraphWatcher
from gateway.schema.supergraph import Supergraph, load_supergraph, read_supergraph_source
from gateway.schema.swapping import WarmUp, load_off_the_loop, loading, reclaim_off_the_loop

log = logging.getLogger("rugzak.app")

# a request that asks for its estimated cost in extensions.cost
COST_HEADER = "x-rugzak-cost"
# where the gateway publishes the public keys of the tokens it mints for subgraphs
GATEWAY_JWKS_PATH = "/.well-known/gateway-jwks.json"
# a request that asks for its query plan in extensions.queryPlan (with --expose-query-plan)
PLAN_HEADER = "x-rugzak-query-plan"


class GatewayApp:
    def __init__(self, config: GatewayConfig, verifier: TokenVerifier | None = None) -> None:
        self.config = config
        self.verifier = verifier
        self.supergraph_sdl = read_supergraph_source(config.supergraph)
        self.supergraph: Supergraph = load_supergraph(self.supergraph_sdl)
        self.client = SubgraphClient(config.subgraph_timeout, config.subgraph_timeouts)
        names = {g.name for g in self.supergraph.graphs.values()}
        unknown = set(config.subgraph_urls) - names
        if unknown:
            raise ValueError(
                f"--subgraph-url names unknown subgraphs: {', '.join(sorted(unknown))}"
            )
        self.gateway_keys = (
            GatewayKeys.generate()
            if config.gateway_key_dir is None
            else GatewayKeys.load_or_create(config.gateway_key_dir)
        )
        minter = SubgraphTokenMinter(
            self.gateway_keys, config.gateway_issuer, config.subgraph_token_ttl
        )
        if verifier is not None and any(t.issuer == minter.issuer for t in verifier.issuers):
            log.warning(
                "the gateway's own issuer %r is listed as a client issuer: its tokens for "
                "subgraphs are refused as client tokens all the same",
                minter.issuer,
            )
        # without a registry every subgraph is the operator's; with one, the registry says
        # (the --supergraph file's subgraphs are the operator's until it has spoken)
        self.credentials = SubgraphCredentials(
            minter,
            grants=dict.fromkeys(names, ALL_CLAIMS),
            default_grant=MINIMAL_CLAIMS if config.registry_url else ALL_CLAIMS,
            propagate=config.propagate_headers,
        )
        policies: dict[str, Policy] = {}
        for module in config.policy_modules:
            policies.update(load_policy_module(module))
        self.policies = PolicyRegistry(policies)
        self.metrics = Metrics()
        self.resilience = Resilience(
            config.subgraph_policies, self.metrics, request_timeout=config.request_timeout
        )
        self.metrics.watch_subgraphs(lambda: list(self.resilience.guards.values()))
        self.access_log: AccessLog | None = None  # who read whose personal data (gateway/audit)
        if config.access_log is not None:
            self.access_log = AccessLog(config.access_log, self.metrics.registry)
        self.cache = cache_store(config.cache_url, config.memory_cache_bytes)
        self.allow_list: AllowList | None = None
        if config.persisted_allow_list is not None:
            self.allow_list = AllowList.load(
                config.persisted_allow_list, config.allow_unlisted_clients
            )
        known = self.allow_list.texts if self.allow_list is not None else None
        shared = None if self.cache.description == "memory" else self.cache
        self.persisted = PersistedQueries(shared, config.persisted_limits, known)
        self.operation_caches = OperationCaches(
            CacheLimits(config.plan_cache_entries, config.plan_cache_bytes)
        )
        self.metrics.watch_operation_caches(self.operation_caches.by_name)
        self.metrics.watch_stores(self._store_sizes)
        self.client_address = ClientAddress(parse_networks(config.trusted_proxies))
        self.priority = Priority(config.priority)
        self.collector = Collector(config.collector, self.priority.quiet_moment, loading)
        self.metrics.registry.register(PriorityMetrics(self.priority))
        self.metrics.registry.register(CollectorMetrics(self.collector))
        self.rate_limiter: RateLimiter | None = None
        if config.rate_limits.enabled:
            store = config.rate_limit_store or config.cache_url
            self.rate_limiter = RateLimiter(config.rate_limits, buckets_for(store))
            self.metrics.registry.register(RateLimitCollector(self.rate_limiter))
        self.authenticator = Authenticator(verifier, minter.issuer)
        self.admit = Admit(
            self.persisted,
            self.allow_list,
            self.rate_limiter,
            self.priority,
            self.client_address,
            self.metrics,
        )
        self.entity_cache, self.handler = self._serving(self.supergraph)
        self.reload_error: str | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.warm_up = WarmUp()
        self.registry: Registry | None = None  # the registry's supergraph replaces the file's
        if config.registry_url:
            self.registry = Registry.for_gateway(self)
        self.readiness = Readiness(
            self.resilience,
            self.client,
            lambda: self.handler.executor.urls,
            self.cache,
            self.registry,
            interval=config.probe_interval or 1.0,
            timeout=min(1.0, config.subgraph_timeout),
        )
        self._checks: asyncio.Task[None] | None = None
        self.jwks: dict[str, Any] | None = None
        if config.dev_issuer_dir is not None:
            from auth.dev_issuer import DevIssuer

            self.jwks = DevIssuer.load_or_create(config.dev_issuer_dir).jwks()

    def _store_sizes(self) -> Iterator[StoreSize]:
        pq = self.persisted
        yield StoreSize("persisted_queries", pq.bytes, len(pq.entries), pq.limits.max_bytes)
        answers = self.handler.introspection.answers
        yield StoreSize("introspection", answers.bytes, len(answers), answers.max_bytes or 0)
        memory = self.cache.backend
        if isinstance(memory, BoundedMemoryCache):
            yield StoreSize("entities", memory.bytes, memory.data_entries, memory.max_bytes)
            versions = memory.counter_entries
            bound = memory.bound - memory.max_bytes
            yield StoreSize("entity_versions", memory.counter_bytes, versions, bound)

    def _serving(self, supergraph: Supergraph) -> tuple[EntityCache, RequestHandler]:
        """Everything that depends on one supergraph; built whole, then swapped in at once."""
        urls = {g.name: g.url for g in supergraph.graphs.values()}
        urls.update((k, v) for k, v in self.config.subgraph_urls.items() if k in urls)
        entity_cache = EntityCache(self.cache, supergraph, self.config.entity_ttls, self.metrics)
        settings = HandlerSettings(
            override_labels=self.config.override_labels,
            policies=self.policies,
            reject_unauthorized=self.config.reject_unauthorized,
            limits=self.config.operation_limits,
            introspection=self.config.introspection,
        )
        executor = Executor(
            self.client, urls, self.metrics, entity_cache, self.resilience, self.client.timeouts
        )
        handler = RequestHandler(
            supergraph, executor, self.operation_caches, settings, access_log=self.access_log
        )
        undefined = handler.authorise.authorizer.unknown_policies()
        if undefined:
            log.warning("policies nobody defines (they refuse every caller): %s", undefined)
        return entity_cache, handler

    def set_subgraph_grants(self, grants: Mapping[str, frozenset[str]]) -> None:
        """The caller claims each subgraph's tokens carry (from the registry)."""
        self.credentials.grants = dict(grants)

    async def swap_supergraph(self, sdl: str) -> None:
        """Serve a new supergraph: loaded off the event loop and built aside, then swapped in
        with one assignment. Requests under way finish on the handler they started with. If the
        SDL does not load, nothing changes and the error is raised. The operations answered
        most recently are then planned for it in the background, time-boxed (gateway/
        swapping.py): the swap does not wait for that."""
        try:
            supergraph = await load_off_the_loop(sdl)
            entity_cache, handler = self._serving(supergraph)
        except Exception as exc:
            self.reload_error = str(exc)
            self.metrics.schema_reloads.labels(outcome="refused").inc()
            raise
        swapped_out = self.supergraph_sdl
        self.supergraph, self.supergraph_sdl = supergraph, sdl
        self.entity_cache, self.handler = entity_cache, handler
        self.reload_error = None
        self.metrics.schema_reloads.labels(outcome="ok").inc()
        log.warning("serving supergraph %s", supergraph.schema_hash[:12])
        reclaimed = await reclaim_off_the_loop(swapped_out, sdl)
        if reclaimed is not None:
            log.info("swapped-out supergraphs collected in %.3f s", reclaimed)
        self.warm_up.start(handler, self.config.warm_operations, self.config.warm_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        if self.config.otlp_endpoint is not None:  # here: in each worker, after the fork
            tracing.configure(self.config.trace_sample_ratio, endpoint=self.config.otlp_endpoint)
        if self.config.reload_interval > 0:
            watcher = SupergraphWatcher(
                self.config.supergraph,
                self.swap_supergraph,
                interval=self.config.reload_interval,
                current_sdl=self.supergraph_sdl,
            )
            self._watcher = asyncio.ensure_future(watcher.run())
        if self.registry is not None:
            await self.registry.start()
        if self.config.probe_interval > 0:
            self._checks = asyncio.ensure_future(self.readiness.run())
        if self.access_log is not None:
            await self.access_log.start()
        self.collector.start()
        try:
            yield
        finally:
            await self.collector.stop()
            if self.access_log is not None:
                await self.access_log.stop()
            if self._checks is not None:
                self._checks.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._checks
            await self.readiness.aclose()
            if self.registry is not None:
                await self.registry.stop()
            await self.warm_up.stop()
            if self._watcher is not None:
                self._watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watcher
            await self.client.aclose()
            await self.cache.close()
            if self.config.otlp_endpoint is not None:
                tracing.shutdown()
            if self.rate_limiter is not None:
                await self.rate_limiter.close()

    def starlette(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/graphql", self.graphql, methods=["GET", "POST"]),
                Route("/health", self.health, methods=["GET"]),
                Route("/ready", self.ready, methods=["GET"]),
                Route("/metrics", self.metrics_endpoint, methods=["GET"]),
                Route("/cache/invalidate", self._invalidation().handle, methods=["POST"]),
                Route("/.well-known/jwks.json", self.jwks_endpoint, methods=["GET"]),
                Route(GATEWAY_JWKS_PATH, self.gateway_jwks_endpoint, methods=["GET"]),
                *graphiql_routes(),
                *(
                    registry_routes(
                        self.registry, self.authenticator.principal, self._admit_registry
                    )
                    if self.registry
                    else []
                ),
            ],
            middleware=[
                Middleware(SecurityHeaders),
                *cors_middleware(
                    self.config.cors_origins, self.config.cors_methods, self.config.cors_headers
                ),
                Middleware(CancelOnDisconnect, on_abandoned=self.metrics.abandoned.inc),
                Middleware(TokensFirst, priority=self.priority),
                Middleware(AdminListener, port=self.config.admin_port),
            ],
            lifespan=self.lifespan,
        )

    async def health(self, request: Request) -> Response:
        # a cache that is down degrades the gateway (slower, more subgraph load) but never stops it
        cache = {"backend": self.cache.description, "up": self.cache.healthy}
        status = "ok" if self.cache.healthy else "degraded"
        body: dict[str, Any] = {
            "status": status,
            "schemaHash": self.supergraph.schema_hash,
            "cache": cache,
        }
        if self.reload_error is not None:  # still serving the last good supergraph
            body["lastReloadError"] = self.reload_error
        return JSONResponse(body)

    async def ready(self, request: Request) -> Response:
        """Readiness: the status for anyone (its HTTP status alone says ready or not, for
        orchestrators); each subgraph's state (up, degraded, down, circuit_open) and last error,
        the cache and the registry, as the active checks found them (gateway/readiness.py), only
        on the admin listener or for a token with the metrics:read scope, as /metrics."""
        status, body = self.readiness.report()
        if not await self._operator(request):
            return json_response(status, {"status": body["status"]})
        body["schemaHash"] = self.supergraph.schema_hash
        if self.reload_error is not None:
            body["lastReloadError"] = self.reload_error
        return json_response(status, body)

    def _invalidation(self) -> InvalidationEndpoint:
        secrets = self.config.invalidation_secrets
        return InvalidationEndpoint(
            InvalidationKeys(secrets) if secrets else None,
            self.authenticator.principal,
            lambda: self.supergraph,
            lambda: self.entity_cache,
            self.config.max_body_bytes,
            self.rate_limiter.admit_invalidation if self.rate_limiter is not None else None,
        )

    async def metrics_endpoint(self, request: Request) -> Response:
        if not on_admin_listener(request):
            refused = await self._needs_scope(request, METRICS_READ, "reading the metrics")
            if refused is not None:
                return refused
        self.metrics.cache_errors.set(self.cache.errors)
        self.metrics.cache_up.set(1 if self.cache.healthy else 0)
        return Response(self.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    async def _operator(self, request: Request) -> bool:
        """Whether the caller may read what /metrics shows (a bad token: no, but no refusal)."""
        if on_admin_listener(request):
            return True
        try:
            principal = await self.authenticator.principal(request)
        except (AuthenticationError, RequestError):
            return False
        return principal.has_scope(METRICS_READ)

    async def _needs_scope(self, request: Request, scope: str, what: str) -> Response | None:
        """None when the caller's token grants `scope`; else the refusal to answer."""
        try:
            principal = await self.authenticator.principal(request)
        except (AuthenticationError, RequestError) as exc:
            return json_response(401, {"errors": [graphql_error(str(exc), "UNAUTHENTICATED")]})
        if principal.is_anonymous:
            message = f"{what} needs a token with the {scope} scope"
            return json_response(401, {"errors": [graphql_error(message, "UNAUTHENTICATED")]})
        if not principal.has_scope(scope):
            message = f"{what} needs the {scope} scope"
            return json_response(403, {"errors": [graphql_error(message, "FORBIDDEN")]})
        return None

    async def gateway_jwks_endpoint(self, request: Request) -> Response:
        """The public keys subgraphs verify the gateway's tokens with (rotation: every key in
        the key directory, the next one before it signs)."""
        return JSONResponse(
            self.gateway_keys.jwks(), headers={"cache-control": "public, max-age=60"}
        )

    async def jwks_endpoint(self, request: Request) -> Response:
        if self.jwks is None:
            return JSONResponse({"error": "no development issuer configured"}, status_code=404)
        return JSONResponse(self.jwks)

    async def graphql(self, request: Request) -> Response:
        started = time.perf_counter()
        record, token = request_log.begin(request.headers)
        try:
            with tracing.server_span(request.method, request.url.path, request.headers):
                media_type = negotiate(request.headers.get("accept"))
                response = await self._graphql(request, media_type)
                if media_type != JSON and response.headers.get("content-type") == JSON:
                    response.headers["content-type"] = media_type
                response.headers.setdefault("cache-control", NO_STORE)  # errors, refusals
                response.headers.add_vary_header("Accept")  # the media type depends on it
                observed(record, response.status_code)
        except BaseException:  # cancelled (the client went away): still a line in the log
            request_log.end(record, token, request_log.ABANDONED)
            raise
        request_log.end(record, token, response.status_code)
        response.headers[request_log.REQUEST_ID_HEADER] = record.request_id
        self.metrics.request_seconds.observe(time.perf_counter() - started)
        self.metrics.requests.labels(status=str(response.status_code)).inc()
        return response

    async def _graphql(self, request: Request, media_type: str = JSON) -> Response:
        """The steps of gateway/pipeline/ up to admission, then the handler's for the operation."""
        if request.method == "GET":
            params = request.query_params
            if "query" not in params and "text/html" in request.headers.get("accept", ""):
                # GraphiQL from the local npm packages, or our own explorer without them
                page = graphiql_html("/graphql") or EXPLORER_HTML
                return HTMLResponse(page, headers=page_headers(page))
        principal = await self.authenticator(request)
        if isinstance(principal, Failure):
            return refuse(principal, media_type)
        # before the body is read or parsed: a refused request costs next to nothing
        refused = await self.admit.within_rate(request, principal)
        if refused is not None:
            return refuse(refused, media_type)
        parameters = await read_parameters(request, self.config.max_body_bytes)
        if isinstance(parameters, Failure):
            return refuse(parameters, media_type)
        resolved = await self.admit.operation(parameters, principal, request.headers)
        if isinstance(resolved, Failure):
            return refuse(resolved, media_type)
        operation_name, variables = parameters.operation_name, parameters.variables
        request_log.identify(operation_name, resolved.query, variables)
        try:
            async with self.admit.turn(principal, request):
                context = RequestContext(
                    resolved.query,
                    operation_name,
                    variables,
                    principal,
                    allow_mutation=request.method != "GET",
                    asks=self._asks(request),
                    headers=self.credentials.for_caller(principal, request.headers),
                )
                outcome = await self.handler.handle(context)
        except Busy as exc:
            return refuse(Failure.of(exc, {"retry-after": "1"}), media_type)
        except Exception:  # a bug of ours: log it, answer with a GraphQL error, never a trace
            log.exception("unexpected error while handling a GraphQL request")
            internal = Failure.message("Internal server error", "INTERNAL_SERVER_ERROR")
            return refuse(internal, media_type)
        if not isinstance(outcome, Failure):  # only what passed the limits is registered
            await self.admit.register(resolved, principal)
        response = respond(outcome, media_type, request.headers)
        named = parameters.names_persisted_query
        if request.method == "GET" and named and response.status_code == 200:
            return validated(response, request.headers.get("if-none-match"))
        return response

    def _asks(self, request: Request) -> Asks:
        config = self.config
        return Asks(
            plan=config.expose_query_plan and _flag(request, PLAN_HEADER),
            cache_status=config.expose_cache_status,
            cost=config.expose_cost or _flag(request, COST_HEADER),
        )

    async def _admit_registry(
        self, request: Request, principal: Principal, composes: bool
    ) -> Refusal | None:
        """The registry API's rate limits (gateway/rate_limit.py), for gateway/registry."""
        if self.rate_limiter is None:
            return None
        address = self.admit.address(request) if principal.is_anonymous else None
        return await self.rate_limiter.admit_registry(principal, address, composes)


def _flag(request: Request, header: str) -> bool:
    return request.headers.get(header, "").lower() in ("1", "true")


def observed(record: request_log.RequestRecord, status: int) -> None:
    """The request's span says what the log line says (when tracing is on)."""
    if tracing.tracer is None:
        return
    attributes: dict[str, str | int | bool] = {"http.response.status_code": status}
    if record.query is not None:
        digest = sha256(record.query)
        attributes.update(tracing.operation_attributes(record.operation_name, digest))
    attributes["rugzak.request_id"] = record.request_id
    tracing.annotate(attributes)


def create_app(config: GatewayConfig, verifier: TokenVerifier | None = None) -> Starlette:
    return GatewayApp(config, verifier).starlette()
