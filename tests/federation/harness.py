"""Running fixture sets for differential tests: fixture subgraphs + composed supergraph + Hive.

A fixture set is a folder `tests/federation/fixtures/<name>/` holding, per subgraph,
`<subgraph>.graphql` (a Federation v2 subgraph SDL) and optionally `<subgraph>.json` (its data; see
fixture_subgraph.py). `running_fixture_set` serves each subgraph on loopback, fetches their SDLs
over HTTP and composes them with the reference library (tools/compose_supergraph.py) into
`<workdir>/supergraph.graphql`, whose routing URLs are the running subgraphs.

`FederationPool` (the session fixture `federation_pool` in conftest.py) starts each set at most once
per session, with a Hive Gateway over it, and stops everything at the end.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.federation.fixture_subgraph import load_fixture_dir
from tests.loopback_http import LOOPBACK
from tests.oracles.apollo import ApolloGateway, apollo_gateway
from tests.oracles.hive import HiveGateway, hive_gateway
from tests.servers import Server, start_python_server
from tools.compose_supergraph import Subgraph, compose, fetch_sdl

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


def hand_written_operations() -> list[tuple[str, Path]]:
    """(fixture set, operation file) of every `fixtures/<set>/operations/*.graphql`."""
    return [
        (path.parent.parent.name, path)
        for path in sorted(FIXTURES_DIR.glob("*/operations/*.graphql"))
    ]


def fixture_set_names() -> list[str]:
    return sorted(p.name for p in FIXTURES_DIR.iterdir() if p.is_dir() and any(p.glob("*.graphql")))


def start_fixture_subgraph(
    name: str,
    sdl_path: Path,
    data_path: Path | None,
    cache_control: str | None = None,
    cache_tags: tuple[str, ...] = (),
) -> Server:
    """One fixture subgraph on 127.0.0.1 (GraphQL at `<url>/graphql`); the caller stops it."""
    argv = ["-m", "tests.federation.fixture_subgraph_server", "--sdl", str(sdl_path)]
    if data_path is not None:
        argv += ["--data", str(data_path)]
    if cache_control is not None:
        argv += ["--cache-control", cache_control]
    for tag in cache_tags:
        argv += ["--cache-tag", tag]
    return start_python_server(argv, f"subgraph {name}")


@dataclass
class FixtureSet:
    """Fixture subgraphs that are running, and the supergraph composed over them."""

    name: str
    subgraphs: dict[str, Server]
    supergraph_path: Path
    supergraph_sdl: str
    subgraph_sdls: dict[str, str] = field(default_factory=dict)

    def subgraph_url(self, subgraph: str) -> str:
        """The GraphQL endpoint of a subgraph (the routing URL in the supergraph)."""
        return self.subgraphs[subgraph].url + "/graphql"

    def request_log(self, subgraph: str) -> list[dict[str, Any]]:
        """What the subgraph received: `[{"query", "variables", "operationName", "headers"}]`."""
        response = LOOPBACK.get(self.subgraphs[subgraph].url + "/__log", timeout=10.0)
        response.raise_for_status()
        log: list[dict[str, Any]] = response.json()
        return log

    def clear_request_logs(self) -> None:
        for server in self.subgraphs.values():
            LOOPBACK.delete(server.url + "/__log", timeout=10.0).raise_for_status()


@contextmanager
def running_fixture_set(name: str, workdir: Path) -> Iterator[FixtureSet]:
    """Serve fixture set `name`, compose it into `workdir/supergraph.graphql`; stop on exit."""
    sources = load_fixture_dir(FIXTURES_DIR / name)
    if not sources:
        raise FileNotFoundError(f"no subgraph SDLs in {FIXTURES_DIR / name}")
    with ExitStack() as stack:
        with ThreadPoolExecutor(max_workers=len(sources)) as pool:
            futures = {
                sub: pool.submit(start_fixture_subgraph, sub, sdl, data)
                for sub, (sdl, data) in sources.items()
            }
            servers: dict[str, Server] = {}
            errors: list[BaseException] = []
            for sub, future in futures.items():
                try:
                    servers[sub] = stack.enter_context(future.result())
                except Exception as exc:  # start the rest, stop them all, then fail
                    errors.append(exc)
        if errors:
            raise errors[0]
        subgraphs = [
            Subgraph(
                sub, server.url + "/graphql", fetch_sdl(server.url + "/graphql", client=LOOPBACK)
            )
            for sub, server in servers.items()
        ]
        supergraph_sdl = compose(subgraphs)
        supergraph_path = workdir / "supergraph.graphql"
        supergraph_path.write_text(supergraph_sdl)
        yield FixtureSet(
            name, servers, supergraph_path, supergraph_sdl, {s.name: s.sdl for s in subgraphs}
        )


class ApolloGivenUp(RuntimeError):
    """Apollo Gateway over this set was stopped after it did not answer in time."""


@dataclass
class Federation:
    """A running fixture set with a Hive Gateway over its supergraph."""

    fixtures: FixtureSet
    hive: HiveGateway


# how many times an Apollo Gateway that did not answer in time is restarted (per fixture set)
APOLLO_RESTARTS = 3


class FederationPool:
    """Starts fixture sets (and a Hive Gateway over each) on first use; `close()` stops them."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._stack = ExitStack()
        self._sets: dict[str, FixtureSet] = {}
        self._hives: dict[str, HiveGateway] = {}
        self._apollos: dict[str, ApolloGateway] = {}
        self._apollo_stops: dict[str, ExitStack] = {}
        self._apollos_given_up: set[str] = set()
        self._apollo_timeouts: dict[str, int] = {}
        self._starting = threading.Lock()

    def fixture_set(self, name: str) -> FixtureSet:
        """Running subgraphs + composed supergraph of fixture set `name` (no gateway)."""
        if name not in self._sets:
            workdir = self._workdir / name
            workdir.mkdir(parents=True, exist_ok=True)
            self._sets[name] = self._stack.enter_context(running_fixture_set(name, workdir))
        return self._sets[name]

    def hive(self, name: str) -> HiveGateway:
        """A Hive Gateway over fixture set `name`'s supergraph (starting the set if needed)."""
        if name not in self._hives:
            fixtures = self.fixture_set(name)
            self._hives[name] = self._stack.enter_context(hive_gateway(fixtures.supergraph_path))
        return self._hives[name]

    def apollo(self, name: str) -> ApolloGateway:
        """Apollo Gateway over fixture set `name`: the second opinion (tests/oracles/apollo.py).
        Safe to call from several threads (the generated operations are sent concurrently)."""
        with self._starting:
            if name in self._apollos_given_up:
                raise ApolloGivenUp(name)
            if name not in self._apollos:
                fixtures = self.fixture_set(name)
                stop = self._stack.enter_context(ExitStack())
                self._apollos[name] = stop.enter_context(apollo_gateway(fixtures.supergraph_path))
                self._apollo_stops[name] = stop
            return self._apollos[name]

    def apollo_timed_out(self, name: str, gateway: ApolloGateway) -> None:
        """Stops Apollo Gateway `gateway` over `name`, which did not answer in time: its planner
        can run for minutes and grow to gigabytes on one operation (abstract types nested many
        levels deep), which the shared machine should not carry on with. The next `apollo(name)`
        starts a fresh one, so that how many later operations get a second opinion does not
        depend on when the slow one was sent; after APOLLO_RESTARTS such stops it raises
        ApolloGivenUp for the rest of the session."""
        with self._starting:
            if self._apollos.get(name) is not gateway:
                return  # already stopped, by another operation that was in flight on it
            self._apollos.pop(name)
            stop = self._apollo_stops.pop(name)
            self._apollo_timeouts[name] = self._apollo_timeouts.get(name, 0) + 1
            if self._apollo_timeouts[name] >= APOLLO_RESTARTS:
                self._apollos_given_up.add(name)
        stop.close()

    def get(self, name: str) -> Federation:
        return Federation(self.fixture_set(name), self.hive(name))

    def close(self) -> None:
        self._stack.close()
        self._sets.clear()
        self._hives.clear()
        self._apollos.clear()
        self._apollo_stops.clear()


