"""The reference composition (tools/compose_supergraph.py over @theguild/federation-composition)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.federation.harness import FIXTURES_DIR, start_fixture_subgraph
from tests.servers import ROOT
from tools.compose_supergraph import (
    CompositionError,
    Subgraph,
    compose,
    composer_version,
    main,
)

PRODUCTS = FIXTURES_DIR / "products"
LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'


def products_subgraphs() -> list[Subgraph]:
    return [
        Subgraph(
            name, f"http://127.0.0.1:{4000 + i}/graphql", (PRODUCTS / f"{name}.graphql").read_text()
        )
        for i, name in enumerate(["products", "inventory", "reviews"], start=1)
    ]


def test_the_composer_is_the_pinned_version() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    assert composer_version() == pinned["@theguild/federation-composition"]


def test_composes_the_products_fixture() -> None:
    supergraph = compose(products_subgraphs())
    assert supergraph.startswith('schema @link(url: "https://specs.apollo.dev/link/v1.0")')
    assert (
        'PRODUCTS @join__graph(name: "products", url: "http://127.0.0.1:4001/graphql")'
        in supergraph
    )
    assert (
        'REVIEWS @join__graph(name: "reviews", url: "http://127.0.0.1:4003/graphql")' in supergraph
    )
    assert '@join__field(graph: INVENTORY, requires: "price weight")' in supergraph
    assert '@join__field(graph: REVIEWS, provides: "name")' in supergraph


def test_composition_errors_carry_codes() -> None:
    a = Subgraph(
        "a",
        "http://127.0.0.1:1/graphql",
        LINK + 'type Query { t: T } type T @key(fields: "id") { id: ID! n: Int }',
    )
    b = Subgraph(
        "b", "http://127.0.0.1:2/graphql", LINK + 'type T @key(fields: "id") { id: ID! n: String }'
    )
    with pytest.raises(CompositionError) as caught:
        compose([a, b])
    codes = {error.split(":", 1)[0] for error in caught.value.errors}
    assert "FIELD_TYPE_MISMATCH" in codes
    assert any('"T.n"' in error for error in caught.value.errors)


def test_cli_from_files(tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    argv = [f"{name}={PRODUCTS / name}.graphql" for name in ("products", "inventory", "reviews")]
    argv += ["--routing-url", "products=http://127.0.0.1:9/graphql", "-o", str(out)]
    assert main(argv) == 0
    text = out.read_text()
    assert 'url: "http://127.0.0.1:9/graphql"' in text
    assert 'url: "http://127.0.0.1/reviews/graphql"' in text


def test_cli_exits_1_and_prints_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.graphql"
    broken.write_text(LINK + "type Query { x: Nope }")
    proc = subprocess.run(
        [sys.executable, "-m", "tools.compose_supergraph", f"broken={broken}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Nope" in proc.stderr


def test_cli_fetches_sdl_from_a_running_subgraph(tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    with start_fixture_subgraph(
        "products", PRODUCTS / "products.graphql", PRODUCTS / "products.json"
    ) as server:
        url = server.url + "/graphql"
        assert main([f"products={url}", "-o", str(out)]) == 0
    text = out.read_text()
    assert f'PRODUCTS @join__graph(name: "products", url: "{url}")' in text
    assert "topProducts(first: Int = 5): [Product]" in text
