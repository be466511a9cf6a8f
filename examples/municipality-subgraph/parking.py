"""Gent's parking: a municipality's subgraph for the Rugzak gateway (a template to copy).

    RUGZAK_GATEWAY_JWKS_URL=http://127.0.0.1:4000/.well-known/gateway-jwks.json \
        uvicorn parking:app --port 4100

It adds parking zones to the municipalities other subgraphs own, and a citizen's parking
permits (personal data) to `Citizen`. Only the gateway may call it (gateway_token.py); the one
exception is `{ _service { sdl } }`, which the gateway's registry reads without credentials.
"""

from __future__ import annotations

import os
from typing import Any

import strawberry
from gateway_token import GatewayTokens, Refused
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.schema_directive import Location

NAME = os.environ.get("PARKING_SUBGRAPH_NAME", "parking")  # its name in the registry: the `aud`
PRIVACY_SPEC = "https://rugzak.dev/privacy/v0.1"


# Rugzak's privacy directives, kept in the supergraph by @composeDirective (compose=True).
@strawberry.federation.schema_directive(
    locations=[Location.OBJECT, Location.INTERFACE], name="dataSubject",
    compose=True, import_url=PRIVACY_SPEC,
)  # fmt: skip
class DataSubject:
    fields: str


@strawberry.federation.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT, Location.INTERFACE],
    name="personalData", compose=True, import_url=PRIVACY_SPEC,
)  # fmt: skip
class PersonalData:
    category: str


ZONES = {"G1": ("Binnenstad", 350, "44021"), "G2": ("Gentbrugge", 120, "44021")}
PERMITS = {"85671012385": [("1-ABC-123", "G1", "2026-06-30")]}  # by the holder's INSZ

# Who may read a permit, enforced by the gateway before it calls us: the citizen it belongs to,
# or a civil servant with scope parking:read who states the purpose `parking`.
PERMIT_READERS = [
    ["citizen-self", "acr:substantial"],
    ["scope:parking:read", "purpose:parking", "acr:substantial"],
]


@strawberry.federation.type(keys=["nisCode"])
class Municipality:
    nis_code: strawberry.ID

    @strawberry.field
    def parking_zones(self) -> list[ParkingZone] | None:  # nullable: see the guide
        return [ParkingZone.of(z) for z, v in ZONES.items() if v[2] == self.nis_code]

    @classmethod
    def resolve_reference(cls, **representation: Any) -> Municipality:
        # the representation's keys as GraphQL spells them (nisCode), not Python's nis_code
        return cls(nis_code=representation["nisCode"])


@strawberry.federation.type(keys=["id"])
class ParkingZone:
    id: strawberry.ID
    name: str
    tariff_cents: int
    nis_code: strawberry.Private[str]

    @strawberry.field
    def municipality(self) -> Municipality | None:
        return Municipality(nis_code=strawberry.ID(self.nis_code))

    @classmethod
    def of(cls, zone_id: str) -> ParkingZone:
        name, tariff, nis = ZONES[zone_id]
        return cls(id=strawberry.ID(zone_id), name=name, tariff_cents=tariff, nis_code=nis)

    @classmethod
    def resolve_reference(cls, **representation: Any) -> ParkingZone | None:
        return cls.of(representation["id"]) if representation["id"] in ZONES else None


@strawberry.type
class ParkingPermit:
    plate: str
    valid_until: str
    zone: ParkingZone | None


def _parking_permits(root: Citizen, info: strawberry.Info) -> list[ParkingPermit] | None:
    claims = info.context["claims"]
    # Defence in depth: with the `rrn` claim granted (`rugzak registry claims parking
    # --grant rrn,roles`), a citizen (not staff) is served only their own permits.
    citizen = "rrn" in claims and "staff" not in claims.get("roles", [])
    if citizen and claims["rrn"] != root.insz:
        raise PermissionError("not your permits")
    return [
        ParkingPermit(plate=plate, valid_until=until, zone=ParkingZone.of(zone))
        for plate, zone, until in PERMITS.get(root.insz, [])
    ]


@strawberry.federation.type(keys=["insz"], directives=[DataSubject(fields="insz")])
class Citizen:
    insz: strawberry.ID
    parking_permits: list[ParkingPermit] | None = strawberry.federation.field(
        resolver=_parking_permits,
        policy=PERMIT_READERS,
        directives=[PersonalData(category="parking")],
    )

    @classmethod
    def resolve_reference(cls, **representation: Any) -> Citizen:
        return cls(insz=representation["insz"])


@strawberry.type
class Query:
    @strawberry.field
    def parking_zones(self) -> list[ParkingZone]:
        return [ParkingZone.of(zone_id) for zone_id in ZONES]


# Federation v2 is the pinned Strawberry's default: no `enable_federation_2` argument (a TypeError)
schema = strawberry.federation.Schema(query=Query, types=[Municipality, Citizen])
SERVICE_SDL = "{ _service { sdl } }"


def _error(status: int, code: str, message: str, reason: str | None = None) -> JSONResponse:
    extensions = {"code": code, **({"reason": reason} if reason else {})}
    return JSONResponse({"errors": [{"message": message, "extensions": extensions}]}, status)


async def graphql(request: Request) -> JSONResponse:
    try:
        body = await request.json()
        query = body["query"]
    except Exception:
        return _error(400, "BAD_REQUEST", "send JSON with a query")
    claims: dict[str, Any] = {}
    if not (query == SERVICE_SDL and not body.get("variables")):
        try:
            claims = await request.app.state.tokens.claims(request.headers.get("authorization"))
        except Refused as refused:
            code = (
                "GATEWAY_TOKEN_REQUIRED"
                if refused.reason == "GATEWAY_TOKEN_REQUIRED"
                else ("INVALID_GATEWAY_TOKEN")
            )
            return _error(401, code, str(refused), refused.reason)
    result = await schema.execute(
        query, variable_values=body.get("variables"), operation_name=body.get("operationName"),
        context_value={"claims": claims},
    )  # fmt: skip
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [
            {**error.formatted, "extensions": {"code": "FORBIDDEN"}}
            if isinstance(error.original_error, PermissionError)
            else error.formatted
            for error in result.errors
        ]
    # personal data: the gateway must not share this answer between callers
    return JSONResponse(answer, headers={"cache-control": "private, no-store"})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/health", health)])
    jwks_url = os.environ["RUGZAK_GATEWAY_JWKS_URL"]  # no keys, no service: never start open
    app.state.tokens = GatewayTokens(jwks_url, audience=NAME)
    return app


app = create_app() if os.environ.get("RUGZAK_GATEWAY_JWKS_URL") else None

if __name__ == "__main__":
    print(schema.as_str())
