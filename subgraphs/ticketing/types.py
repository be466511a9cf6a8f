"""GraphQL types of the ticketing subgraph: municipal reports ("meldingen openbaar domein").

Enum members are named exactly as their GraphQL values, which are also the codes in the store;
resolvers compare stored codes with a member's `.name`.
"""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from resolvers.common.citizens import CitizenRecord
from resolvers.common.municipalities import PROVINCES
from resolvers.ticketing.catalogue import CATEGORIES, CLOSED_STATUSES
from resolvers.ticketing.loaders import TicketingLoaders
from resolvers.ticketing.store import MunicipalityRecord, TicketRecord
from subgraphs.common import access, entities, privacy
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import forbidden
from subgraphs.common.fields import federation_field, field
from subgraphs.common.privacy import CITIZEN_SUBJECT, DataSubject

TicketingInfo = Info[RequestContext[TicketingLoaders], None]


@strawberry.enum(description="What kind of problem in the public domain a ticket reports.")
class TicketCategory(Enum):
    LOOSE_PAVING_TILE = strawberry.enum_value(
        "LOOSE_PAVING_TILE", description=f"{CATEGORIES['LOOSE_PAVING_TILE']} (loose paving tile)."
    )
    POTHOLE = strawberry.enum_value("POTHOLE", description=f"{CATEGORIES['POTHOLE']} (pothole).")
    BROKEN_STREET_LIGHT = strawberry.enum_value(
        "BROKEN_STREET_LIGHT",
        description=f"{CATEGORIES['BROKEN_STREET_LIGHT']} (broken street light).",
    )
    ILLEGAL_DUMPING = strawberry.enum_value(
        "ILLEGAL_DUMPING", description=f"{CATEGORIES['ILLEGAL_DUMPING']} (illegal dumping)."
    )
    GRAFFITI = strawberry.enum_value("GRAFFITI", description=f"{CATEGORIES['GRAFFITI']}.")
    OVERFLOWING_BIN = strawberry.enum_value(
        "OVERFLOWING_BIN", description=f"{CATEGORIES['OVERFLOWING_BIN']} (overflowing bin)."
    )
    DAMAGED_TRAFFIC_SIGN = strawberry.enum_value(
        "DAMAGED_TRAFFIC_SIGN",
        description=f"{CATEGORIES['DAMAGED_TRAFFIC_SIGN']} (damaged traffic sign).",
    )
    FALLEN_TREE = strawberry.enum_value(
        "FALLEN_TREE", description=f"{CATEGORIES['FALLEN_TREE']} (fallen tree or branch)."
    )
    BLOCKED_DRAIN = strawberry.enum_value(
        "BLOCKED_DRAIN", description=f"{CATEGORIES['BLOCKED_DRAIN']} (blocked drain)."
    )
    ABANDONED_BICYCLE = strawberry.enum_value(
        "ABANDONED_BICYCLE",
        description=f"{CATEGORIES['ABANDONED_BICYCLE']} (abandoned bicycle).",
    )


@strawberry.enum(
    description="Where a ticket stands. The usual path is NEW, ACKNOWLEDGED, SCHEDULED, "
    "IN_PROGRESS, RESOLVED, CLOSED; ON_HOLD, CANCELLED and REOPENED are the detours."
)
class TicketStatus(Enum):
    NEW = strawberry.enum_value("NEW", description="Reported, not yet looked at.")
    ACKNOWLEDGED = strawberry.enum_value(
        "ACKNOWLEDGED", description="Seen by the municipality and assigned to a department."
    )
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="A repair has been planned.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="Work is under way.")
    ON_HOLD = strawberry.enum_value(
        "ON_HOLD", description="Waiting for someone else, e.g. the grid operator or a contractor."
    )
    RESOLVED = strawberry.enum_value("RESOLVED", description="The problem has been fixed.")
    CLOSED = strawberry.enum_value("CLOSED", description="Resolved and closed; no further action.")
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Not acted on, e.g. a duplicate of an earlier report."
    )
    REOPENED = strawberry.enum_value(
        "REOPENED", description="Resolved earlier, but the problem came back."
    )


@strawberry.enum(description="The five provinces of Flanders.")
class Province(Enum):
    ANTWERPEN = strawberry.enum_value("ANTWERPEN", description=PROVINCES["ANTWERPEN"])
    LIMBURG = strawberry.enum_value("LIMBURG", description=PROVINCES["LIMBURG"])
    OOST_VLAANDEREN = strawberry.enum_value(
        "OOST_VLAANDEREN", description=PROVINCES["OOST_VLAANDEREN"]
    )
    VLAAMS_BRABANT = strawberry.enum_value(
        "VLAAMS_BRABANT", description=PROVINCES["VLAAMS_BRABANT"]
    )
    WEST_VLAANDEREN = strawberry.enum_value(
        "WEST_VLAANDEREN", description=PROVINCES["WEST_VLAANDEREN"]
    )


