"""The transparency subgraph's dataloaders, created per request over that request's session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.common.loading import batch_loader
from resolvers.common.sqlite import Session, json_list


def load_organisation_names(session: Session, codes: Sequence[str]) -> list[str | None]:
    rows = session.fetch_all(
        "SELECT code, name FROM organisation WHERE code IN (SELECT value FROM json_each(?))",
        (json_list(list(codes)),),
    )
    names = {row["code"]: row["name"] for row in rows}
    return [names.get(code) for code in codes]


@dataclass(frozen=True, slots=True)
class TransparencyLoaders:
    organisation_names: DataLoader[str, str | None]
    """Organisation code (a municipality's NIS code) -> its name, None when unknown."""

    @classmethod
    def create(cls, session: Session) -> TransparencyLoaders:
        return cls(organisation_names=batch_loader(session, load_organisation_names))
