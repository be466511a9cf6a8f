"""GraphQL types of the allowances subgraph: Groeipakket child benefit and study grants.

Enum members are named exactly as their GraphQL values, which are also the codes in the store;
resolvers compare stored codes with a member's `.name`.
"""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.types import Info

from resolvers.allowances.loaders import AllowancesLoaders
from resolvers.allowances.store import (
    ApplicationRecord,
    BenefitPaymentRecord,
    EntitlementRecord,
    GrantPaymentRecord,
)
from resolvers.common.citizens import CitizenRecord
from subgraphs.common import access, entities, privacy
from subgraphs.common.context import RequestContext
from subgraphs.common.fields import federation_field, field
from subgraphs.common.privacy import CITIZEN_SUBJECT
from subgraphs.common.types import PersonName

AllowancesInfo = Info[RequestContext[AllowancesLoaders], None]


@strawberry.enum(description="The Groeipakket paying body (uitbetaler) that pays an entitlement.")
class PayingBody(Enum):
    FONS = strawberry.enum_value("FONS", description="FONS, the public paying body.")
    INFINO = strawberry.enum_value("INFINO", description="Infino.")
    KIDSLIFE = strawberry.enum_value("KIDSLIFE", description="Kidslife.")
    MYFAMILY = strawberry.enum_value("MYFAMILY", description="MyFamily.")
    PARENTIA = strawberry.enum_value("PARENTIA", description="Parentia.")


@strawberry.enum(description="A component of the Groeipakket, and so the category of a payment.")
class PaymentCategory(Enum):
    STARTBEDRAG = strawberry.enum_value(
        "STARTBEDRAG", description="One-off birth allowance (startbedrag)."
    )
    BASISBEDRAG = strawberry.enum_value(
        "BASISBEDRAG", description="Monthly base amount, the same for every child."
    )
    SCHOOLBONUS = strawberry.enum_value(
        "SCHOOLBONUS", description="Yearly school bonus, paid in August, by the child's age."
    )
    SOCIALE_TOESLAG = strawberry.enum_value(
        "SOCIALE_TOESLAG", description="Monthly social supplement for families with a low income."
    )
    ZORGTOESLAG = strawberry.enum_value(
        "ZORGTOESLAG", description="Monthly care supplement, e.g. for a child with a disability."
    )


@strawberry.enum(description="Where a study grant application stands.")
class StudyGrantStatus(Enum):
    SUBMITTED = strawberry.enum_value("SUBMITTED", description="Received, not yet examined.")
    IN_PROCESSING = strawberry.enum_value(
        "IN_PROCESSING", description="Being examined by the study grants department."
    )
    DECIDED = strawberry.enum_value("DECIDED", description="A decision has been taken.")


@strawberry.enum(description="The outcome of a decided study grant application.")
class StudyGrantOutcome(Enum):
    GRANTED = strawberry.enum_value("GRANTED", description="A grant was awarded.")
    REFUSED = strawberry.enum_value("REFUSED", description="No grant was awarded.")


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("institutionNumber"), resolvable=False)],
    description=entities.INSTITUTION,
)
class Institution:
    institution_number: strawberry.ID = strawberry.field(description=entities.INSTITUTION_NUMBER)


@strawberry.type(description="The child an entitlement is for.")
class BenefitChild:
    given_name: str = strawberry.field(description="The child's given name.")
    birth_date: datetime.date = strawberry.field(description="The child's date of birth.")


@strawberry.type(description="An amount the Groeipakket pays for a child, by component.")
class ChildBenefitComponent:
    category: PaymentCategory = strawberry.field(description="Which component.")
    amount_cents: int = strawberry.field(
        description="The amount in euro cents: per month, per year for SCHOOLBONUS, once for "
        "STARTBEDRAG."
    )


