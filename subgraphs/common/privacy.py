"""Whose data an entity is, declared in the schema for the gateway: `@dataSubject`.

    type Citizen @key(fields: "insz") @dataSubject(fields: "insz")
    type Ticket @key(fields: "id") @dataSubject(fields: "reporter { insz }")

`fields` leads from the entity to the INSZ of the citizen the data is about. Personal fields
guarded by `citizen-self` (subgraphs/common/access.py) are then readable by a citizen only on the
objects whose subject is the caller, wherever the object appears in an answer: the gateway checks
(gateway/ownership). The directive comes from Rugzak's privacy spec, linked by each subgraph and
kept in the supergraph by `@composeDirective`, so a municipality's subgraph declares its own
entities' subjects the same way.
"""

from __future__ import annotations

from typing import Final

import strawberry
from strawberry.schema_directive import Location

PRIVACY_SPEC: Final = "https://rugzak.dev/privacy/v0.1"


@strawberry.federation.schema_directive(
    locations=[Location.OBJECT, Location.INTERFACE],
    name="dataSubject",
    compose=True,
    import_url=PRIVACY_SPEC,
    description="Whose personal data an object is: `fields` leads to that citizen's INSZ.",
)
class DataSubject:
    fields: str


CITIZEN_SUBJECT: Final = DataSubject(fields="insz")
