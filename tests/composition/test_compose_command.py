"""`rugzak compose`: subgraphs from files and from running subgraphs' `_service { sdl }`."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.composition import SubgraphSource, compose
from gateway.schema.supergraph import load_supergraph
from tests.composition.supergraph_facts import differences, facts
from tests.servers import start_python_server

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = ROOT / "tests/federation/fixtures/products"


def test_compose_files_writes_a_supergraph_the_gateway_loads(tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    sources = [f"{p.stem}={p}" for p in sorted(PRODUCTS.glob("*.graphql"))]
    urls = [
        f"--routing-url={p.stem}=http://example.test/{p.stem}" for p in PRODUCTS.glob("*.graphql")
    ]
    assert main(["compose", *sources, *urls, "-o", str(out)]) == 0
    supergraph = load_supergraph(out.read_text(encoding="utf-8"))
    assert supergraph.graph_by_name("reviews").url == "http://example.test/reviews"
    assert "topProducts" in supergraph.api_sdl


def test_compose_from_running_subgraphs(tmp_path: Path) -> None:
    servers = [
        start_python_server(
            ["-m", "tests.federation.fixture_subgraph_server", "--sdl", str(p)],
            p.stem,
        )
        for p in sorted(PRODUCTS.glob("*.graphql"))
    ]
    try:
        out = tmp_path / "supergraph.graphql"
        sources = [f"{s.name}={s.url}/graphql" for s in servers]
        assert main(["compose", *sources, "-o", str(out)]) == 0
        composed = out.read_text(encoding="utf-8")
        assert (
            load_supergraph(composed).graph_by_name("inventory").url == servers[0].url + "/graphql"
        )
        from_files = compose(
            [
                SubgraphSource(
                    s.name, f"{s.url}/graphql", (PRODUCTS / f"{s.name}.graphql").read_text()
                )
                for s in servers
            ]
        )
        assert differences(facts(composed), facts(from_files)) == []
    finally:
        for server in servers:
            server.stop()


def test_composition_errors_go_to_stderr_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    invalid = Path(__file__).with_name("invalid") / "non_shareable_field"
    sources = [f"{p.stem}={p}" for p in sorted(invalid.glob("*.graphql"))]
    assert main(["compose", *sources]) == 1
    err = capsys.readouterr().err
    assert "INVALID_FIELD_SHARING [Product.name]" in err
    assert "products" in err and "reviews" in err and "@shareable" in err


def test_an_unreadable_source_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["compose", f"missing={tmp_path / 'nope.graphql'}"]) == 2
    assert "cannot read" in capsys.readouterr().err