@strawberry.type(description="A Groeipakket payment.")
class ChildBenefitPayment:
    id: strawberry.ID = strawberry.field(description="The payment's identifier.")
    category: PaymentCategory = strawberry.field(description="The component this payment is for.")
    amount_cents: int = strawberry.field(description="The amount paid, in euro cents.")
    payment_date: datetime.date = strawberry.field(description="The day the amount was paid.")
    period: str = strawberry.field(
        description='The month the payment is for, as YYYY-MM (e.g. "2025-08").'
    )

    @classmethod
    def of(cls, record: BenefitPaymentRecord) -> ChildBenefitPayment:
        return cls(
            id=strawberry.ID(str(record.id)),
            category=PaymentCategory(record.category),
            amount_cents=record.amount_cents,
            payment_date=record.payment_date,
            period=record.period,
        )


@strawberry.type(
    description="A Groeipakket (Flemish child benefit) entitlement: one child, paid to the citizen."
)
class ChildBenefitEntitlement:
    id: strawberry.ID = strawberry.field(description="The entitlement's identifier.")
    child: BenefitChild = strawberry.field(description="The child the entitlement is for.")
    paying_body: PayingBody = strawberry.field(description="Who pays it.")
    start_date: datetime.date = strawberry.field(
        description="From when it runs: the birth date, or 1 January 2019 for older children."
    )
    entitlement_id: strawberry.Private[int]
    record: strawberry.Private[EntitlementRecord]

    @federation_field(
        policy=access.BANK_ACCOUNT,
        directives=[privacy.BANK_ACCOUNT],
        description="The IBAN the entitlement is paid into (assurance level high to read).",
    )
    def bank_account(self, info: AllowancesInfo) -> str:
        access.require(info.context, access.BANK_ACCOUNT, self.record.insz, "the bank account")
        return self.record.bank_account

    @field(description="The components that make up the entitlement.")
    async def components(self, info: AllowancesInfo) -> list[ChildBenefitComponent]:
        records = await info.context.loaders.components.load(self.entitlement_id)
        return [
            ChildBenefitComponent(category=PaymentCategory(r.category), amount_cents=r.amount_cents)
            for r in records
        ]

    @field(description="Payments of the last twelve months, newest first.")
    async def payments(
        self,
        info: AllowancesInfo,
        category: Annotated[
            PaymentCategory | None,
            strawberry.argument(description="Only payments for this component."),
        ] = None,
        since: Annotated[
            datetime.date | None,
            strawberry.argument(description="Only payments made on or after this day."),
        ] = None,
    ) -> list[ChildBenefitPayment]:
        records = await info.context.loaders.benefit_payments.load(self.entitlement_id)
        return [
            ChildBenefitPayment.of(r)
            for r in records
            if (category is None or r.category == category.name)
            and (since is None or r.payment_date >= since)
        ]

    @classmethod
    def of(cls, record: EntitlementRecord) -> ChildBenefitEntitlement:
        return cls(
            id=strawberry.ID(str(record.id)),
            child=BenefitChild(
                given_name=record.child_given_name, birth_date=record.child_birth_date
            ),
            paying_body=PayingBody(record.paying_body),
            start_date=record.start_date,
            entitlement_id=record.id,
            record=record,
        )


@strawberry.type(description="The decision on a study grant application.")
class StudyGrantDecision:
    outcome: StudyGrantOutcome = strawberry.field(description="Granted or refused.")
    amount_cents: int | None = strawberry.field(
        description="The yearly grant in euro cents; null when refused."
    )
    reason: str = strawberry.field(description="The grounds of the decision, in Dutch.")
    decided_on: datetime.date = strawberry.field(description="The day of the decision.")


@strawberry.type(description="A payment of a study grant.")
class StudyGrantPayment:
    amount_cents: int = strawberry.field(description="The amount paid, in euro cents.")
    payment_date: datetime.date = strawberry.field(description="The day the amount was paid.")

    @classmethod
    def of(cls, record: GrantPaymentRecord) -> StudyGrantPayment:
        return cls(amount_cents=record.amount_cents, payment_date=record.payment_date)


