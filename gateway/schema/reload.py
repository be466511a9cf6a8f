"""Watching where the supergraph comes from, so that a new one goes live without a restart.

`SupergraphWatcher` polls a file (or an http(s) URL) and hands each new, different SDL to a
callback. Polling rather than inotify: it works the same for files replaced by a rename (how
editors and deploy tools write), for network file systems and for URLs, and a poll is one stat
(or one small GET) per interval. A source that cannot be read, or a callback that refuses the
new SDL, leaves the last good schema serving; the next change is tried again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable

from gateway.errors import SupergraphError
from gateway.schema.supergraph import is_url_source, read_supergraph_source

log = logging.getLogger("rugzak.reload")


def sdl_digest(sdl: str) -> str:
    return hashlib.sha256(sdl.encode()).hexdigest()


class SupergraphWatcher:
    def __init__(
        self,
        source: str,
        on_change: Callable[[str], Awaitable[object]],
        *,
        interval: float = 1.0,
        current_sdl: str | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("the reload interval must be positive")
        self.source = source
        self.interval = interval
        self._on_change = on_change
        self._digest = sdl_digest(current_sdl) if current_sdl is not None else None
        self._stamp: tuple[float, int, int] | None = self._file_stamp()
        self.errors = 0

    def _is_url(self) -> bool:
        return is_url_source(self.source)

    def _file_stamp(self) -> tuple[float, int, int] | None:
        if self._is_url():
            return None
        try:
            st = os.stat(self.source)
        except OSError:
            return None
        return (st.st_mtime, st.st_size, st.st_ino)

    async def check(self) -> bool:
        """One poll: True when a new SDL was handed over (and accepted)."""
        if not self._is_url():
            stamp = self._file_stamp()
            if stamp is None or stamp == self._stamp:
                return False  # unchanged, or gone for a moment while being replaced
            self._stamp = stamp
        try:
            sdl = await asyncio.to_thread(read_supergraph_source, self.source)
        except SupergraphError as exc:
            self.errors += 1
            log.warning("cannot read the supergraph for reloading: %s", exc)
            return False
        digest = sdl_digest(sdl)
        if digest == self._digest:
            return False
        try:
            await self._on_change(sdl)
        except Exception as exc:  # the callback refused it: keep serving the last good one
            self.errors += 1
            log.warning("new supergraph from %s not taken: %s", self.source, exc)
            self._digest = digest  # do not retry the same text every poll; a new edit is tried
            return False
        self._digest = digest
        return True

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # never let the watcher die: the gateway keeps its schema
                log.exception("supergraph watcher failed one poll")
