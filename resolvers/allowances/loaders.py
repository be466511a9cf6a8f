"""The allowances subgraph's dataloaders, created per request over that request's session."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.allowances.store import (
    ApplicationRecord,
    BenefitPaymentRecord,
    ComponentRecord,
    EntitlementRecord,
    GrantPaymentRecord,
    load_applications,
    load_benefit_payments,
    load_components,
    load_entitlements,
    load_grant_payments,
)
from resolvers.common.citizens import CitizenRecord, load_citizens
from resolvers.common.loading import batch_loader
from resolvers.common.sqlite import Session


@dataclass(frozen=True, slots=True)
class AllowancesLoaders:
    citizens: DataLoader[str, CitizenRecord | None]
    """INSZ -> citizen (None when unknown)."""
    entitlements: DataLoader[str, list[EntitlementRecord]]
    """INSZ of the receiving parent -> Groeipakket entitlements."""
    components: DataLoader[int, list[ComponentRecord]]
    """Entitlement id -> its components."""
    benefit_payments: DataLoader[int, list[BenefitPaymentRecord]]
    """Entitlement id -> its payments, newest first."""
    applications: DataLoader[str, list[ApplicationRecord]]
    """INSZ of the student -> study grant applications, newest first."""
    grant_payments: DataLoader[int, list[GrantPaymentRecord]]
    """Application id -> its payments, oldest first."""

    @classmethod
    def create(cls, session: Session) -> AllowancesLoaders:
        return cls(
            citizens=batch_loader(session, load_citizens),
            entitlements=batch_loader(session, load_entitlements),
            components=batch_loader(session, load_components),
            benefit_payments=batch_loader(session, load_benefit_payments),
            applications=batch_loader(session, load_applications),
            grant_payments=batch_loader(session, load_grant_payments),
        )