def comparable(body: Mapping[str, Any]) -> dict[str, Any]:
    """What two gateways' answers must share: `data`, and the sorted list of error paths."""
    errors = body.get("errors") or []
    paths = sorted((e.get("path") or [] for e in errors), key=lambda p: [str(x) for x in p])
    return {"data": body.get("data"), "error_paths": paths}


# the differential tests compare answers, not operation limits (tests/security checks those):
# the reference gateway has none, so neither has Rugzak here
_LIMITS = (
    "max_bytes",
    "max_tokens",
    "max_comments",
    "max_depth",
    "max_aliases",
    "max_root_fields",
    "max_directives",
    "max_repeated_fields",
    "max_fields",
    "max_fragments",
    "max_cost",
)
NO_OPERATION_LIMITS = json.dumps(dict.fromkeys(_LIMITS, 10**9))


def rugzak_for(pool: dict[str, Server], federation: Federation, name: str) -> Server:
    """Rugzak over fixture set `name`'s supergraph, started on first use (`pool` stops it)."""
    if name not in pool:
        argv = ["-m", "gateway", "serve", "--supergraph", str(federation.fixtures.supergraph_path)]
        argv += ["--operation-limits", NO_OPERATION_LIMITS]
        argv += ["--introspection", "all"]  # the fixtures' operations introspect anonymously
        pool[name] = start_python_server(argv, f"rugzak over {name}", probe="/health")
    return pool[name]


def ask_rugzak(server: Server, query: str, variables: dict[str, Any] | None = None) -> Any:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return LOOPBACK.post(server.url + "/graphql", json=body, timeout=30.0).json()