@strawberry.type(
    description="An application for a Flemish study grant (studietoelage) in higher education."
)
class StudyGrantApplication:
    id: strawberry.ID = strawberry.field(description="The application's identifier.")
    reference: str = strawberry.field(
        description='The file reference quoted in letters, e.g. "STT-2025-000003".'
    )
    academic_year: str = strawberry.field(description='The academic year, e.g. "2025-2026".')
    institution: Institution | None = strawberry.field(
        description="Where the student enrols for that year." + entities.PARTIAL
    )
    programme: str = strawberry.field(description="The programme the student enrols in.")
    submitted_on: datetime.date = strawberry.field(description="The day it was submitted.")
    status: StudyGrantStatus = strawberry.field(description="Where the application stands.")
    decision: StudyGrantDecision | None = strawberry.field(
        description="The decision, once the status is DECIDED; null before."
    )
    application_id: strawberry.Private[int]

    @field(description="The payments made under a granted decision, oldest first.")
    async def payments(self, info: AllowancesInfo) -> list[StudyGrantPayment]:
        records = await info.context.loaders.grant_payments.load(self.application_id)
        return [StudyGrantPayment.of(r) for r in records]

    @classmethod
    def of(cls, record: ApplicationRecord) -> StudyGrantApplication:
        decision = None
        if record.outcome is not None and record.decided_on is not None:
            decision = StudyGrantDecision(
                outcome=StudyGrantOutcome(record.outcome),
                amount_cents=record.amount_cents,
                reason=record.reason or "",
                decided_on=record.decided_on,
            )
        return cls(
            id=strawberry.ID(str(record.id)),
            reference=record.reference,
            academic_year=record.academic_year,
            institution=Institution(institution_number=strawberry.ID(record.institution_number)),
            programme=record.programme,
            submitted_on=record.submitted_on,
            status=StudyGrantStatus(record.status),
            decision=decision,
            application_id=record.id,
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
    def name(self, info: AllowancesInfo) -> PersonName | None:
        access.require(info.context, access.NAME, self.record.insz, "the name")
        return PersonName.of(self.record)

    @federation_field(
        policy=access.CHILD_BENEFIT,
        directives=[privacy.CHILD_BENEFIT],
        description="Groeipakket entitlements paid to this citizen, one per child, oldest "
        "child first." + entities.PARTIAL,
    )
    async def child_benefits(self, info: AllowancesInfo) -> list[ChildBenefitEntitlement] | None:
        access.require(info.context, access.CHILD_BENEFIT, self.record.insz, "the child benefits")
        records = await info.context.loaders.entitlements.load(self.record.insz)
        return [ChildBenefitEntitlement.of(r) for r in records]

    @federation_field(
        policy=access.STUDY_GRANT,
        directives=[privacy.STUDY_GRANT],
        description="This citizen's study grant applications, newest academic year first."
        + entities.PARTIAL,
    )
    async def study_grant_applications(
        self,
        info: AllowancesInfo,
        academic_year: Annotated[
            str | None,
            strawberry.argument(description='Only this academic year, e.g. "2025-2026".'),
        ] = None,
    ) -> list[StudyGrantApplication] | None:
        access.require(info.context, access.STUDY_GRANT, self.record.insz, "the study grants")
        records = await info.context.loaders.applications.load(self.record.insz)
        return [
            StudyGrantApplication.of(r)
            for r in records
            if academic_year is None or r.academic_year == academic_year
        ]

    @classmethod
    def of(cls, record: CitizenRecord) -> Citizen:
        return cls(insz=strawberry.ID(record.insz), record=record)

    @classmethod
    async def resolve_reference(cls, info: AllowancesInfo, insz: strawberry.ID) -> Citizen | None:
        info.context.cache.tag("Citizen", insz)
        record = await info.context.loaders.citizens.load(str(insz))
        return None if record is None else cls.of(record)
