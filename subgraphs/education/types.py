"""GraphQL types of the education subgraph (qualifications from the LED register).

Enum members are named exactly as their GraphQL values, which are also the codes in the store;
resolvers compare stored codes with a member's `.name`.
"""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.types import Info

from resolvers.common.citizens import CitizenRecord
from resolvers.common.errors import InvalidInput
from resolvers.education.loaders import EducationLoaders
from resolvers.education.store import InstitutionRecord, QualificationRecord, qualification_page
from subgraphs.common import access, entities, privacy
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import from_invalid_input
from subgraphs.common.fields import federation_field, field
from subgraphs.common.privacy import CITIZEN_SUBJECT
from subgraphs.common.types import PageInfo, PersonName

EducationInfo = Info[RequestContext[EducationLoaders], None]


@strawberry.enum(description="Whether a qualification still stands in the register.")
class QualificationStatus(Enum):
    REGISTERED = strawberry.enum_value("REGISTERED", description="Registered and valid.")
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Withdrawn by the institution, e.g. a duplicate or an error."
    )


@strawberry.enum(description="The kind of proof a qualification is.")
class QualificationKind(Enum):
    DIPLOMA = strawberry.enum_value(
        "DIPLOMA", description="A diploma (secondary, graduate, bachelor, master or doctor)."
    )
    CERTIFICATE = strawberry.enum_value(
        "CERTIFICATE",
        description="A certificate, e.g. from adult education (volwassenenonderwijs).",
    )


@strawberry.enum(description="The kind of education an institution provides.")
class InstitutionKind(Enum):
    SECONDARY_SCHOOL = strawberry.enum_value("SECONDARY_SCHOOL", description="Secondary school.")
    UNIVERSITY_COLLEGE = strawberry.enum_value(
        "UNIVERSITY_COLLEGE", description="University college (hogeschool)."
    )
    UNIVERSITY = strawberry.enum_value("UNIVERSITY", description="University.")
    ADULT_EDUCATION = strawberry.enum_value(
        "ADULT_EDUCATION", description="Centre for adult education (CVO) or Syntra."
    )


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("nisCode"), resolvable=False)], description=entities.MUNICIPALITY
)
class Municipality:
    nis_code: strawberry.ID = strawberry.field(description=entities.MUNICIPALITY_NIS_CODE)


@strawberry.federation.type(keys=["institutionNumber"], description=entities.INSTITUTION)
class Institution:
    institution_number: strawberry.ID = strawberry.field(description=entities.INSTITUTION_NUMBER)
    name: str = strawberry.field(description="The institution's name.")
    kind: InstitutionKind = strawberry.field(description="What kind of education it provides.")
    nis_code: strawberry.Private[str]

    @field(description="The municipality of the institution's main site." + entities.PARTIAL)
    def municipality(self) -> Municipality | None:
        return Municipality(nis_code=strawberry.ID(self.nis_code))

    @classmethod
    def of(cls, record: InstitutionRecord) -> Institution:
        return cls(
            institution_number=strawberry.ID(record.institution_number),
            name=record.name,
            kind=InstitutionKind(record.kind),
            nis_code=record.nis_code,
        )

    @classmethod
    async def resolve_reference(cls, info: EducationInfo, **key: Any) -> Institution | None:
        info.context.cache.tag("Institution", key["institutionNumber"])
        record = await info.context.loaders.institutions.load(str(key["institutionNumber"]))
        return None if record is None else cls.of(record)


