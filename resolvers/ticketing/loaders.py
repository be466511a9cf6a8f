"""The ticketing subgraph's dataloaders, created per request over that request's session."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.common.citizens import CitizenRecord, load_citizens
from resolvers.common.loading import batch_loader
from resolvers.common.sqlite import Session
from resolvers.ticketing.store import (
    MunicipalityRecord,
    StatusChangeRecord,
    TicketRecord,
    UpdateRecord,
    load_municipalities,
    load_open_ticket_counts,
    load_status_history,
    load_tickets,
    load_tickets_by_reporter,
    load_updates,
)


@dataclass(frozen=True, slots=True)
class TicketingLoaders:
    citizens: DataLoader[str, CitizenRecord | None]
    """INSZ -> citizen (None when unknown)."""
    tickets: DataLoader[str, TicketRecord | None]
    """Ticket id -> ticket (None when unknown)."""
    tickets_by_reporter: DataLoader[str, list[TicketRecord]]
    """INSZ of the reporter -> their tickets, newest first."""
    status_history: DataLoader[int, list[StatusChangeRecord]]
    """Ticket id -> its status changes, oldest first."""
    updates: DataLoader[int, list[UpdateRecord]]
    """Ticket id -> its public updates, oldest first."""
    municipalities: DataLoader[str, MunicipalityRecord | None]
    """NIS code -> municipality (None when unknown)."""
    open_ticket_counts: DataLoader[str, int]
    """NIS code -> number of open tickets there."""

    @classmethod
    def create(cls, session: Session) -> TicketingLoaders:
        return cls(
            citizens=batch_loader(session, load_citizens),
            tickets=batch_loader(session, load_tickets),
            tickets_by_reporter=batch_loader(session, load_tickets_by_reporter),
            status_history=batch_loader(session, load_status_history),
            updates=batch_loader(session, load_updates),
            municipalities=batch_loader(session, load_municipalities),
            open_ticket_counts=batch_loader(session, load_open_ticket_counts),
        )
