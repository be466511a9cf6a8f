"""Gateway configuration: where the supergraph comes from, how to reach subgraphs, whom to trust."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gateway.audit.settings import AccessLogSettings
from gateway.collector import CollectorSettings
from gateway.execution.resilience import SubgraphPolicies
from gateway.limits import LimitSettings
from gateway.limits.priority import PrioritySettings
from gateway.persisted_queries import PersistedLimits
from gateway.rate_limit import RateLimits
from gateway.registry.limits import RegistryLimits


@dataclass(slots=True)
class GatewayConfig:
    supergraph: str  # file path or http(s) URL
    # subgraph name -> URL, replacing the routing URL written in the supergraph
    subgraph_urls: dict[str, str] = field(default_factory=dict)
    subgraph_timeout: float = 10.0
    subgraph_timeouts: dict[str, float] = field(default_factory=dict)
    # circuit breakers, retries and in-flight caps, per subgraph (gateway/execution/resilience.py)
    subgraph_policies: SubgraphPolicies = field(default_factory=SubgraphPolicies)
    # seconds one request may take in all: each subgraph fetch gets at most what is left
    request_timeout: float = 30.0
    # seconds between active checks of the subgraphs, the cache and the registry (/ready); 0: off
    probe_interval: float = 1.0
    max_body_bytes: int = 1_000_000
    # answer `extensions.queryPlan` to requests that send `x-rugzak-query-plan: true`
    expose_query_plan: bool = False
    # progressive @override labels switched on here (percent(N) labels are drawn per request)
    override_labels: frozenset[str] = frozenset()
    # a request reading any field it may not read is refused whole (403), instead of those
    # fields coming back null with errors
    reject_unauthorized: bool = False
    # modules whose `POLICIES` dict adds named @policy checks to the built-in ones
    policy_modules: tuple[str, ...] = ()
    # where shared caches live (persisted queries, entities): None/"memory" or redis://host:port/db
    cache_url: str | None = None
    # entity cache lifetimes per type, for subgraphs that send no Cache-Control
    entity_ttls: dict[str, float] = field(default_factory=dict)
    # say what came from the entity cache: header x-rugzak-cache and extensions.cacheStatus
    expose_cache_status: bool = False
    # bounds of each of the in-memory caches of documents, normalized operations and plans
    plan_cache_entries: int = 1000
    plan_cache_bytes: int = 64 * 1024 * 1024
    # persisted operations each client application may run (JSON file or directory); None: any
    persisted_allow_list: Path | None = None
    # with an allow-list: may clients that have no list run any operation?
    allow_unlisted_clients: bool = False
    # a development issuer whose JWKS this gateway publishes at /.well-known/jwks.json
    dev_issuer_dir: Path | None = None
    # the keys the gateway signs its subgraph tokens with (auth/gateway_keys.py); None: one key
    # made in memory for this process
    gateway_key_dir: Path | None = None
    # the `iss` of the tokens the gateway mints for subgraphs; never a client issuer's
    gateway_issuer: str = "rugzak-gateway"
    # how long a minted subgraph token lives (seconds)
    subgraph_token_ttl: float = 30.0
    # client headers passed on to a subgraph, by subgraph name (none by default)
    propagate_headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # master secrets the subgraphs' invalidation keys derive from (auth/invalidation_keys.py);
    # (): no subgraph may invalidate (tokens with the cache:invalidate scope still may)
    invalidation_secrets: tuple[bytes, ...] = ()
    # seconds between checks of the supergraph's file or URL for a new version (0: never)
    reload_interval: float = 0.0
    # on a new supergraph, plan this many of the operations most recently answered with data,
    # in the background after the swap, for at most warm_seconds
    warm_operations: int = 200
    warm_seconds: float = 2.0
    # the subgraph registry (gateway/registry): sqlite[:PATH] or postgresql://...; None: off
    registry_url: str | None = None
    # seconds between checks of the registry for a version another replica committed
    registry_poll_interval: float = 1.0
    # operation limits (size, tokens, shape, cost): defaults and per client application
    operation_limits: LimitSettings = field(default_factory=LimitSettings)
    # answer every request's estimated cost in extensions.cost (a request may ask for it with
    # the header x-rugzak-cost: true)
    expose_cost: bool = False
    # OpenTelemetry traces over OTLP/HTTP to this collector (gateway/tracing.py); None: off
    otlp_endpoint: str | None = None
    # the share of new traces recorded (a caller's traceparent decides for its own)
    trace_sample_ratio: float = 1.0
    # bounds of the persisted query store, in total and per client application
    persisted_limits: PersistedLimits = field(default_factory=PersistedLimits)
    # bytes the in-memory entity cache may hold (without --cache redis://...)
    memory_cache_bytes: int = 64 * 1024 * 1024
    # URL patterns every organisation may register (gateway/registry/url_policy.py)
    registry_allowed_urls: tuple[str, ...] = ()
    registry_limits: RegistryLimits = field(default_factory=RegistryLimits)
    # who read whose personal data (gateway/audit); None: not logged (`rugzak serve` logs by
    # default)
    access_log: AccessLogSettings | None = None
    # requests per principal, client application and anonymous address (gateway/rate_limit.py)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    # where the rate limits' buckets live: memory or redis://...; None: Redis when cache_url is
    rate_limit_store: str | None = None
    # anonymous requests take turns and give way to callers with a token
    # (gateway/limits/priority.py)
    priority: PrioritySettings = field(default_factory=PrioritySettings)
    # when the cyclic garbage collector runs (gateway/collector.py)
    collector: CollectorSettings = field(default_factory=CollectorSettings)
    # proxies (addresses, CIDRs) whose X-Forwarded-For names the caller (gateway/http/client_ip.py)
    trusted_proxies: tuple[str, ...] = ()
    # who may query __schema and __type: "all", "authenticated" callers, or "none"
    introspection: str = "authenticated"
    # the port of a second listener serving /metrics, /health and GET /registry without a token
    admin_port: int | None = None
    # cross-origin access for browsers: these origins (none: no CORS at all), methods, headers
    cors_origins: tuple[str, ...] = ()
    cors_methods: tuple[str, ...] = ("GET", "POST")
    cors_headers: tuple[str, ...] = (
        "authorization",
        "content-type",
        "x-rugzak-purpose",
        "apollographql-client-name",
        "apollographql-client-version",
    )
