"""The ticketing subgraph's schema: reading tickets and municipalities, reporting a ticket,
changing its status.

Print its SDL with `python -m subgraphs.ticketing.schema`.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError

from resolvers.common.errors import InvalidInput
from resolvers.ticketing.reporting import InvalidReport, NewTicket, report_ticket
from resolvers.ticketing.store import all_municipalities
from resolvers.ticketing.workflow import NotResponsible, UnknownTicket, change_status
from subgraphs.common import access
from subgraphs.common.caching import CacheHints, private, public
from subgraphs.common.citizens import (
    CITIZEN_DESCRIPTION,
    INSZ_ARGUMENT_DESCRIPTION,
    ME_DESCRIPTION,
    load_citizen,
    load_me,
)
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import (
    BAD_USER_INPUT,
    forbidden,
    from_invalid_input,
    not_found,
    unauthenticated,
)
from subgraphs.common.federation import build_schema
from subgraphs.common.fields import federation_field, federation_mutation, field
from subgraphs.ticketing.types import (
    Citizen,
    Municipality,
    ReportTicketInput,
    Ticket,
    TicketingInfo,
    TicketStatus,
)

CACHE_HINTS: CacheHints = {
    "Citizen": private(3600),
    "Citizen.tickets": private(60),
    "Ticket": private(60),
    "Municipality": public(86400),
    "Municipality.openTicketCount": public(60),  # changes with every report and status change
}
"""How long the gateway may keep ticketing's answers (subgraphs/common/caching.py)."""


@strawberry.type(description="Reads of municipal reports and municipalities.")
class Query:
    @federation_field(shareable=True, policy=access.ME, description=ME_DESCRIPTION)
    async def me(self, info: TicketingInfo) -> Citizen | None:
        record = await load_me(info.context)
        return None if record is None else Citizen.of(record)

    @federation_field(shareable=True, policy=access.CITIZEN_LOOKUP, description=CITIZEN_DESCRIPTION)
    async def citizen(
        self,
        info: TicketingInfo,
        insz: Annotated[strawberry.ID, strawberry.argument(description=INSZ_ARGUMENT_DESCRIPTION)],
    ) -> Citizen | None:
        record = await load_citizen(info.context, str(insz))
        return None if record is None else Citizen.of(record)

    @field(description="A ticket by id; null when unknown.")
    async def ticket(
        self,
        info: TicketingInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's id.")],
    ) -> Ticket | None:
        info.context.cache.tag("Ticket", id)
        record = await info.context.loaders.tickets.load(str(id))
        return None if record is None else Ticket.of(record)

    @field(description="A municipality by NIS code; null when unknown.")
    async def municipality(
        self,
        info: TicketingInfo,
        nis_code: Annotated[
            strawberry.ID, strawberry.argument(description="The NIS code, e.g. 44021 for Gent.")
        ],
    ) -> Municipality | None:
        info.context.cache.tag("Municipality", nis_code)
        record = await info.context.loaders.municipalities.load(str(nis_code))
        return None if record is None else Municipality.of(record)

    @field(description="Every municipality where tickets can be reported, by name.")
    def municipalities(self, info: TicketingInfo) -> list[Municipality]:
        records = all_municipalities(info.context.session)
        for record in records:
            info.context.cache.tag("Municipality", record.nis_code)
        return [Municipality.of(r) for r in records]


def _invalid(error: InvalidReport) -> GraphQLError:
    problems = [{"field": f"input.{p.field}", "message": p.message} for p in error.problems]
    return GraphQLError(
        error.message,
        extensions={"code": BAD_USER_INPUT, "field": problems[0]["field"], "problems": problems},
    )