@strawberry.type(
    description="A date of which only the year, or the year and month, may be known: older "
    "register entries often lack the day or the month."
)
class PartialDate:
    year: int = strawberry.field(description="The year; always known.")
    month: int | None = strawberry.field(description="The month (1-12), when known.")
    day: int | None = strawberry.field(description="The day of the month, when known.")

    @field(description='ISO 8601 text of the known part: "2007", "2007-06" or "2007-06-30".')
    def iso(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @field(description="The full date, or null when the month or day is unknown.")
    def date(self) -> datetime.date | None:
        if self.month is None or self.day is None:
            return None
        return datetime.date(self.year, self.month, self.day)


@strawberry.type(
    description="A qualification (diploma or certificate) registered in LED, the Leer- en "
    "Ervaringsbewijzen Databank."
)
class Qualification:
    id: strawberry.ID = strawberry.field(description="The qualification's identifier.")
    kind: QualificationKind = strawberry.field(description="Diploma or certificate.")
    title: str = strawberry.field(
        description='The title on the document, e.g. "Diploma van master".'
    )
    programme: str = strawberry.field(
        description='The programme (opleiding) completed, e.g. "Master in de rechten".'
    )
    issue_date: PartialDate = strawberry.field(
        description="When it was issued; older entries may lack the day or month."
    )
    vks_level: int = strawberry.field(
        description="Level in the Flemish Qualifications Structure (VKS), 1-8."
    )
    eqf_level: int = strawberry.field(
        description="Level in the European Qualifications Framework (EQF), 1-8; the VKS is "
        "referenced to it level by level."
    )
    status: QualificationStatus = strawberry.field(description="Registered or cancelled.")
    cancellation_reason: str | None = strawberry.field(
        description="Why the qualification was cancelled; null while registered."
    )
    institution_number: strawberry.Private[str]

    @field(description="The institution that awarded it.")
    async def institution(self, info: EducationInfo) -> Institution:
        info.context.cache.tag("Institution", self.institution_number)
        record = await info.context.loaders.institutions.load(self.institution_number)
        if record is None:  # the store's foreign key makes this unreachable
            raise GraphQLError(f"Unknown institution {self.institution_number}.")
        return Institution.of(record)

    @classmethod
    def of(cls, record: QualificationRecord) -> Qualification:
        return cls(
            id=strawberry.ID(str(record.id)),
            kind=QualificationKind(record.kind),
            title=record.title,
            programme=record.programme,
            issue_date=PartialDate(
                year=record.issue_year, month=record.issue_month, day=record.issue_day
            ),
            vks_level=record.vks_level,
            eqf_level=record.vks_level,
            status=QualificationStatus(record.status),
            cancellation_reason=record.cancellation_reason,
            institution_number=record.institution_number,
        )


@strawberry.type(description="A qualification in a connection, with its cursor.")
class QualificationEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this edge, for `after`.")
    node: Qualification = strawberry.field(description="The qualification.")


@strawberry.type(description="A page of a citizen's qualifications (Relay connection).")
class QualificationConnection:
    edges: list[QualificationEdge] = strawberry.field(
        description="The qualifications of this page."
    )
    page_info: PageInfo = strawberry.field(description="Where this page lies in the whole list.")
    total_count: int = strawberry.field(
        description="How many qualifications match the filter, across all pages."
    )


@strawberry.federation.type(
    keys=["insz"], directives=[CITIZEN_SUBJECT], description=entities.CITIZEN
)
class Citizen:
    insz: strawberry.ID = strawberry.federation.field(
        description=entities.CITIZEN_INSZ, directives=[privacy.IDENTITY]
    )
    record: strawberry.Private[CitizenRecord]

    @federation_field(
        shareable=True,
        policy=access.NAME,
        directives=[privacy.IDENTITY],
        description="The citizen's name." + entities.PARTIAL,
    )
    def name(self, info: EducationInfo) -> PersonName | None:
        access.require(info.context, access.NAME, self.record.insz, "the name")
        return PersonName.of(self.record)

    @federation_field(
        policy=access.EDUCATION,
        directives=[privacy.EDUCATION],
        description="The citizen's qualifications, newest first, as a Relay-style connection."
        + entities.PARTIAL,
    )
    async def qualifications(
        self,
        info: EducationInfo,
        first: Annotated[
            int, strawberry.argument(description="Page size, 0-100 (BAD_USER_INPUT otherwise).")
        ] = 10,
        after: Annotated[
            str | None,
            strawberry.argument(description="Return the items after this cursor (`endCursor`)."),
        ] = None,
        status: Annotated[
            QualificationStatus | None,
            strawberry.argument(description="Only qualifications with this status."),
        ] = None,
    ) -> QualificationConnection | None:
        access.require(info.context, access.EDUCATION, self.record.insz, "the qualifications")
        records = await info.context.loaders.qualifications.load(self.record.insz)
        try:
            page = qualification_page(
                records, first=first, after=after, status=None if status is None else status.name
            )
        except InvalidInput as error:
            raise from_invalid_input(error) from None
        return QualificationConnection(
            edges=[
                QualificationEdge(cursor=cursor, node=Qualification.of(record))
                for cursor, record in page.items
            ],
            page_info=PageInfo.of(page),
            total_count=page.total_count,
        )

    @classmethod
    def of(cls, record: CitizenRecord) -> Citizen:
        return cls(insz=strawberry.ID(record.insz), record=record)

    @classmethod
    async def resolve_reference(cls, info: EducationInfo, insz: strawberry.ID) -> Citizen | None:
        info.context.cache.tag("Citizen", insz)
        record = await info.context.loaders.citizens.load(str(insz))
        return None if record is None else cls.of(record)