@strawberry.federation.type(keys=["nisCode"], description=entities.MUNICIPALITY)
class Municipality:
    nis_code: strawberry.ID = strawberry.field(description=entities.MUNICIPALITY_NIS_CODE)
    name: str = strawberry.field(description="The municipality's name.")
    province: Province = strawberry.field(description="The province it lies in.")
    postal_code: str = strawberry.field(description="Its main postal code.")

    @field(description="How many reports there are open (not resolved, closed or cancelled).")
    async def open_ticket_count(self, info: TicketingInfo) -> int:
        return await info.context.loaders.open_ticket_counts.load(str(self.nis_code))

    @classmethod
    def of(cls, record: MunicipalityRecord) -> Municipality:
        return cls(
            nis_code=strawberry.ID(record.nis_code),
            name=record.name,
            province=Province(record.province),
            postal_code=record.postal_code,
        )

    @classmethod
    async def resolve_reference(
        cls, info: TicketingInfo, nisCode: strawberry.ID
    ) -> Municipality | None:
        info.context.cache.tag("Municipality", nisCode)
        record = await info.context.loaders.municipalities.load(str(nisCode))
        return None if record is None else cls.of(record)


_DETAIL = (
    " The reporter's personal data: for the reporter, and for civil servants of the ticket's"
    " municipality with scope tickets:read and purpose ticketing; null for anyone else."
)


def _may_read_details(info: TicketingInfo, record: TicketRecord) -> bool:
    """The reporter, or staff of the ticket's own municipality with scope and purpose."""
    context = info.context
    if context.principal.is_staff and context.principal.organisation != record.nis_code:
        return False
    return access.allows(context, access.TICKET_DETAILS, record.reporter_insz)


def _require_details(info: TicketingInfo, record: TicketRecord, what: str) -> None:
    if not _may_read_details(info, record):
        raise forbidden(f"Only the reporter and the municipality's case handlers may read {what}.")


@strawberry.type(description="Where the problem is.")
class TicketLocation:
    street: str = strawberry.field(description="The street.")
    house_number: str | None = strawberry.field(
        description="The nearest house number, when there is one."
    )
    postal_code: str = strawberry.field(description="The postal code.")
    latitude: float = strawberry.field(description="WGS84 latitude in degrees.")
    longitude: float = strawberry.field(description="WGS84 longitude in degrees.")


@strawberry.type(description="A change of a ticket's status.")
class TicketStatusChange:
    status: TicketStatus = strawberry.field(description="The status the ticket moved to.")
    at: datetime.datetime = strawberry.field(description="When (UTC).")
    note: str | None = strawberry.field(description="The municipality's note with the change.")


@strawberry.type(description="A message the municipality published on a ticket for the reporter.")
class TicketUpdate:
    at: datetime.datetime = strawberry.field(description="When it was published (UTC).")
    message: str = strawberry.field(description="The message, in Dutch.")


