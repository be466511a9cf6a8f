"""Value types that more than one subgraph defines: identical everywhere, hence @shareable."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.common.citizens import CitizenRecord
from resolvers.common.paging import Page


@strawberry.federation.type(
    shareable=True,
    description="A person's name as recorded in the National Register (Rijksregister).",
)
class PersonName:
    given_name: str = strawberry.field(description="Given name (voornaam).")
    family_name: str = strawberry.field(description="Family name (familienaam).")

    @classmethod
    def of(cls, record: CitizenRecord) -> PersonName:
        return cls(given_name=record.given_name, family_name=record.family_name)


@strawberry.federation.type(
    shareable=True, description="Where a page of a Relay-style connection lies in the whole list."
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first item of this page; null for an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item of this page (pass it as `after` for the next "
        "page); null for an empty page."
    )

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        )
