# mypy: disable-error-code="untyped-decorator"
# (Strawberry types `@strawberry.field(...)` used as a decorator as returning Any.)
"""The ticketing subgraph's schema: reading tickets and municipalities, reporting a ticket.

Print its SDL with `python -m subgraphs.ticketing.schema`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError

from resolvers.ticketing.reporting import InvalidReport, NewTicket, report_ticket
from resolvers.ticketing.store import all_municipalities
from subgraphs.common import access
from subgraphs.common.citizens import (
    CITIZEN_DESCRIPTION,
    INSZ_ARGUMENT_DESCRIPTION,
    ME_DESCRIPTION,
    load_citizen,
    load_me,
)
from subgraphs.common.errors import BAD_USER_INPUT, forbidden, unauthenticated
from subgraphs.common.federation import build_schema
from subgraphs.ticketing.types import (
    Citizen,
    Municipality,
    ReportTicketInput,
    Ticket,
    TicketingInfo,
)


@strawberry.type(description="Reads of municipal reports and municipalities.")
class Query:
    @strawberry.federation.field(shareable=True, policy=access.ME, description=ME_DESCRIPTION)
    async def me(self, info: TicketingInfo) -> Citizen | None:
        record = await load_me(info.context)
        return None if record is None else Citizen.of(record)

    @strawberry.federation.field(
        shareable=True, policy=access.CITIZEN_LOOKUP, description=CITIZEN_DESCRIPTION
    )
    async def citizen(
        self,
        info: TicketingInfo,
        insz: Annotated[strawberry.ID, strawberry.argument(description=INSZ_ARGUMENT_DESCRIPTION)],
    ) -> Citizen | None:
        record = await load_citizen(info.context, str(insz))
        return None if record is None else Citizen.of(record)

    @strawberry.field(description="A ticket by id; null when unknown.")
    async def ticket(
        self,
        info: TicketingInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's id.")],
    ) -> Ticket | None:
        record = await info.context.loaders.tickets.load(str(id))
        return None if record is None else Ticket.of(record)

    @strawberry.field(description="A municipality by NIS code; null when unknown.")
    async def municipality(
        self,
        info: TicketingInfo,
        nis_code: Annotated[
            strawberry.ID, strawberry.argument(description="The NIS code, e.g. 44021 for Gent.")
        ],
    ) -> Municipality | None:
        record = await info.context.loaders.municipalities.load(str(nis_code))
        return None if record is None else Municipality.of(record)

    @strawberry.field(description="Every municipality where tickets can be reported, by name.")
    def municipalities(self, info: TicketingInfo) -> list[Municipality]:
        return [Municipality.of(r) for r in all_municipalities(info.context.session)]


def _invalid(error: InvalidReport) -> GraphQLError:
    problems = [{"field": f"input.{p.field}", "message": p.message} for p in error.problems]
    return GraphQLError(
        error.message,
        extensions={"code": BAD_USER_INPUT, "field": problems[0]["field"], "problems": problems},
    )


@strawberry.type(description="Reporting problems in the public domain.")
class Mutation:
    @strawberry.federation.mutation(
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
        record = await context.loaders.tickets.load(ticket_id)
        assert record is not None, "a ticket just stored must be readable"
        return Ticket.of(record)


schema = build_schema(Query, Mutation)

if __name__ == "__main__":
    print(schema.as_str())
