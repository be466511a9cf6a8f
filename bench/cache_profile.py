"""What the entity cache does for the whole-profile query (examples/profile.graphql) of a citizen,
in one run: subgraph requests per query and latency with the cache cold and warm, with the cache
in memory and in Redis (a real redis-server on loopback).

    .venv/bin/python -m bench.cache_profile [--rounds 20] [--warm 5] [--output PATH]

The three reference subgraphs and the gateway run as real servers on 127.0.0.1, the subgraph
requests signed as in the demo. The subgraphs may send no Cache-Control, so the gateway is told
to cache root answers ("Query") and every entity type for `--ttl` seconds (`--entity-ttl
TYPE=SECONDS`); a subgraph's `max-age` would take precedence, and the cold rows would then no
longer say MISS.

Each round: wait until every entry has expired, then one request with a token the cache has
never seen (a new subject for Ann: her private entries are keyed by it) is *cold*; the same
request repeated at once is *warm* (`--warm` times). Requests are sequential, after a warm-up
that fills the gateway's plan cache and opens its connections, so cold and warm differ only by
the entity cache. The gateway runs with `--expose-cache-status`, and the `x-rugzak-cache` header
of every sample is counted: cold ones should say MISS, warm ones HIT.

Prints a table and writes JSON (default .rugzak/bench/cache_profile.json). Not a test: numbers
depend on the machine, and the subgraphs run on it too.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from auth.dev_issuer import DevIssuer
from auth.gateway_keys import GatewayKeys
from gateway.schema.supergraph import load_supergraph
from tests.e2e.stack import ANN, PROFILE_QUERY, SUBGRAPHS, SUPERGRAPH, auth_env, start_gateway
from tests.redis_server import redis_server
from tests.servers import ROOT, start_uvicorn

DEFAULT_OUTPUT = ROOT / ".rugzak" / "bench" / "cache_profile.json"


@dataclass
class Samples:
    cache: str
    state: str  # cold | warm
    ms: list[float] = field(default_factory=list)
    subgraph_requests: list[int] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, ms: float, response: httpx.Response) -> None:
        body = response.json()
        if response.status_code != 200 or "errors" in body:
            raise SystemExit(f"the profile query failed: {response.status_code} {body}")
        self.ms.append(ms)
        self.subgraph_requests.append(int(response.headers["x-subgraph-requests"]))
        self.statuses[response.headers.get("x-rugzak-cache", "?")] += 1

    def summary(self) -> dict[str, Any]:
        q = statistics.quantiles(self.ms, n=10) if len(self.ms) > 1 else self.ms * 9
        return {
            "cache": self.cache,
            "state": self.state,
            "samples": len(self.ms),
            "subgraph_requests_per_query": statistics.median(self.subgraph_requests),
            "median_ms": round(statistics.median(self.ms), 2),
            "p90_ms": round(q[8], 2),
            "cache_status": dict(self.statuses),
        }


def cached_types() -> list[str]:
    """The root type Query, and every entity type (a type with a key in some subgraph)."""
    supergraph = load_supergraph(SUPERGRAPH.read_text(encoding="utf-8"))
    entities = [
        name
        for name, graphs in supergraph.type_graphs.items()
        if any(in_graph.keys for in_graph in graphs.values())
    ]
    return ["Query", *sorted(entities)]


@contextmanager
def subgraphs(env: dict[str, str]) -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        urls = {}
        for name in SUBGRAPHS:
            server = start_uvicorn(f"subgraphs.{name}.app:app", f"subgraph {name}", env)
            stack.callback(server.stop)
            urls[name] = server.url + "/graphql"
        yield urls


def token(issuer: DevIssuer, subject: str) -> dict[str, str]:
    minted = issuer.mint(subject=subject, insz=ANN, extra_claims={"acr": "substantial"})
    return {"authorization": f"Bearer {minted}"}


def measure(
    name: str,
    gateway_args: Sequence[str],
    env: dict[str, str],
    urls: dict[str, str],
    issuer: DevIssuer,
    args: argparse.Namespace,
) -> tuple[Samples, Samples]:
    ttls = [a for t in cached_types() for a in ("--entity-ttl", f"{t}={args.ttl:g}")]
    gateway = start_gateway(env, urls, *gateway_args, *ttls, "--expose-cache-status")
    cold, warm = Samples(name, "cold"), Samples(name, "warm")
    body = {"query": PROFILE_QUERY}
    try:
        with httpx.Client(base_url=gateway.url, timeout=30.0) as client:
            for i in range(10):  # plans, connections, the first verifications
                client.post("/graphql", json=body, headers=token(issuer, f"warm-up-{name}-{i}"))
            for round_ in range(args.rounds):
                time.sleep(args.ttl + 0.3)  # every entry expired
                headers = token(issuer, f"bench-{name}-{round_}")
                for samples in (cold, *[warm] * args.warm):
                    start = time.perf_counter()
                    response = client.post("/graphql", json=body, headers=headers)
                    samples.add((time.perf_counter() - start) * 1000, response)
    finally:
        gateway.stop()
    return cold, warm


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{'cache':7} {'state':5} {'subgraph req/query':>18} {'median ms':>10} {'p90 ms':>8}"
        "  x-rugzak-cache",
    ]
    for r in results:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(r["cache_status"].items()))
        lines.append(
            f"{r['cache']:7} {r['state']:5} {r['subgraph_requests_per_query']:>18g} "
            f"{r['median_ms']:>10.2f} {r['p90_ms']:>8.2f}  {statuses}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="cold samples per cache")
    parser.add_argument("--warm", type=int, default=5, help="warm samples per round")
    parser.add_argument("--ttl", type=float, default=1.0, help="entry lifetime, seconds")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results")
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        issuer, env = auth_env(Path(tmp))
        # as in the demo: the gateway mints a token per subgraph call, the subgraphs check it
        env = {
            **env,
            "RUGZAK_DATA_DIR": str(Path(tmp) / "data"),
            "RUGZAK_GATEWAY_KEY_DIR": str(Path(tmp) / "gateway-keys"),
        }
        keys = GatewayKeys.load_or_create(Path(env["RUGZAK_GATEWAY_KEY_DIR"]))
        keys_file = Path(env["RUGZAK_GATEWAY_KEY_DIR"]) / "jwks.json"
        assert keys.jwks() and keys_file.exists()
        with subgraphs({**env, "RUGZAK_GATEWAY_JWKS_URL": str(keys_file)}) as urls:
            results += [s.summary() for s in measure("memory", (), env, urls, issuer, args)]
            with redis_server() as redis:
                in_redis = measure("redis", ("--cache", redis.url), env, urls, issuer, args)
            results += [s.summary() for s in in_redis]
    print(
        f"whole-profile query for Ann: {args.rounds} cold requests (every entry expired, a token "
        f"the cache has not seen) and {args.rounds * args.warm} warm ones (the same at once)"
    )
    print(table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "query": "examples/profile.graphql",
        "citizen": ANN,
        "rounds": args.rounds,
        "warm_per_round": args.warm,
        "ttl_seconds": args.ttl,
        "cached_types": cached_types(),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "results": results,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
