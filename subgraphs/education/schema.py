"""The education subgraph's schema: `me`, `citizen(insz:)` and `institution(institutionNumber:)`.

Print its SDL with `python -m subgraphs.education.schema`.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from subgraphs.common import access
from subgraphs.common.caching import CacheHints, private, public
from subgraphs.common.citizens import (
    CITIZEN_DESCRIPTION,
    INSZ_ARGUMENT_DESCRIPTION,
    ME_DESCRIPTION,
    load_citizen,
    load_me,
)
from subgraphs.common.federation import build_schema
from subgraphs.common.fields import federation_field, field
from subgraphs.education.types import Citizen, EducationInfo, Institution

CACHE_HINTS: CacheHints = {
    "Citizen": private(3600),  # a citizen's diplomas: personal, and rarely changed
    "Institution": public(3600),
}
"""How long the gateway may keep education's answers (subgraphs/common/caching.py)."""


@strawberry.type(description="Reads of the LED register of qualifications.")
class Query:
    @federation_field(shareable=True, policy=access.ME, description=ME_DESCRIPTION)
    async def me(self, info: EducationInfo) -> Citizen | None:
        record = await load_me(info.context)
        return None if record is None else Citizen.of(record)

    @federation_field(shareable=True, policy=access.CITIZEN_LOOKUP, description=CITIZEN_DESCRIPTION)
    async def citizen(
        self,
        info: EducationInfo,
        insz: Annotated[strawberry.ID, strawberry.argument(description=INSZ_ARGUMENT_DESCRIPTION)],
    ) -> Citizen | None:
        record = await load_citizen(info.context, str(insz))
        return None if record is None else Citizen.of(record)

    @field(description="An institution by its institution number; null when unknown.")
    async def institution(
        self,
        info: EducationInfo,
        institution_number: Annotated[
            strawberry.ID, strawberry.argument(description="The institution number.")
        ],
    ) -> Institution | None:
        info.context.cache.tag("Institution", institution_number)
        record = await info.context.loaders.institutions.load(str(institution_number))
        return None if record is None else Institution.of(record)


schema = build_schema(Query, cache_hints=CACHE_HINTS)

if __name__ == "__main__":
    print(schema.as_str())