@strawberry.federation.type(
    keys=["id"],
    directives=[DataSubject(fields="reporter { insz }")],
    description="A report of a problem in the public domain (melding). What it is about (its"
    " category, status, dates and municipality) is public; what the reporter wrote and was told,"
    " where exactly, and who reported it are the reporter's personal data.",
)
class Ticket:
    id: strawberry.ID = strawberry.field(description="The ticket's identifier.")
    reference: str = strawberry.field(
        description='The reference a citizen quotes, e.g. "MLD-2025-000123".'
    )
    category: TicketCategory = strawberry.field(description="What kind of problem.")
    status: TicketStatus = strawberry.field(description="Where the ticket stands now.")
    created_at: datetime.datetime = strawberry.field(description="When it was reported (UTC).")
    updated_at: datetime.datetime = strawberry.field(
        description="When its status or public updates last changed (UTC)."
    )
    nis_code: strawberry.Private[str]
    ticket_id: strawberry.Private[int]
    record: strawberry.Private[TicketRecord]

    @federation_field(
        policy=access.TICKET_DETAILS,
        directives=[privacy.TICKETS],
        description="The reporter's description." + _DETAIL,
    )
    def description(self, info: TicketingInfo) -> str | None:
        _require_details(info, self.record, "the description")
        return self.record.description

    @federation_field(
        policy=access.TICKET_DETAILS,
        directives=[privacy.TICKETS],
        description="Where the problem is." + _DETAIL,
    )
    def location(self, info: TicketingInfo) -> TicketLocation | None:
        _require_details(info, self.record, "the location")
        record = self.record
        return TicketLocation(
            street=record.street,
            house_number=record.house_number,
            postal_code=record.postal_code,
            latitude=record.latitude,
            longitude=record.longitude,
        )

    @federation_field(
        policy=access.TICKET_DETAILS,
        directives=[privacy.TICKETS],
        description="Who reported it: null when the caller may not know.",
    )
    async def reporter(self, info: TicketingInfo) -> Citizen | None:
        if not _may_read_details(info, self.record):
            return None  # also asked by the gateway to learn whose ticket it is: no error
        record = await info.context.loaders.citizens.load(self.record.reporter_insz)
        return None if record is None else Citizen.of(record)

    @field(description="Whether the ticket is still open (not resolved, closed or cancelled).")
    def is_open(self) -> bool:
        return self.status.name not in CLOSED_STATUSES

    @field(description="The municipality responsible for the location.")
    async def municipality(self, info: TicketingInfo) -> Municipality:
        info.context.cache.tag("Municipality", self.nis_code)
        record = await info.context.loaders.municipalities.load(self.nis_code)
        if record is None:  # the store's foreign key makes this unreachable
            raise GraphQLError(f"Unknown municipality {self.nis_code}.")
        return Municipality.of(record)

    @federation_field(
        policy=access.TICKET_DETAILS,
        directives=[privacy.TICKETS],
        description="Every status change with the municipality's notes, oldest first; the first"
        " is NEW." + _DETAIL,
    )
    async def status_history(self, info: TicketingInfo) -> list[TicketStatusChange] | None:
        _require_details(info, self.record, "the status history")
        records = await info.context.loaders.status_history.load(self.ticket_id)
        return [
            TicketStatusChange(status=TicketStatus(r.status), at=r.at, note=r.note) for r in records
        ]

    @federation_field(
        policy=access.TICKET_DETAILS,
        directives=[privacy.TICKETS],
        description="Messages published for the reporter, oldest first." + _DETAIL,
    )
    async def public_updates(self, info: TicketingInfo) -> list[TicketUpdate] | None:
        _require_details(info, self.record, "the updates")
        records = await info.context.loaders.updates.load(self.ticket_id)
        return [TicketUpdate(at=r.at, message=r.message) for r in records]

    @classmethod
    def of(cls, record: TicketRecord) -> Ticket:
        return cls(
            id=strawberry.ID(str(record.id)),
            reference=record.reference,
            category=TicketCategory(record.category),
            status=TicketStatus(record.status),
            created_at=record.created_at,
            updated_at=record.updated_at,
            nis_code=record.nis_code,
            ticket_id=record.id,
            record=record,
        )

    @classmethod
    async def resolve_reference(cls, info: TicketingInfo, id: strawberry.ID) -> Ticket | None:
        info.context.cache.tag("Ticket", id)
        record = await info.context.loaders.tickets.load(str(id))
        return None if record is None else cls.of(record)


@strawberry.federation.type(
    keys=["insz"], directives=[CITIZEN_SUBJECT], description=entities.CITIZEN
)
class Citizen:
    insz: strawberry.ID = strawberry.federation.field(
        description=entities.CITIZEN_INSZ, directives=[privacy.IDENTITY]
    )
    record: strawberry.Private[CitizenRecord]

    @federation_field(
        policy=access.TICKETS,
        directives=[privacy.TICKETS],
        description="The reports this citizen filed, newest first." + entities.PARTIAL,
    )
    async def tickets(
        self,
        info: TicketingInfo,
        status: Annotated[
            list[TicketStatus] | None,
            strawberry.argument(description="Only tickets in one of these statuses."),
        ] = None,
    ) -> list[Ticket] | None:
        access.require(info.context, access.TICKETS, self.record.insz, "the tickets")
        records = await info.context.loaders.tickets_by_reporter.load(self.record.insz)
        wanted = None if status is None else {s.name for s in status}
        tickets = [Ticket.of(r) for r in records if wanted is None or r.status in wanted]
        for ticket in tickets:
            info.context.cache.tag("Ticket", ticket.id)
        return tickets

    @classmethod
    def of(cls, record: CitizenRecord) -> Citizen:
        return cls(insz=strawberry.ID(record.insz), record=record)

    @classmethod
    async def resolve_reference(cls, info: TicketingInfo, insz: strawberry.ID) -> Citizen | None:
        info.context.cache.tag("Citizen", insz)
        record = await info.context.loaders.citizens.load(str(insz))
        return None if record is None else cls.of(record)


@strawberry.input(description="Where the reported problem is.")
class LocationInput:
    street: str = strawberry.field(description="The street, 1-200 characters.")
    house_number: str | None = strawberry.field(
        default=None, description="The nearest house number, if any."
    )
    postal_code: str = strawberry.field(description="The 4-digit postal code.")
    latitude: float = strawberry.field(description="WGS84 latitude; must lie in Flanders.")
    longitude: float = strawberry.field(description="WGS84 longitude; must lie in Flanders.")


@strawberry.input(description="A new report of a problem in the public domain.")
class ReportTicketInput:
    category: TicketCategory = strawberry.field(description="What kind of problem.")
    description: str = strawberry.field(description="What is wrong, 10-2000 characters.")
    municipality_nis_code: strawberry.ID = strawberry.field(
        description="NIS code of the municipality where the problem is (e.g. 44021)."
    )
    location: LocationInput = strawberry.field(description="Where the problem is.")
