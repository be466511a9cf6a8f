"""GraphQL types of the transparency subgraph: `Citizen.accessLog`, the entries of the gateway's
access log about that citizen, newest first.

    me { accessLog(first: 20, after: CURSOR, from: DATETIME, to: DATETIME) {
      at organisation { nisCode name } role purpose application categories outcome cursor } }

An entry names categories and fields, never values, and not the civil servant's account: the
citizen sees which organisation, application and purpose. `after` takes an entry's `cursor`; a
page shorter than `first` is the last.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.audit import entry as audit_entry
from gateway.audit.reads import ANSWERED, DENIED, PARTLY_DENIED
from gateway.audit.store import AuditStoreError, StoredEntry
from resolvers.common.insz import is_valid_insz
from resolvers.transparency.loaders import TransparencyLoaders
from resolvers.transparency.log import AccessLogOff, entries_about
from subgraphs.common import access, entities, privacy
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import bad_user_input
from subgraphs.common.fields import federation_field, field
from subgraphs.common.privacy import CITIZEN_SUBJECT

TransparencyInfo = Info[RequestContext[TransparencyLoaders], None]

MAX_PAGE = 100


@strawberry.enum(description="Who read: a citizen, a civil servant, or another kind of caller.")
class AccessRole(Enum):
    CITIZEN = strawberry.enum_value(audit_entry.CITIZEN, description="A citizen.")
    CIVIL_SERVANT = strawberry.enum_value(
        audit_entry.CIVIL_SERVANT, description="A civil servant, for their organisation."
    )
    OTHER = strawberry.enum_value(
        audit_entry.OTHER, description="Another caller, e.g. an application of its own."
    )


@strawberry.enum(description="What the read got.")
class AccessOutcome(Enum):
    ANSWERED = strawberry.enum_value(ANSWERED, description="Every field it asked for.")
    PARTLY_DENIED = strawberry.enum_value(
        PARTLY_DENIED, description="Some fields; others were refused."
    )
    DENIED = strawberry.enum_value(DENIED, description="Nothing: every field was refused.")


@strawberry.type(description="An organisation that read personal data.")
class Organisation:
    nis_code: strawberry.ID = strawberry.field(
        description="Its code from the reader's token: a municipality's NIS code (e.g. 44021)."
    )

    @field(description="Its name; null when the code is not one we know.")
    async def name(self, info: TransparencyInfo) -> str | None:
        return await info.context.loaders.organisation_names.load(str(self.nis_code))


@strawberry.type(description="One read of a citizen's personal data, as the gateway logged it.")
class AccessLogEntry:
    cursor: str = strawberry.field(description="Pass it as `after` for the entries before it.")
    at: datetime.datetime = strawberry.field(description="When (UTC).")
    role: AccessRole = strawberry.field(description="Who read.")
    own_data: bool = strawberry.field(description="The citizen read their own data.")
    organisation: Organisation | None = strawberry.field(
        description="The reader's organisation; null for a citizen."
    )
    application: str | None = strawberry.field(
        description="The application the read came through, when its token says."
    )
    purpose: str | None = strawberry.field(description="Why, as the civil servant stated it.")
    assurance_level: str | None = strawberry.field(
        description="How strongly the reader was signed in: low, substantial or high."
    )
    categories: list[str] = strawberry.field(
        description='The kinds of personal data read or asked for, e.g. "child-benefit".'
    )
    fields: list[str] = strawberry.field(
        description='The fields read or asked for, e.g. "Citizen.childBenefits" (never values).'
    )
    refused_fields: list[str] = strawberry.field(description="Of those, the ones refused.")
    outcome: AccessOutcome = strawberry.field(description="What the read got.")

    @classmethod
    def of(cls, stored: StoredEntry) -> AccessLogEntry:
        entry = stored.entry
        return cls(
            cursor=_cursor(stored.seq),
            at=datetime.datetime.fromtimestamp(entry.at_us / 1_000_000, datetime.UTC),
            role=AccessRole(entry.role),
            own_data=entry.own,
            organisation=(
                Organisation(nis_code=strawberry.ID(entry.organisation))
                if entry.organisation
                else None
            ),
            application=entry.application,
            purpose=entry.purpose,
            assurance_level=entry.assurance,
            categories=list(entry.categories),
            fields=list(entry.fields),
            refused_fields=list(entry.refused),
            outcome=AccessOutcome(entry.outcome),
        )


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"log:{seq}".encode()).decode().rstrip("=")


def _seq(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    prefix, _, number = text.partition(":")
    if prefix != "log" or not number.isdigit():
        raise bad_user_input("`after` is not a cursor of this access log.", field="after")
    return int(number)


def _micros(moment: datetime.datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1_000_000)


@strawberry.federation.type(
    keys=["insz"], directives=[CITIZEN_SUBJECT], description=entities.CITIZEN
)
class Citizen:
    insz: strawberry.ID = strawberry.federation.field(
        description=entities.CITIZEN_INSZ, directives=[privacy.IDENTITY]
    )

    @federation_field(
        policy=access.ACCESS_LOG,
        directives=[privacy.ACCESS_LOG],
        description="Who read this citizen's personal data: the gateway's access log, newest "
        "first, for the citizen or a civil servant with scope audit:read who states a purpose."
        + entities.PARTIAL,
    )
    async def access_log(
        self,
        info: TransparencyInfo,
        first: Annotated[
            int,
            strawberry.argument(description=f"Page size, 0-{MAX_PAGE} (BAD_USER_INPUT otherwise)."),
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="Only entries older than this entry's `cursor`."),
        ] = None,
        from_: Annotated[
            datetime.datetime | None,
            strawberry.argument(name="from", description="Only entries at or after this time."),
        ] = None,
        to: Annotated[
            datetime.datetime | None,
            strawberry.argument(description="Only entries before this time."),
        ] = None,
    ) -> list[AccessLogEntry] | None:
        access.require(info.context, access.ACCESS_LOG, str(self.insz), "the access log")
        if not 0 <= first <= MAX_PAGE:
            raise bad_user_input(f"`first` must be between 0 and {MAX_PAGE}.", field="first")
        before = _seq(after) if after is not None else None
        if first == 0:
            return []
        try:
            stored = await entries_about(str(self.insz), first, before, _micros(from_), _micros(to))
        except (AuditStoreError, AccessLogOff) as exc:
            raise RuntimeError(f"the access log cannot be read: {exc}") from None
        return [AccessLogEntry.of(s) for s in stored]

    @classmethod
    async def resolve_reference(cls, info: TransparencyInfo, insz: strawberry.ID) -> Citizen | None:
        return cls(insz=insz) if is_valid_insz(str(insz)) else None
