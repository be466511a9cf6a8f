"""One access-log entry: who read which personal data of whom, when, why and with what outcome.

Names, never values: the categories and `Type.field` coordinates read, not what they held.

The log is a hash chain: each stored entry carries `hash = sha256(prev_hash || canonical)`, where
`canonical` is the entry's fields (its position `seq` included) as compact JSON in a fixed
order, and `prev_hash` is the hash of the entry before it (`GENESIS` for the first, or the
checkpoint a purge left). Changing, removing or reordering a row breaks the chain at that row.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from auth.principal import Principal
from gateway.audit.reads import SubjectRead

GENESIS = "0" * 64

CITIZEN = "citizen"
CIVIL_SERVANT = "civil-servant"
OTHER = "other"
ROLES = (CITIZEN, CIVIL_SERVANT, OTHER)


@dataclass(slots=True)  # not frozen: its __init__ is twice as fast, on the request's path
class AccessEntry:
    entry_id: str  # unique: a replayed entry is never stored twice
    at_us: int  # when, in microseconds since the epoch (UTC)
    subject: str | None  # the data subject's INSZ (None: the answer did not say)
    caller: str | None  # the token's `sub`
    role: str  # citizen, civil-servant or other
    own: bool  # a citizen reading their own data
    organisation: str | None  # the caller's organisation (NIS code), from the token
    application: str | None  # the client application (`azp` / `client_id`)
    purpose: str | None  # the purpose the caller stated
    assurance: str | None  # the assurance level the caller signed in at (`acr`)
    categories: tuple[str, ...]
    fields: tuple[str, ...]  # every personal field asked: read and refused
    refused: tuple[str, ...]  # of those, the ones refused
    operation: str  # sha256 of the operation's text
    request_id: str
    outcome: str  # answered, partly-denied or denied

    def canonical(self, seq: int) -> bytes:
        return orjson.dumps(
            [
                seq,
                self.entry_id,
                self.at_us,
                self.subject,
                self.caller,
                self.role,
                self.own,
                self.organisation,
                self.application,
                self.purpose,
                self.assurance,
                list(self.categories),
                list(self.fields),
                list(self.refused),
                self.operation,
                self.request_id,
                self.outcome,
            ]
        )

    def chained(self, seq: int, prev_hash: str) -> str:
        """This entry's hash at position `seq` after an entry hashed `prev_hash`."""
        return chain_hash(prev_hash, self.canonical(seq))

    def to_json(self) -> dict[str, Any]:
        """For the spool file."""
        return {
            "entryId": self.entry_id,
            "atUs": self.at_us,
            "subject": self.subject,
            "caller": self.caller,
            "role": self.role,
            "own": self.own,
            "organisation": self.organisation,
            "application": self.application,
            "purpose": self.purpose,
            "assurance": self.assurance,
            "categories": list(self.categories),
            "fields": list(self.fields),
            "refused": list(self.refused),
            "operation": self.operation,
            "requestId": self.request_id,
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AccessEntry:
        return cls(
            entry_id=str(raw["entryId"]),
            at_us=int(raw["atUs"]),
            subject=_text(raw.get("subject")),
            caller=_text(raw.get("caller")),
            role=str(raw["role"]),
            own=bool(raw["own"]),
            organisation=_text(raw.get("organisation")),
            application=_text(raw.get("application")),
            purpose=_text(raw.get("purpose")),
            assurance=_text(raw.get("assurance")),
            categories=tuple(str(c) for c in raw["categories"]),
            fields=tuple(str(f) for f in raw["fields"]),
            refused=tuple(str(f) for f in raw.get("refused", ())),
            operation=str(raw["operation"]),
            request_id=str(raw["requestId"]),
            outcome=str(raw["outcome"]),
        )


class _Ids:
    """Unique ids, cheaply: 80 random bits per process (a forked worker draws its own) and a
    counter. uuid4 costs a system call each (about 6 µs here), twice per request."""

    def __init__(self) -> None:
        self._pid = 0
        self._prefix = ""
        self._counter = itertools.count()

    def next(self) -> str:
        if self._pid != os.getpid():
            self._pid, self._prefix = os.getpid(), secrets.token_hex(10)
        return f"{self._prefix}{next(self._counter):012x}"


new_id = _Ids().next


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical)
    return digest.hexdigest()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def role_of(principal: Principal) -> str:
    if principal.is_staff:
        return CIVIL_SERVANT
    if principal.is_citizen:
        return CITIZEN
    return OTHER


def entries_for(
    reads: Sequence[SubjectRead],
    principal: Principal,
    operation: str,
    request_id: str,
    at_us: int,
) -> list[AccessEntry]:
    """One entry per data subject of one answer."""
    role = role_of(principal)
    caller_insz = principal.insz if role == CITIZEN else None
    subject_, organisation = principal.subject, principal.organisation
    application, purpose, acr = principal.client_id, principal.purpose, principal.acr
    # positional: a dataclass's keyword call costs three times as much, once per entry
    return [
        AccessEntry(
            new_id(),
            at_us,
            read.subject,
            subject_,
            role,
            caller_insz is not None and read.subject == caller_insz,
            organisation,
            application,
            purpose,
            acr,
            read.categories,
            tuple(sorted({*read.read, *read.refused})) if read.refused else read.read,
            read.refused,
            operation,
            request_id,
            read.outcome,
        )
        for read in reads
    ]
