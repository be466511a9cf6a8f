"""What the gateway's subgraph tokens cost, per request, against what they replaced.

    .venv/bin/python -m bench.subgraph_token_cost [--requests 20000]

Before: every subgraph call forwarded the client's bearer token and was signed with the shared
HMAC secret over its body (the primitive is still auth/gateway_signature.py); a subgraph then
verified that HMAC and the client's RS256 token. Now: every call carries a token the gateway
mints for that subgraph (ES256), reused for the same caller and subgraph for half its life; a
subgraph verifies that one token.

Measured in process, one core, median microseconds over `--requests` runs, for Ann's whole
profile (4 subgraph calls to 3 subgraphs):

- gateway, per subgraph call: the headers of before (forward + HMAC over a 600-byte body) and of
  now (a reused token; a token signed afresh, as for a caller new in the last 15 s);
- gateway, per request: 4 calls before; now the per-request headers object, 3 subgraphs;
- subgraph, per call: verifying before (RS256 client token + HMAC) and now (ES256; a token
  seen before is remembered until it expires).

Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from auth.dev_issuer import DevIssuer
from auth.gateway_keys import GatewayKeys
from auth.gateway_signature import GatewaySignatureVerifier, GatewaySigner
from auth.principal import Principal
from auth.subgraph_tokens import ALL_CLAIMS, SubgraphTokenMinter, subgraph_token_verifier
from auth.verifier import TokenVerifier, TrustedIssuer
from gateway.execution.credentials import SubgraphCredentials

ANN = "85671012385"
BODY = (
    b'{"query":"query($r0:[_Any!]!){_e0:_entities(representations:$r0){...on Citizen{'
    + (b"x" * 520)
    + b'}}}","variables":{"r0":[{"__typename":"Citizen","insz":"85671012385"}]}}'
)
PROFILE_CALLS = ("education", "allowances", "ticketing", "ticketing")  # 4 calls, 3 subgraphs


def median_us(run: Callable[[], object], requests: int) -> float:
    for _ in range(min(requests, 500)):
        run()
    times = []
    for _ in range(requests):
        started = time.perf_counter_ns()
        run()
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1000


async def verify_us(verify: Callable[[], object], requests: int) -> float:
    async def once() -> None:
        await verify()  # type: ignore[misc]

    for _ in range(200):
        await once()
    times = []
    for _ in range(requests):
        started = time.perf_counter_ns()
        await once()
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    n = parser.parse_args(argv).requests
    with tempfile.TemporaryDirectory() as tmp:
        issuer = DevIssuer.load_or_create(Path(tmp) / "issuer")
        jwks = Path(tmp) / "jwks.json"
        issuer.write_jwks(jwks)
        client_verifier = TokenVerifier(
            [TrustedIssuer(issuer.issuer, issuer.audience, jwks.as_uri())]
        )
        client_token = issuer.mint(subject="bench-ann", insz=ANN, acr="substantial")
        principal = asyncio.run(client_verifier.verify(client_token))
        keys = GatewayKeys.load_or_create(Path(tmp) / "gateway-keys")
        minter = SubgraphTokenMinter(keys)
        credentials = SubgraphCredentials(minter)
        signer = GatewaySigner(b"s" * 32)

        def before_call() -> None:
            headers = {"authorization": f"Bearer {principal.token}"}
            headers["x-rugzak-signature"] = signer.sign("POST", "/graphql", BODY, headers)

        def after_call_reused() -> None:
            credentials.for_caller(principal, {}).for_subgraph("education")

        def after_call_fresh() -> None:
            minter._cache.clear()
            credentials.for_caller(principal, {}).for_subgraph("education")

        def before_request() -> None:
            for _ in PROFILE_CALLS:
                before_call()

        def after_request() -> None:
            headers = credentials.for_caller(principal, {})
            for name in PROFILE_CALLS:
                headers.for_subgraph(name)

        def after_request_fresh() -> None:
            minter._cache.clear()
            after_request()

        rows = [
            ("gateway, one call: forward + HMAC (before)", median_us(before_call, n)),
            ("gateway, one call: minted token, reused (now)", median_us(after_call_reused, n)),
            ("gateway, one call: minted token, signed afresh (now)",
             median_us(after_call_fresh, n)),
            ("gateway, profile request: 4 calls (before)", median_us(before_request, n)),
            ("gateway, profile request: 3 tokens reused (now)", median_us(after_request, n)),
            ("gateway, profile request: 3 tokens signed afresh (now)",
             median_us(after_request_fresh, n)),
        ]  # fmt: skip

        hmac_verifier = GatewaySignatureVerifier([b"s" * 32])
        signed = {"authorization": f"Bearer {client_token}"}
        signed["x-rugzak-signature"] = signer.sign("POST", "/graphql", BODY, signed)
        gateway_token = minter.token(principal, "education", ALL_CLAIMS)
        keys_file = (Path(tmp) / "gateway-keys" / "jwks.json").as_uri()
        first_time = subgraph_token_verifier("education", keys_file, remember=0)
        remembered = subgraph_token_verifier("education", keys_file)

        async def before_verify() -> Principal:
            hmac_verifier.verify(signed["x-rugzak-signature"], "POST", "/graphql", BODY, signed)
            return await client_verifier.authenticate(signed["authorization"])

        async def after_verify() -> Principal:
            return await first_time.authenticate(f"Bearer {gateway_token}")

        async def after_verify_again() -> Principal:
            return await remembered.authenticate(f"Bearer {gateway_token}")

        async def subgraph_side() -> list[float]:
            return [
                await verify_us(before_verify, n),
                await verify_us(after_verify, n),
                await verify_us(after_verify_again, n),
            ]

        before_sub, after_sub, again_sub = asyncio.run(subgraph_side())
        rows += [
            ("subgraph, one call: HMAC + RS256 client token (before)", before_sub),
            ("subgraph, one call: ES256 gateway token, first seen (now)", after_sub),
            ("subgraph, one call: ES256 gateway token, seen before (now)", again_sub),
        ]
    width = max(len(label) for label, _ in rows)
    print(f"median µs over {n} runs")
    for label, value in rows:
        print(f"{label.ljust(width)}  {value:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
