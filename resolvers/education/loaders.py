"""The education subgraph's dataloaders, created per request over that request's session."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.common.citizens import CitizenRecord, load_citizens
from resolvers.common.loading import batch_loader
from resolvers.common.sqlite import Session
from resolvers.education.store import (
    InstitutionRecord,
    QualificationRecord,
    load_institutions,
    load_qualifications,
)


@dataclass(frozen=True, slots=True)
class EducationLoaders:
    citizens: DataLoader[str, CitizenRecord | None]
    """INSZ -> citizen (None when unknown)."""
    qualifications: DataLoader[str, list[QualificationRecord]]
    """INSZ -> all of that citizen's qualifications, newest first."""
    institutions: DataLoader[str, InstitutionRecord | None]
    """Institution number -> institution (None when unknown)."""

    @classmethod
    def create(cls, session: Session) -> EducationLoaders:
        return cls(
            citizens=batch_loader(session, load_citizens),
            qualifications=batch_loader(session, load_qualifications),
            institutions=batch_loader(session, load_institutions),
        )
