"""`make run` fetches GraphiQL's three npm packages alone (tools/graphiql_assets.py), at the
versions and integrity package-lock.json pins, and the gateway finds its assets there."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.http import graphiql
from tools import graphiql_assets


def test_the_pinned_packages_are_unpacked_once_and_serve_every_asset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "graphiql"
    assert sorted(graphiql_assets.install(dest)) == ["graphiql", "react", "react-dom"]
    assert sorted(p.name for p in dest.iterdir()) == ["graphiql", "react", "react-dom"]
    assert graphiql_assets.install(dest) == []  # already there at their integrity
    monkeypatch.setenv("RUGZAK_GRAPHIQL_DIR", str(dest))
    for name in graphiql.ASSETS:
        assert graphiql._asset_file(name) is not None, name
    version = graphiql_assets.packages()["graphiql"][0]
    assert graphiql._package_version("graphiql.min.js") == version


def test_a_tarball_that_differs_from_the_lock_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned = graphiql_assets.packages()
    wrong = {name: (version, "sha512-" + "A" * 86 + "==") for name, (version, _) in pinned.items()}
    monkeypatch.setattr(graphiql_assets, "packages", lambda: wrong)
    with pytest.raises(SystemExit, match=r"integrity differs from package-lock\.json"):
        graphiql_assets.install(tmp_path / "graphiql")
    assert not (tmp_path / "graphiql" / "react").exists()