@strawberry.type(description="Reporting problems in the public domain.")
class Mutation:
    @federation_mutation(
        authenticated=True,
        description="Report a problem in the public domain. The reporter is the verified caller "
        "(the token's `rrn` claim): without one the error code is UNAUTHENTICATED. An invalid "
        "report is an error with code BAD_USER_INPUT whose `extensions.problems` lists every "
        "problem. The new ticket has status NEW and one status change.",
    )
    async def report_ticket(
        self,
        info: TicketingInfo,
        input: Annotated[ReportTicketInput, strawberry.argument(description="What and where.")],
    ) -> Ticket:
        context = info.context
        if context.principal.is_anonymous:
            raise unauthenticated("Reporting a ticket requires a signed-in citizen.")
        reporter = context.caller_insz
        if reporter is None:
            raise forbidden("Only a citizen (a token with an `rrn` claim) can report a ticket.")
        report = NewTicket(
            category=input.category.name,
            description=input.description,
            municipality_nis_code=str(input.municipality_nis_code),
            street=input.location.street,
            house_number=input.location.house_number,
            postal_code=input.location.postal_code,
            latitude=input.location.latitude,
            longitude=input.location.longitude,
        )
        try:
            ticket_id = report_ticket(context.session, reporter, report, datetime.now(UTC))
        except InvalidReport as error:
            raise _invalid(error) from None
        # the reporter's list of tickets and the municipality's open count changed
        await _stale(
            context, [("Citizen", reporter), ("Municipality", report.municipality_nis_code)]
        )
        record = await context.loaders.tickets.load(ticket_id)
        assert record is not None, "a ticket just stored must be readable"
        return Ticket.of(record)

    @federation_mutation(
        policy=access.TICKET_STATUS,
        description="Move a ticket to another status, as a civil servant of the ticket's "
        "municipality (the token's `org` claim) with scope `tickets:write`; the change is added "
        "to its status history, with `note` or the standard note. Errors: FORBIDDEN (not such a "
        "civil servant, or another municipality's ticket), NOT_FOUND (no such ticket), "
        "BAD_USER_INPUT (a move the workflow does not allow, e.g. from CLOSED; a note of more "
        "than 1000 characters).",
    )
    async def update_ticket_status(
        self,
        info: TicketingInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's id.")],
        status: Annotated[TicketStatus, strawberry.argument(description="The new status.")],
        note: Annotated[
            str | None,
            strawberry.argument(description="Why, for the status history (1-1000 characters)."),
        ] = None,
    ) -> Ticket:
        context = info.context
        principal = context.principal
        if principal.is_anonymous:
            raise unauthenticated("Changing a ticket requires a signed-in civil servant.")
        if not (principal.is_staff and principal.has_scope(access.TICKETS_WRITE_SCOPE)):
            raise forbidden(
                f"Only a civil servant with scope {access.TICKETS_WRITE_SCOPE} can change a ticket."
            )
        if not principal.organisation:
            raise forbidden("The token names no municipality (`org` claim) to act for.")
        try:
            change = change_status(
                context.session,
                str(id),
                status.name,
                note,
                principal.organisation,
                datetime.now(UTC),
            )
        except UnknownTicket:
            raise not_found(f"There is no ticket {id!s}.") from None
        except NotResponsible:
            raise forbidden(
                f"Ticket {id!s} belongs to another municipality than {principal.organisation}."
            ) from None
        except InvalidInput as error:
            raise from_invalid_input(error) from None
        before = change.before
        await _stale(
            context,
            [
                ("Ticket", before.id),
                ("Citizen", before.reporter_insz),
                ("Municipality", before.nis_code),
            ],
        )
        loaders = context.loaders
        # what this request loaded of the ticket before (an earlier mutation field) is outdated
        with contextlib.suppress(KeyError):
            loaders.tickets.clear(str(before.id))
        with contextlib.suppress(KeyError):
            loaders.status_history.clear(before.id)
        with contextlib.suppress(KeyError):
            loaders.updates.clear(before.id)
        record = await loaders.tickets.load(str(before.id))
        assert record is not None, "a ticket just changed must be readable"
        return Ticket.of(record)


async def _stale(context: RequestContext[object], entities: list[tuple[str, object]]) -> None:
    """Tells the gateway (when one is configured) that answers tagged with these entities are
    out of date. Never raises: the change is committed whatever the gateway says."""
    if context.invalidator is not None:
        await context.invalidator.invalidate(f"{kind}:{key}" for kind, key in entities)


schema = build_schema(Query, Mutation, cache_hints=CACHE_HINTS)

if __name__ == "__main__":
    print(schema.as_str())
