"""Two gateway replicas write one access log in one PostgreSQL; PostgreSQL is stopped during a
steady load of civil servants' reads and started again. Afterwards the log holds exactly one
entry per answered personal read (nothing lost, nothing twice) and its chain verifies.

Real processes: the reference subgraphs, two `rugzak serve` replicas, a PostgreSQL cluster."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest

from gateway.audit.postgres_store import PostgresAuditBackend
from tests.e2e.stack import ANN, BRAM, SUPERGRAPH, Stack, reference_stack
from tests.resilience.harness import PgCluster
from tests.resilience.load import Load, Sample
from tests.servers import ROOT, Server, start_python_server

READ = "query($insz: ID!) { citizen(insz: $insz) { childBenefits { startDate } } }"


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


def replica(stack: Stack, pg: PgCluster, spool: Path) -> Server:
    argv = ["-m", "gateway", "serve", "--supergraph", str(SUPERGRAPH),
            "--access-log", pg.url, "--access-log-spool", str(spool)]  # fmt: skip
    for name, url in stack.subgraph_urls().items():
        argv += ["--subgraph-url", f"{name}={url}"]
    return start_python_server(argv, "gateway replica", stack.env, "/health")


def backlog(stack: Stack, server: Server) -> float:
    import httpx

    headers = stack.metrics_headers()  # /metrics wants the metrics:read scope
    for line in httpx.get(server.url + "/metrics", headers=headers, timeout=10).text.splitlines():
        if line.startswith("rugzak_access_log_backlog "):
            return float(line.split()[1])
    raise AssertionError("no backlog metric")


def answered_read(sample: Sample) -> bool:
    body = sample.body
    return (
        sample.status == 200
        and isinstance(body, dict)
        and not body.get("errors")
        and body["data"]["citizen"]["childBenefits"] is not None
    )


def test_two_replicas_one_log_through_a_database_outage(pg: PgCluster, tmp_path: Path) -> None:
    with reference_stack(tmp_path) as stack:
        spool = tmp_path / "spool"
        replicas = [replica(stack, pg, spool) for _ in range(2)]
        try:
            tokens = [
                stack.issuer.mint(
                    subject=f"case-handler-{n}", roles=["staff"], scopes=["allowances:read"],
                    purpose="child-benefit", organisation="44021", acr="substantial",
                )
                for n in range(4)
            ]  # fmt: skip
            headers = [{"authorization": f"Bearer {t}"} for t in tokens]

            def body(n: int) -> bytes:
                insz = ANN if n % 2 else BRAM
                return orjson.dumps({"query": READ, "variables": {"insz": insz}})

            loads = [
                Load(r.url + "/graphql", body, headers, concurrency=4, rate=25) for r in replicas
            ]
            for load in loads:
                load.__enter__()
            try:
                time.sleep(3)
                stopped = time.monotonic()
                pg.stop()
                time.sleep(4)  # the replicas keep answering: entries go to the spool
                pg.start()
                during = [s for load in loads for s in load.since(stopped)]
                time.sleep(3)
            finally:
                for load in loads:
                    load.stop()
            samples = [s for load in loads for s in load.samples]
            answered = sum(1 for s in samples if answered_read(s))
            assert answered > 200 and len(during) > 50
            assert all(s.status == 200 for s in samples), {s.status for s in samples}
            deadline = time.monotonic() + 60
            while any(backlog(stack, r) for r in replicas):
                assert time.monotonic() < deadline, "the spool was not replayed"
                time.sleep(0.2)
        finally:
            for server in replicas:
                server.stop()
    with psycopg.connect(pg.url) as db:
        stored, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT entry_id) FROM access_log"
        ).fetchone()  # type: ignore[misc]
        outcomes = dict(
            db.execute("SELECT outcome, COUNT(*) FROM access_log GROUP BY 1").fetchall()
        )
    print(
        f"\nanswered personal reads {answered} (during the outage {len(during)}), entries {stored}"
    )
    assert stored == distinct == answered, (stored, distinct, answered)
    assert outcomes == {"answered": answered}
    reader = PostgresAuditBackend(pg.url)
    assert reader.verify().problems == ()
    reader.close()
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify", "--store", pg.url],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(spool.glob("*.jsonl")) == []
