"""The graphql-http package's audit of the GraphQL-over-HTTP spec, run by Node.js against a real
gateway (and its subgraphs) on loopback: every item ok, no warning, no error, no notice.

Introspection is open to anonymous callers here: the audit asks `__type` without a token."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import Stack, reference_stack
from tests.servers import ROOT

AUDIT_SCRIPT = Path(__file__).with_name("graphql_http_audit.mjs")


@pytest.fixture(scope="module")
def open_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with reference_stack(tmp_path_factory.mktemp("audit"), "--introspection", "all") as running:
        yield running


def audit(url: str) -> list[dict[str, str]]:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the graphql-http audit"
    assert (ROOT / "node_modules" / "graphql-http").is_dir(), "run `npm ci` (make test does)"
    done = subprocess.run(
        [node, str(AUDIT_SCRIPT), url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_the_graphql_http_audit_passes_every_item(open_stack: Stack) -> None:
    results = audit(open_stack.graphql_url)
    counts = Counter(result["status"] for result in results)
    failing = [
        f"{r['id']} {r['status']}: {r['name']} ({r.get('reason')})"
        for r in results
        if r["status"] != "ok"
    ]
    assert len(results) >= 50, results  # the audit ran its whole list
    assert not failing, f"{dict(counts)}\n" + "\n".join(failing)
