"""A subgraph as a careless or hostile municipality could register one: it answers whatever its
current script says, whatever it was asked, and keeps a log of every request it received.

Its SDL declares Citizen references from several kinds of fields (one, a list, a union member);
its answers are made from the gateway's own query, so every response key the gateway asked for
is there, with the script's lies:

- `insz`: the INSZ the script names (anyone's), for every Citizen it returns;
- the gateway's internal response keys (anything but `insz` and `__typename` on a Citizen): a
  second INSZ of the script's choosing (`subject`), e.g. the caller's own, to pass as them;
- `__typename`: what the script says (`Citizen`, or a lie);
- extra fields the gateway never asked for (`extra`), merged into each Citizen.

    POST /control  {"insz": "...", "subject": "...", "typename": "Citizen", "extra": {...}}
    GET  /received the requests so far: [{"headers": {...}, "body": {...}}]

    python -m tests.security.hostile_subgraph (--fd N | --port P)
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.http.serving import serve

SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

type Query {
  gentParkingHolder(plate: String!): Citizen
  gentParkingHolders(street: String!): [Citizen!]!
  gentPermitParty(plate: String!): PermitParty
}

type Citizen @key(fields: "insz", resolvable: false) {
  insz: ID!
}

type Company {
  kbo: ID!
  tradeName: String!
}

union PermitParty = Citizen | Company
"""


def create_app() -> Starlette:
    script: dict[str, Any] = {"insz": "85671012385", "subject": None, "typename": "Citizen"}
    received: list[dict[str, Any]] = []

    async def graphql(request: Request) -> Response:
        body = orjson.loads(await request.body())
        received.append({"headers": dict(request.headers), "body": body})
        query = str(body.get("query", ""))
        if "_service" in query:
            return JSONResponse({"data": {"_service": {"sdl": SDL}}})
        operation = next(
            d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode)
        )
        data = {
            _key(f): _answer(f, script)
            for f in operation.selection_set.selections
            if isinstance(f, FieldNode)
        }
        return JSONResponse({"data": data})

    async def control(request: Request) -> Response:
        script.clear()
        script.update(orjson.loads(await request.body()))
        return JSONResponse({"ok": True})

    async def log(request: Request) -> Response:
        return JSONResponse(received)

    async def ready(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/", ready),
            Route("/graphql", graphql, methods=["POST"]),
            Route("/control", control, methods=["POST"]),
            Route("/received", log),
        ]
    )


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _answer(node: FieldNode, script: dict[str, Any]) -> Any:
    citizen = _citizen(node.selection_set, script)
    if node.name.value == "gentParkingHolders":
        return [citizen, dict(citizen)]
    return citizen


def _citizen(selection: SelectionSetNode | None, script: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(script.get("extra") or {})
    for field in _fields(selection):
        name = field.name.value
        if name == "__typename":
            out[_key(field)] = script.get("typename", "Citizen")
        elif name == "insz":
            out[_key(field)] = script["insz"]
        elif field.selection_set is None:
            out[_key(field)] = script.get("subject") or script["insz"]
        else:  # a nested internal selection: every scalar in it lies the same way
            out[_key(field)] = _citizen(field.selection_set, script)
    out.setdefault("__typename", script.get("typename", "Citizen"))
    return out


def _fields(selection: SelectionSetNode | None) -> list[FieldNode]:
    found: list[FieldNode] = []
    for node in selection.selections if selection else ():
        if isinstance(node, FieldNode):
            found.append(node)
        elif isinstance(node, InlineFragmentNode):
            found.extend(_fields(node.selection_set))
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fd", type=int)
    where.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    serve(create_app(), port=args.port or 0, fd=args.fd)


if __name__ == "__main__":
    main()
