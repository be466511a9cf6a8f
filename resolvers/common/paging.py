"""Relay-style cursor pagination over a list that is already in its final order.

Cursors are opaque to clients: base64url of "<kind>:<offset>", where offset is the 0-based
position of the item in the ordered list. Offsets suit the reference data (small lists per
citizen, ordered by a stable key); a cursor from another kind of list is rejected.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from resolvers.common.errors import InvalidInput

T = TypeVar("T")

MAX_PAGE_SIZE = 100


def encode_cursor(kind: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode("ascii")


def decode_cursor(kind: str, cursor: str) -> int:
    """The offset inside `cursor`; InvalidInput when it is not a cursor of this kind."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput(f"Malformed cursor {cursor!r}.", field="after") from None
    prefix, _, number = text.partition(":")
    if prefix != kind or not number.isdigit():
        raise InvalidInput(f"Malformed cursor {cursor!r}.", field="after")
    return int(number)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[tuple[str, T]]
    """(cursor, item) pairs of this page."""
    has_next_page: bool
    has_previous_page: bool
    total_count: int

    @property
    def start_cursor(self) -> str | None:
        return self.items[0][0] if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def check_page_size(first: int) -> None:
    if first < 0 or first > MAX_PAGE_SIZE:
        raise InvalidInput(
            f"`first` must be between 0 and {MAX_PAGE_SIZE}, got {first}.", field="first"
        )


def paginate(kind: str, items: Sequence[T], first: int, after: str | None) -> Page[T]:
    """The `first` items after the cursor `after` (from the start when None)."""
    check_page_size(first)
    start = 0 if after is None else decode_cursor(kind, after) + 1
    chosen = items[start : start + first]
    return Page(
        items=[(encode_cursor(kind, start + i), item) for i, item in enumerate(chosen)],
        has_next_page=start + first < len(items),
        has_previous_page=start > 0,
        total_count=len(items),
    )
