"""`Query.me` and `Query.citizen(insz:)`, the same in all three subgraphs (both @shareable)."""

from __future__ import annotations

from typing import Protocol

from strawberry.dataloader import DataLoader

from resolvers.common.citizens import CitizenRecord
from resolvers.common.insz import is_valid_insz
from subgraphs.common import entities
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import bad_user_input, forbidden

ME_DESCRIPTION = (
    "The calling citizen, identified by the INSZ in the verified token's `rrn` claim (never by "
    "an argument); null without a citizen identity or when the citizen is unknown."
)
CITIZEN_DESCRIPTION = (
    "A citizen by INSZ: a citizen may ask only their own INSZ, a civil servant any. An INSZ "
    "whose mod-97 check fails is an error with code BAD_USER_INPUT; a valid but unknown INSZ "
    "gives null."
)
INSZ_ARGUMENT_DESCRIPTION = entities.CITIZEN_INSZ


class HasCitizenLoader(Protocol):
    @property
    def citizens(self) -> DataLoader[str, CitizenRecord | None]: ...


async def load_me(context: RequestContext[HasCitizenLoader]) -> CitizenRecord | None:
    insz = context.caller_insz
    if insz is None:
        return None
    context.cache.tag("Citizen", insz)
    return await context.loaders.citizens.load(insz)


async def load_citizen(
    context: RequestContext[HasCitizenLoader], insz: str
) -> CitizenRecord | None:
    if not is_valid_insz(insz):
        raise bad_user_input(
            "The `insz` argument is not a valid INSZ: expected 11 digits with a matching "
            "mod-97 check.",
            field="insz",
        )
    # the gateway's @policy already refused anyone else; this is the second line of defence
    if not (context.principal.is_staff or context.caller_insz == insz):
        raise forbidden("A citizen may read only their own data; this is another citizen's INSZ.")
    context.cache.tag("Citizen", insz)
    return await context.loaders.citizens.load(insz)
