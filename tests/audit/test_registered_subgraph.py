"""A subgraph a municipality registers declares its own personal data, and the access log
follows its declarations at once: Gent registers its resident parking permits (whose car, with
`@dataSubject(fields: "holderInsz")` and `@personalData(category: "parking")`), and a civil
servant's read of them is logged once per permit holder, with Gent's category."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import orjson

from tests.audit.entries import ANN, BRAM
from tests.registry.harness import make_world, registry_call, wait_until


def test_a_registered_subgraphs_declarations_drive_the_log(tmp_path: Path) -> None:
    world, stop = make_world(tmp_path)
    try:
        gateway = world.start_gateway(f"sqlite:{tmp_path / 'registry.sqlite3'}")
        try:
            gent = world.token("44021", "registry:write")
            added = registry_call(
                gateway.url, "POST", "/subgraphs/gent-residents", gent,
                {"url": world.subgraph_url("residents")},
            )  # fmt: skip
            assert added.status_code == 200, added.text
            clerk = world.issuer.mint(
                subject="parking-clerk", roles=["staff"], organisation="44021",
                purpose="parking", acr="substantial", client_id="parkeerloket",
            )  # fmt: skip
            query = {"query": "{ residentPermits { zone plate } }"}
            headers = {"authorization": f"Bearer {clerk}"}

            def answered() -> bool:
                body = httpx.post(gateway.url + "/graphql", json=query, headers=headers).json()
                return "errors" not in body and len(body["data"]["residentPermits"]) == 2

            wait_until(answered)
        finally:
            gateway.stop()  # writes what is queued
    finally:
        stop()
    with sqlite3.connect(tmp_path / "data" / "audit.sqlite3") as db:
        rows = db.execute(
            "SELECT subject, role, organisation, application, purpose, categories, fields,"
            " outcome FROM access_log ORDER BY seq"
        ).fetchall()
    assert {r[0] for r in rows} == {ANN, BRAM}  # one entry per holder, from the data
    assert len(rows) == 2
    for _subject, role, org, app, purpose, categories, fields, outcome in rows:
        assert (role, org, app, purpose, outcome) == (
            "civil-servant", "44021", "parkeerloket", "parking", "answered",
        )  # fmt: skip
        assert orjson.loads(categories) == ["parking"]
        assert orjson.loads(fields) == ["ResidentPermit.plate"]
