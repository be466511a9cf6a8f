"""Memory under a soak of distinct operations (issue 14, point 5): the gateway's RSS must level
off once its bounded stores are full, whatever the traffic.

    .venv/bin/python -m bench.soak_memory [--minutes 5] [--clients 8] [--small]

The reference stack (three subgraphs and a gateway, real processes on loopback). Clients send,
round after round, operations the gateway has never seen, each kind filling another store:

- a new query text each time (documents, normalized operations, plans; and, as each asks its
  subgraph another root field, the entity cache's root answers);
- a new persisted query each time, half of them anonymous, half for one of 50 client
  applications (the persisted-query store and its per-client quotas);
- a citizen's profile with a token of a new subject each time (private entity entries);
- a new introspection query each time (the introspection answers).

Every 10 s it samples the gateway's RSS and what each bounded store holds (/metrics). The
report gives RSS after a warm-up (the first fifth of the run) and at the end, and the growth
between (issue 14's soak target: under 10 %). `--small` gives the gateway small bounds (300
entries or 2 MB per operation cache, 2 MB of entities, 1 MB of persisted queries) so that they
fill within minutes; with the default bounds (64 MB per operation cache, 64 MB of entities, 32 MB of
persisted queries) a run must be long enough to fill them before RSS can level off.
Not a test: numbers depend on the machine. Writes bench/results/soak_memory.json.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from auth.invalidation_keys import MASTER_ENV
from bench.procstat import group_pids, rss_bytes
from bench.tokens import TokenPool
from tests.e2e.stack import ANN, PROFILE_QUERY, SUBGRAPHS, start_gateway, subgraph_env_for
from tests.servers import ROOT, Server, listening_socket, start_uvicorn

RESULTS = ROOT / "bench" / "results" / "soak_memory.json"
SMALL = (
    "--plan-cache-entries", "300", "--plan-cache-size", "2MB", "--cache-size", "2MB",
    "--persisted-queries", "size=1MB,client-size=256KB",
)  # fmt: skip
NIS_CODES = ("44021", "11002", "24062", "31005")


@contextmanager
def soak_stack(workdir: Path, pool: TokenPool, options: Sequence[str]) -> Iterator[Server]:
    """The reference subgraphs and a gateway, trusting `pool`'s tokens (signed in about a
    millisecond, where the development issuer takes tens)."""
    env = pool.env(pool.write_jwks(workdir / "jwks.json"))
    master = secrets.token_urlsafe(32)
    env |= {
        "RUGZAK_DATA_DIR": str(workdir / "data"),
        "RUGZAK_GATEWAY_KEY_DIR": str(workdir / "gateway-keys"),
        MASTER_ENV: master,
    }
    with ExitStack() as stack:
        sock = listening_socket()
        stack.callback(sock.close)
        gateway_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        urls = {}
        for name in SUBGRAPHS:
            subgraph_env = subgraph_env_for(name, gateway_url, master.encode(), workdir)
            server = start_uvicorn(f"subgraphs.{name}.app:app", f"subgraph {name}", subgraph_env)
            stack.callback(server.stop)
            urls[name] = server.url + "/graphql"
        gateway = start_gateway(env, urls, *options, sock=sock)
        stack.callback(gateway.stop)
        yield gateway


def requests(pool: TokenPool, client: int) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """This client's endless stream of never-seen operations."""
    for n in itertools.count():
        tag = f"c{client}n{n}"
        nis = NIS_CODES[n % len(NIS_CODES)]
        kind = n % 4
        if kind == 0:
            yield {"query": f'{{ {tag}: municipality(nisCode: "{nis}") {{ name province }} }}'}, {}
        elif kind == 1:
            text = f'{{ {tag}: municipality(nisCode: "{nis}") {{ name }} }}'
            digest = hashlib.sha256(text.encode()).hexdigest()
            body = {"query": text, "extensions": {"persistedQuery": {"version": 1,
                    "sha256Hash": digest}}}  # fmt: skip
            headers = {}
            if n % 8 == 1:  # every other one for one of 50 client applications
                token = pool.mint(tag, {"client_id": f"app-{n % 50}"})
                headers = {"authorization": f"Bearer {token}"}
            yield body, headers
        elif kind == 2:
            token = pool.mint(f"soak-{tag}", {"rrn": ANN, "acr": "substantial"})
            yield {"query": PROFILE_QUERY}, {"authorization": f"Bearer {token}"}
        else:
            yield {"query": f'{{ __type(name: "Municipality") {{ {tag}: name kind }} }}'}, {}


