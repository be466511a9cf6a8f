"""The registry store on SQLite: versions kept, the head's compare-and-set, URLs understood."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.registry.sqlite_store import SqliteBackend
from gateway.registry.store import Change, RegistryStore, StaleRegistry, open_store

SDL_A1 = "type Query { a: Int }"
SDL_A2 = "type Query { a: Int b: Int }"
SDL_B = "type Query { c: Int }"


@pytest.fixture
def backend(tmp_path: Path) -> SqliteBackend:
    return SqliteBackend(tmp_path / "registry.sqlite3")


def test_empty_registry(backend: SqliteBackend) -> None:
    assert backend.head() == 0
    state = backend.state()
    assert state.version == 0 and state.subgraphs == {}
    assert backend.supergraph(1) is None
    assert backend.versions("a") == []


def test_every_version_kept_with_who_when_and_action(backend: SqliteBackend) -> None:
    v1 = backend.commit(0, [Change("a", "add", "44021", "http://a/1", SDL_A1)], "SG1", "ann", "r")
    v2 = backend.commit(
        v1, [Change("a", "update", "44021", "http://a/2", SDL_A2)], "SG2", "bob", "r", forced=True
    )
    v3 = backend.commit(
        v2, [Change("a", "remove", "44021", "http://a/2", SDL_A2)], "SG3", "ann", "r"
    )
    v4 = backend.commit(
        v3,
        [Change("a", "rollback", "44021", "http://a/1", SDL_A1, from_version=1)],
        "SG4",
        "x",
        "r",
    )
    assert (v1, v2, v3, v4) == (1, 2, 3, 4)
    versions = backend.versions("a")
    assert [(v.n, v.action, v.who, v.routing_url) for v in versions] == [
        (1, "add", "ann", "http://a/1"),
        (2, "update", "bob", "http://a/2"),
        (3, "remove", "ann", "http://a/2"),
        (4, "rollback", "x", "http://a/1"),
    ]
    assert [v.supergraph_version for v in versions] == [1, 2, 3, 4]
    assert versions[1].forced and not versions[0].forced
    assert versions[3].from_version == 1 and versions[3].sdl == SDL_A1
    assert all(v.at > 0 for v in versions)
    assert backend.head() == 4
    assert backend.supergraph(2) is not None and backend.supergraph(2)[0] == "SG2"  # type: ignore[index]
    state = backend.state()
    assert state.subgraphs["a"].current.n == 4 and state.subgraphs["a"].live


def test_removed_subgraph_is_not_live_but_kept(backend: SqliteBackend) -> None:
    v = backend.commit(
        0,
        [
            Change("a", "seed", "operator", "http://a", SDL_A1),
            Change("b", "seed", "operator", "http://b", SDL_B),
        ],
        "SG1",
        "rugzak serve",
        "seed",
    )
    backend.commit(v, [Change("b", "remove", "operator", "http://b", SDL_B)], "SG2", "op", "r")
    state = backend.state()
    assert set(state.subgraphs) == {"a", "b"}
    assert set(state.live()) == {"a"}
    assert state.subgraphs["b"].owner == "operator"


def test_commit_on_a_stale_head_is_refused_and_changes_nothing(backend: SqliteBackend) -> None:
    backend.commit(0, [Change("a", "add", "44021", "http://a", SDL_A1)], "SG1", "ann", "r")
    with pytest.raises(StaleRegistry):
        backend.commit(0, [Change("b", "add", "24062", "http://b", SDL_B)], "SGX", "bob", "r")
    assert backend.head() == 1
    assert set(backend.state().subgraphs) == {"a"}
    assert backend.versions("b") == []
    assert backend.supergraph(1) is not None and backend.supergraph(1)[0] == "SG1"  # type: ignore[index]


def test_two_processes_on_one_file_see_each_other_and_cannot_both_win(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    one, two = SqliteBackend(path), SqliteBackend(path)
    one.commit(0, [Change("a", "add", "44021", "http://a", SDL_A1)], "SG1", "ann", "r")
    assert two.head() == 1 and "a" in two.state().subgraphs
    two.commit(1, [Change("b", "add", "24062", "http://b", SDL_B)], "SG2", "bob", "r")
    with pytest.raises(StaleRegistry):
        one.commit(1, [Change("a", "update", "44021", "http://a", SDL_A2)], "SG2'", "ann", "r")
    assert set(one.state().live()) == {"a", "b"}


def test_unknown_action_is_refused(backend: SqliteBackend) -> None:
    with pytest.raises(ValueError):
        backend.commit(0, [Change("a", "delete", "1", "http://a", SDL_A1)], "SG", "x", "r")
    assert backend.head() == 0


async def test_async_store_runs_off_the_event_loop(tmp_path: Path) -> None:
    store = RegistryStore(SqliteBackend(tmp_path / "r.sqlite3"))
    try:
        version = await store.commit(
            0, [Change("a", "add", "1", "http://a", SDL_A1)], "SG", "x", "r"
        )
        assert version == 1 and await store.head() == 1
        assert (await store.state()).subgraphs["a"].current.sdl == SDL_A1
        assert [v.n for v in await store.versions("a")] == [1]
        started = asyncio.get_running_loop().time()
        await store.wait_for_change(0.05)
        assert asyncio.get_running_loop().time() - started >= 0.04
    finally:
        await store.close()


def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUGZAK_DATA_DIR", str(tmp_path / "data"))
    default = open_store("sqlite")
    assert default.description == f"sqlite:{tmp_path / 'data' / 'registry.sqlite3'}"
    explicit = open_store(f"sqlite:{tmp_path / 'x.sqlite3'}")
    assert explicit.description.endswith("x.sqlite3")
    url_form = open_store(f"sqlite://{tmp_path / 'y.sqlite3'}")
    assert url_form.description.endswith("y.sqlite3")
    with pytest.raises(ValueError, match="--registry wants"):
        open_store("mysql://nope")
    with pytest.raises(ValueError, match="cannot open the registry") as caught:
        open_store("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=1")
    assert "postgresql://u@127.0.0.1:1/db" in str(caught.value)
    assert "secret" not in str(caught.value)
    for store in (default, explicit, url_form):
        store.backend.close()


def test_url_patterns_per_organisation(backend: SqliteBackend) -> None:
    assert backend.url_patterns() == {}
    kept = backend.change_url_patterns(
        "44021", ["https://*.gent.be", "http://10.0.0.5:*"], [], False, "op"
    )
    assert kept == ["http://10.0.0.5:*", "https://*.gent.be"]
    backend.change_url_patterns("24062", ["https://*.leuven.be"], [], False, "op")
    # allowing one twice keeps one; forgetting one that is not there is no error
    kept = backend.change_url_patterns("44021", ["https://*.gent.be"], ["https://x"], False, "op")
    assert kept == ["http://10.0.0.5:*", "https://*.gent.be"]
    assert backend.change_url_patterns("44021", [], ["http://10.0.0.5:*"], False, "op") == [
        "https://*.gent.be"
    ]
    assert backend.url_patterns("24062") == {"24062": ["https://*.leuven.be"]}
    assert backend.change_url_patterns("24062", ["https://new.leuven.be"], [], True, "op") == [
        "https://new.leuven.be"
    ]
    assert backend.url_patterns() == {
        "24062": ["https://new.leuven.be"],
        "44021": ["https://*.gent.be"],
    }


# -- grants: the caller claims a subgraph's tokens carry ------------------------------------

EVERY = frozenset({"sub", "rrn", "org", "scope", "roles", "purpose", "acr", "client_id"})


def test_a_grant_stays_with_the_subgraph_as_granted(backend: SqliteBackend) -> None:
    v = backend.commit(
        0,
        [
            Change("base", "seed", "operator", "http://base", SDL_A1, claims=EVERY),
            Change("park", "add", "44021", "http://p/1", SDL_B),
        ],
        "SG1",
        "rugzak serve",
        "seed",
    )
    state = backend.state()
    assert state.subgraphs["base"].claims == EVERY and state.subgraphs["park"].claims is None
    v = backend.set_claims(v, "park", frozenset({"rrn"}), "SG1", "admin-1", "grant rrn")
    park = backend.state().subgraphs["park"]
    assert (park.claims, park.claims_by) == (frozenset({"rrn"}), "admin-1")
    assert park.claims_at is not None and backend.supergraph(v) == (  # same supergraph, new head
        "SG1",
        pytest.approx(park.claims_at),
    )
    v = backend.commit(v, [Change("park", "update", "44021", "http://p/2", SDL_B)], "S", "g", "r")
    assert backend.state().subgraphs["park"].claims == {"rrn"}  # an update by its owner keeps it
    v = backend.commit(v, [Change("park", "update", "24062", "http://p/2", SDL_B)], "S", "a", "r")
    assert backend.state().subgraphs["park"].claims is None  # handed to another organisation
    v = backend.set_claims(v, "park", frozenset(), "S", "admin-1", "none")
    assert backend.state().subgraphs["park"].claims == frozenset()  # explicitly none
    v = backend.set_claims(v, "park", frozenset({"org"}), "S", "admin-1", "org")
    v = backend.commit(v, [Change("park", "remove", "24062", "http://p/2", SDL_B)], "S", "a", "r")
    assert backend.state().subgraphs["park"].claims is None  # removed: the grant goes with it
    backend.commit(v, [Change("park", "add", "24062", "http://p/3", SDL_B)], "S", "a", "r")
    assert backend.state().subgraphs["park"].claims is None


def test_a_grant_on_a_stale_head_or_unknown_name_changes_nothing(backend: SqliteBackend) -> None:
    backend.commit(0, [Change("a", "add", "44021", "http://a", SDL_A1)], "SG1", "ann", "r")
    with pytest.raises(StaleRegistry):
        backend.set_claims(0, "a", frozenset({"rrn"}), "SG1", "admin", "r")
    with pytest.raises(ValueError):
        backend.set_claims(1, "nobody", frozenset({"rrn"}), "SG1", "admin", "r")
    assert backend.head() == 1 and backend.state().subgraphs["a"].claims is None


def test_a_registry_from_before_grants_keeps_the_operators_subgraphs_working(
    tmp_path: Path,
) -> None:
    """Its tables get the grant columns; the operator's subgraphs are granted every claim (they
    were sent the client's whole token until then), the others the default."""
    import sqlite3

    from gateway.registry import sqlite_store

    path = tmp_path / "old.sqlite3"
    old_schema = sqlite_store.SCHEMA.replace(
        ",\n    claims TEXT,\n    claims_by TEXT,\n    claims_at REAL", ""
    )
    assert "claims" not in old_schema
    with sqlite3.connect(path) as db:
        db.executescript(old_schema)
        db.execute("UPDATE registry_head SET version = 1")
        db.execute("INSERT INTO supergraphs VALUES (1, 'SG', 0, 'x', 'seed')")
        for name, owner in (("education", "operator"), ("park", "44021")):
            db.execute("INSERT INTO subgraphs VALUES (?, ?, 1, 0)", (name, owner))
            db.execute(
                "INSERT INTO versions VALUES (?, 1, 'seed', 'http://x', 'type Query { a: Int }', "
                "?, 'x', 0, 1, NULL, 0)",
                (name, owner),
            )
    upgraded = SqliteBackend(path).state().subgraphs
    assert upgraded["education"].claims == EVERY and upgraded["park"].claims is None
    assert SqliteBackend(path).state().subgraphs["education"].claims == EVERY  # idempotent
