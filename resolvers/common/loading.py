"""Per-request dataloaders over a counted store session.

A loader built here collects every key asked for in one tick of the event loop and makes one
batch call, so resolving 100 `Citizen` representations costs one SQL statement, not 100.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from resolvers.common.sqlite import Session

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchFunction = Callable[[Session, Sequence[K]], Sequence[V]]
"""Loads many keys with one query; returns one value per key, in key order."""


def batch_loader(session: Session, load: BatchFunction[K, V]) -> DataLoader[K, V]:
    """A DataLoader (with its per-request cache) that calls `load(session, keys)` once per batch."""

    async def load_batch(keys: list[K]) -> Sequence[V]:
        return load(session, keys)

    return DataLoader(load_fn=load_batch)
