"""The registry's limits on what a caller makes the gateway do (fetch.py, worker.py)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_SDL_BYTES = 1_000_000


class SdlTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the subgraph's SDL is larger than the registry's limit of {limit:,} bytes"
        )
        self.limit = limit


@dataclass(frozen=True, slots=True)
class RegistryLimits:
    # one deadline for reading a subgraph's SDL: DNS, connecting and the whole answer
    fetch_seconds: float = 10.0
    # the largest SDL (and answer carrying it) the registry reads or composes
    max_sdl_bytes: int = DEFAULT_MAX_SDL_BYTES
    # the composition worker's CPU time and address space
    compose_cpu_seconds: int = 60
    compose_memory_bytes: int = 1024**3