def store_sizes(url: str, pool: TokenPool) -> dict[str, float]:
    token = pool.mint("monitoring", {"scope": "metrics:read"})  # /metrics wants the scope
    text = httpx.get(
        url + "/metrics", headers={"authorization": f"Bearer {token}"}, timeout=30
    ).text
    sizes: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("rugzak_store_bytes{", "rugzak_operation_cache_bytes{")):
            name, value = line.rsplit(" ", 1)
            sizes[name] = float(value)
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_memory", description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--small", action="store_true", help="small bounds that fill quickly")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    # the soak sends anonymous introspection among its never-seen operations
    options = (*(SMALL if args.small else ()), "--introspection", "all")
    stop = threading.Event()
    sent = [0] * args.clients
    failed = [0] * args.clients
    samples: list[dict[str, Any]] = []
    tokens = TokenPool()
    with (
        tempfile.TemporaryDirectory(prefix="rugzak-soak-") as tmp,
        soak_stack(Path(tmp), tokens, options) as gateway,
    ):
        url = gateway.url + "/graphql"

        def client(index: int) -> None:
            with httpx.Client(timeout=60) as http:
                for body, headers in requests(tokens, index):
                    if stop.is_set():
                        return
                    response = http.post(url, json=body, headers=headers)
                    sent[index] += 1
                    if response.status_code != 200:
                        failed[index] += 1

        started = time.monotonic()
        deadline = started + args.minutes * 60
        with ThreadPoolExecutor(args.clients) as threads:
            running = [threads.submit(client, i) for i in range(args.clients)]
            while time.monotonic() < deadline:
                time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
                rss = rss_bytes(group_pids(gateway.proc.pid))
                sample = {
                    "seconds": round(time.monotonic() - started),
                    "rss_mb": round(rss / 2**20, 1),
                    "requests": sum(sent),
                    "failed": sum(failed),
                    "stores_mb": {
                        k: round(v / 2**20, 2) for k, v in store_sizes(gateway.url, tokens).items()
                    },
                }
                samples.append(sample)
                print(f"{sample['seconds']:5d} s  RSS {sample['rss_mb']:7.1f} MB  "
                          f"{sample['requests']:7d} requests ({sample['failed']} not 200)",
                          flush=True)  # fmt: skip
                if any(f.done() for f in running):
                    for future in running:
                        if future.done():
                            future.result()  # a client that died: raise its error
            stop.set()
    warm = samples[max(0, len(samples) // 5 - 1)]
    end = samples[-1]
    growth = (end["rss_mb"] - warm["rss_mb"]) / warm["rss_mb"]
    print(f"\nafter warm-up ({warm['seconds']} s): {warm['rss_mb']} MB; at the end "
          f"({end['seconds']} s): {end['rss_mb']} MB; growth {growth * 100:.1f} % "
          f"(target < 10 %: {'met' if growth < 0.10 else 'NOT met'})")  # fmt: skip
    print("stores at the end (MB):")
    for name, size in sorted(end["stores_mb"].items()):
        print(f"  {name}: {size}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"options": list(options), "minutes": args.minutes, "clients": args.clients,
              "samples": samples, "growth_after_warmup": growth}  # fmt: skip
    args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
