"""Whose data an entity is and which of its fields are personal, declared in the schema for the
gateway: `@dataSubject` and `@personalData`.

    type Citizen @key(fields: "insz") @dataSubject(fields: "insz")
    type Ticket @key(fields: "id") @dataSubject(fields: "reporter { insz }")

`fields` leads from the entity to the INSZ of the citizen the data is about. Personal fields
guarded by `citizen-self` (subgraphs/common/access.py) are then readable by a citizen only on the
objects whose subject is the caller, wherever the object appears in an answer: the gateway checks
(gateway/ownership). The directive comes from Rugzak's privacy spec, linked by each subgraph and
kept in the supergraph by `@composeDirective`, so a municipality's subgraph declares its own
entities' subjects the same way.

    type Citizen ... {
      childBenefits: [ChildBenefitEntitlement!] @personalData(category: "child-benefit")
    }

Every read of a `@personalData` field (on a type: any of its fields) is logged by the gateway,
once per data subject found in the answer, with the category and the field's name, never its
value; the citizen reads that log through the transparency subgraph (gateway/audit).
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


@strawberry.federation.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT, Location.INTERFACE],
    name="personalData",
    compose=True,
    import_url=PRIVACY_SPEC,
    description="Personal data of the object's data subject: every read is logged with "
    "`category` (on a type: each of its fields).",
)
class PersonalData:
    category: str


# The categories a citizen sees in their access log (the gateway logs names, never values).
IDENTITY: Final = PersonalData(category="identity")
CHILD_BENEFIT: Final = PersonalData(category="child-benefit")
BANK_ACCOUNT: Final = PersonalData(category="bank-account")
STUDY_GRANT: Final = PersonalData(category="study-grant")
EDUCATION: Final = PersonalData(category="education")
TICKETS: Final = PersonalData(category="tickets")
ACCESS_LOG: Final = PersonalData(category="access-log")
