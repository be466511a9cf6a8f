"""The allowances subgraph's schema: `me` and `citizen(insz:)`, extending `Citizen`.

Print its SDL with `python -m subgraphs.allowances.schema`.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from subgraphs.allowances.types import AllowancesInfo, Citizen
from subgraphs.common import access
from subgraphs.common.caching import CacheHints, private
from subgraphs.common.citizens import (
    CITIZEN_DESCRIPTION,
    INSZ_ARGUMENT_DESCRIPTION,
    ME_DESCRIPTION,
    load_citizen,
    load_me,
)
from subgraphs.common.federation import build_schema
from subgraphs.common.fields import federation_field

CACHE_HINTS: CacheHints = {
    "Citizen": private(300),  # a citizen's allowances: personal; payments are added monthly
}
"""How long the gateway may keep allowances' answers (subgraphs/common/caching.py)."""


@strawberry.type(description="Reads of Groeipakket entitlements and study grant files.")
class Query:
    @federation_field(shareable=True, policy=access.ME, description=ME_DESCRIPTION)
    async def me(self, info: AllowancesInfo) -> Citizen | None:
        record = await load_me(info.context)
        return None if record is None else Citizen.of(record)

    @federation_field(shareable=True, policy=access.CITIZEN_LOOKUP, description=CITIZEN_DESCRIPTION)
    async def citizen(
        self,
        info: AllowancesInfo,
        insz: Annotated[strawberry.ID, strawberry.argument(description=INSZ_ARGUMENT_DESCRIPTION)],
    ) -> Citizen | None:
        record = await load_citizen(info.context, str(insz))
        return None if record is None else Citizen.of(record)


schema = build_schema(Query, cache_hints=CACHE_HINTS)

if __name__ == "__main__":
    print(schema.as_str())
