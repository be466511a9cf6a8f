"""What per-field authorisation costs the gateway per request, in one run: the gateway's own work
for a request (token verification, then parse/validate/normalize from cache, authorise, plan
from cache) with the reference supergraph's rules, and the same over the supergraph with every
authorisation directive removed.

    .venv/bin/python -m bench.auth_cost [--requests 5000]

Measured in-process, so that subgraph latency does not drown the difference; the subgraph calls
themselves do not depend on authorisation. Prints medians in microseconds and the difference.
Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from graphql import DirectiveNode, parse, print_ast
from graphql.language import REMOVE, Visitor, visit

from auth.dev_issuer import DevIssuer
from auth.principal import Principal
from auth.verifier import TokenVerifier, TrustedIssuer
from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.pipeline.context import RequestContext
from gateway.pipeline.handler import RequestHandler
from gateway.schema.supergraph import load_supergraph
from tests.e2e.stack import ANN, PROFILE_QUERY, SUPERGRAPH

RULES = {"policy", "requiresScopes", "authenticated"}


class _WithoutRules(Visitor):
    """Drops the uses of the authorisation directives (their definitions stay)."""

    def enter_directive(self, node: DirectiveNode, *_: Any) -> object:
        return REMOVE if node.name.value in RULES else None


def without_rules(sdl: str) -> str:
    return print_ast(visit(parse(sdl), _WithoutRules()))


def handler(sdl: str) -> RequestHandler:
    return RequestHandler(load_supergraph(sdl), Executor(SubgraphClient(10.0), {}))


def timed(handler: RequestHandler, principal: Principal, requests: int) -> list[float]:
    for _ in range(200):
        handler.prepare(RequestContext(PROFILE_QUERY, principal=principal))
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        handler.prepare(RequestContext(PROFILE_QUERY, principal=principal))
        times.append((time.perf_counter() - start) * 1e6)
    return times


async def verify_times(verifier: TokenVerifier, token: str, requests: int) -> list[float]:
    await verifier.authenticate(f"Bearer {token}")
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        await verifier.authenticate(f"Bearer {token}")
        times.append((time.perf_counter() - start) * 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    sdl = SUPERGRAPH.read_text()
    bare = without_rules(sdl)
    assert load_supergraph(sdl).field_access and not load_supergraph(bare).field_access
    with tempfile.TemporaryDirectory() as tmp:
        issuer = DevIssuer.load_or_create(Path(tmp))
        jwks = Path(tmp) / "jwks.json"
        issuer.write_jwks(jwks)
        verifier = TokenVerifier([TrustedIssuer(issuer.issuer, issuer.audience, jwks.as_uri())])
        token = issuer.mint(subject="bench-ann", insz=ANN, extra_claims={"acr": "substantial"})
        verify = asyncio.run(verify_times(verifier, token, args.requests))
        principal = asyncio.run(verifier.authenticate(f"Bearer {token}"))
    ruled, plain = handler(sdl), handler(bare)
    rows = []
    # interleave rounds so that drift hits both alike
    with_rules: list[float] = []
    without: list[float] = []
    for _ in range(5):
        with_rules += timed(ruled, principal, args.requests // 5)
        without += timed(plain, principal, args.requests // 5)
    for name, times in (("with authorisation", with_rules), ("without", without)):
        rows.append((name, statistics.median(times)))
    print(f"token verification (RS256, cached JWKS): median {statistics.median(verify):.1f} µs")
    for name, median in rows:
        print(f"prepare {name:<20} median {median:8.1f} µs")
    print(f"authorisation adds {rows[0][1] - rows[1][1]:.1f} µs per request (median)")


if __name__ == "__main__":
    main()
