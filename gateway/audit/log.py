"""The access log's writer: entries leave the request at once and are written in batches.

`AccessLog.record` turns one answer into entries (one per data subject) and puts them on a
bounded queue; the request goes on. A single writer task takes up to `batch_size` entries at a
time (waiting `linger` seconds for more) and appends them to the store in one transaction.

When the store fails, the batch goes to the local spool (gateway/audit/spool.py, fsync'd), and
so does every batch after it until the spool has been replayed: the writer tries the store again
every `retry_interval` seconds, replays the spool in batches, then writes directly again. When
the spool fails too, the writer keeps the batch and retries; it takes nothing more from the
queue meanwhile, so once the queue is full `record` waits for room: an entry is never dropped.

`rugzak_access_log_backlog` counts what is not in the store yet (queued, being written, kept,
spooled). While nothing can record (store and spool both failing), `refuses` says which callers'
personal reads must be refused before they run: civil servants by default (`fail_closed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge

from auth.principal import Principal
from gateway.audit.entry import AccessEntry, entries_for, new_id
from gateway.audit.reads import AuditPlan
from gateway.audit.settings import FAIL_CLOSED, AccessLogSettings
from gateway.audit.spool import Spool
from gateway.audit.store import AuditStore, AuditStoreError, open_backend

log = logging.getLogger("rugzak.audit")

UNAVAILABLE: Final = "ACCESS_LOG_UNAVAILABLE"


class AccessLogMetrics:
    def __init__(self, registry: CollectorRegistry, log: AccessLog) -> None:
        self.entries = Counter(
            "rugzak_access_log_entries",
            "Access-log entries recorded (one per data subject of an answer), by outcome",
            ["outcome"],
            registry=registry,
        )
        self.written = Counter(
            "rugzak_access_log_written",
            "Access-log entries written, to the store or to the local spool",
            ["to"],
            registry=registry,
        )
        self.refused = Counter(
            "rugzak_access_log_refused_requests",
            "Requests refused because nothing could record their personal reads",
            registry=registry,
        )
        self._by_outcome: dict[str, Any] = {}
        backlog = Gauge(
            "rugzak_access_log_backlog",
            "Access-log entries not in the store yet: queued, being written, or in the spool",
            registry=registry,
        )
        backlog.set_function(lambda: float(log.backlog))
        store_up = Gauge(
            "rugzak_access_log_store_up",
            "1 while the access log's store takes writes, 0 after a failure",
            registry=registry,
        )
        store_up.set_function(lambda: 1.0 if log.store_up else 0.0)
        recording = Gauge(
            "rugzak_access_log_recording",
            "1 while entries can be recorded (in the store or the spool), 0 when neither works",
            registry=registry,
        )
        recording.set_function(lambda: 1.0 if log.recording else 0.0)

    def outcome(self, outcome: str) -> Any:
        """The entries counter of one outcome (looked up once: labels() costs per call)."""
        found = self._by_outcome.get(outcome)
        if found is None:
            found = self._by_outcome[outcome] = self.entries.labels(outcome=outcome)
        return found


class AccessLog:
    def __init__(
        self,
        settings: AccessLogSettings,
        registry: CollectorRegistry | None = None,
        store: AuditStore | None = None,
    ) -> None:
        if settings.fail_closed not in FAIL_CLOSED:
            raise ValueError(
                f"the access log's fail-closed setting is one of {', '.join(FAIL_CLOSED)}"
            )
        self.settings = settings
        self.store = store or AuditStore(open_backend(settings.store))
        spool_dir = settings.spool_dir
        if spool_dir is None:
            from gateway.registry.store import data_dir

            spool_dir = data_dir() / "audit-spool"
        self.spool = Spool(spool_dir)
        self.store_up = True
        self.spool_ok = True
        self.metrics = AccessLogMetrics(registry or CollectorRegistry(), self)
        self._queue: asyncio.Queue[AccessEntry] | None = None
        self._task: asyncio.Task[None] | None = None
        self._writing: list[AccessEntry] = []  # taken from the queue, not written yet
        self._files = ThreadPoolExecutor(1, thread_name_prefix="rugzak-audit-spool")
        self._offsets: dict[Path, int] = {}
        self._next_retry = 0.0
        self._stopping = False

    @property
    def description(self) -> str:
        return self.store.description

    @property
    def recording(self) -> bool:
        return self.store_up or self.spool_ok

    @property
    def backlog(self) -> int:
        queued = self._queue.qsize() if self._queue is not None else 0
        return queued + len(self._writing) + self.spool.pending

    def refuses(self, principal: Principal) -> bool:
        """Must this caller's personal reads be refused now (nothing can record them)?"""
        if self.recording:
            return False
        mode = self.settings.fail_closed
        refused = mode == "everyone" or (mode == "staff" and principal.is_staff)
        if refused:
            self.metrics.refused.inc()
        return refused

    async def record(
        self,
        plan: AuditPlan,
        data: Mapping[str, Any],
        errors: Iterable[Mapping[str, Any]],
        principal: Principal,
        query: str,
    ) -> None:
        """The entries of one answer, queued for the writer (waits only when the queue is full)."""
        reads = plan.reads(data, errors)
        if not reads:
            return
        operation = hashlib.sha256(query.encode()).hexdigest()
        at_us = time.time_ns() // 1000
        await self.enqueue(entries_for(reads, principal, operation, new_id(), at_us))

    async def enqueue(self, entries: Sequence[AccessEntry]) -> None:
        queue = self._running_queue()
        for entry in entries:
            self.metrics.outcome(entry.outcome).inc()
            try:
                queue.put_nowait(entry)
            except asyncio.QueueFull:
                await queue.put(entry)

    def _running_queue(self) -> asyncio.Queue[AccessEntry]:
        if self._queue is None:
            self._queue = asyncio.Queue(self.settings.queue_limit)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        return self._queue

    async def start(self) -> None:
        """Start the writer (also started by the first entry), and take up spooled entries
        that a process before this one left."""
        try:
            await self._in_thread(self.spool.open)
            await self._in_thread(self.spool.files)  # adopts orphaned files: counted as pending
        except OSError as exc:
            self.spool_ok = False
            log.error("access log: the spool %s cannot be used: %s", self.spool.directory, exc)
        try:
            await self.store.probe()
        except AuditStoreError as exc:
            self._store_failed(exc)
        self._running_queue()

    async def stop(self) -> None:
        """Write what is queued (to the store, or the spool), then stop."""
        self._stopping = True
        if self._task is not None and self._queue is not None and not self._task.done():
            await self._queue.put(_STOP)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._in_thread(self.spool.close)
        await self.store.close()
        self._files.shutdown(wait=False)

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._files, lambda: fn(*args))

    async def _run(self) -> None:
        assert self._queue is not None
        retry = self.settings.retry_interval
        purging = self.settings.retention_days > 0
        next_purge = time.monotonic() if purging else float("inf")
        stop = False
        while True:
            if not self._writing:
                if stop:
                    return
                wake = next_purge - time.monotonic()
                if self.spool.pending:
                    wake = min(wake, retry)
                stop = await self._collect(self._queue, None if wake == float("inf") else wake)
            if self.spool.pending:
                await self._replay()
            if self._writing:
                await self._write()
            if self._writing:  # neither the store nor the spool took it
                if stop:
                    log.error(
                        "access log: stopping with %d entries neither stored nor spooled",
                        len(self._writing),
                    )
                    return
                await asyncio.sleep(retry)
            if time.monotonic() >= next_purge:
                await self._purge()
                next_purge = time.monotonic() + self.settings.purge_interval

    async def _collect(self, queue: asyncio.Queue[AccessEntry], timeout: float | None) -> bool:
        """Take the next batch into `_writing` (nothing after `timeout` seconds); True when
        asked to stop. After the first entry the writer sleeps `linger` seconds once, then takes
        what came meanwhile: one wake-up per batch, not one per entry."""
        try:
            first = await asyncio.wait_for(queue.get(), max(timeout, 0.0) if timeout else None)
        except TimeoutError:
            return False
        if first is _STOP:
            return True
        size = self.settings.batch_size
        if self.settings.linger > 0 and not self._stopping and queue.qsize() < size - 1:
            await asyncio.sleep(self.settings.linger)
        batch = [first]
        stop = False
        while len(batch) < size:
            try:
                entry = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if entry is _STOP:
                stop = True
                break
            batch.append(entry)
        self._writing = batch
        return stop

    async def _write(self) -> None:
        """The batch in `_writing` to the store, or (while the store fails, or the spool still
        holds older entries) to the spool."""
        batch = self._writing
        if not self.spool.pending and time.monotonic() >= self._next_retry:
            try:
                await self.store.append(batch)
            except AuditStoreError as exc:
                self._store_failed(exc)
            else:
                self._store_ok()
                self.metrics.written.labels(to="store").inc(len(batch))
                self._writing = []
                return
        try:
            await self._in_thread(self.spool.append, batch)
        except OSError as exc:
            if self.spool_ok:
                log.error("access log: the spool cannot be written either (%s): retrying", exc)
            self.spool_ok = False
            return
        if not self.spool_ok:
            log.warning("access log: the spool takes writes again")
        self.spool_ok = True
        self.metrics.written.labels(to="spool").inc(len(batch))
        self._writing = []

    async def _replay(self) -> None:
        """Store what the spool holds (this process's file and orphaned ones), batch by batch,
        once the store may be back."""
        if time.monotonic() < self._next_retry:
            return
        try:
            files = await self._in_thread(self.spool.files)
        except OSError as exc:
            log.error("access log: cannot read the spool: %s", exc)
            return
        for path in files:
            offset = self._offsets.get(path, 0)
            while True:
                try:
                    entries, after = await self._in_thread(
                        self.spool.read, path, offset, self.settings.batch_size
                    )
                except OSError as exc:
                    log.error("access log: cannot read the spool: %s", exc)
                    return
                if after == offset:
                    break
                if entries:
                    try:
                        await self.store.append(entries)
                    except AuditStoreError as exc:
                        self._store_failed(exc)
                        self._offsets[path] = offset
                        return
                    self._store_ok()
                    self.metrics.written.labels(to="store").inc(len(entries))
                    self.spool.replayed(path, len(entries))
                offset = after
            self._offsets.pop(path, None)
            await self._in_thread(self.spool.done, path)
        if files:
            log.warning("access log: spooled entries replayed into %s", self.description)

    def _store_failed(self, exc: AuditStoreError) -> None:
        if self.store_up:
            log.error("access log: cannot write to the store (%s); spooling", exc)
        self.store_up = False
        self._next_retry = time.monotonic() + self.settings.retry_interval

    def _store_ok(self) -> None:
        if not self.store_up:
            log.warning("access log: the store %s takes writes again", self.description)
        self.store_up = True

    async def _purge(self) -> None:
        cutoff_us = int((time.time() - self.settings.retention_days * 86400) * 1_000_000)
        try:
            removed = await self.store.purge(cutoff_us)
        except AuditStoreError as exc:
            log.warning("access log: purge failed (%s); tried again later", exc)
            return
        if removed:
            log.warning("access log: purged %d entries past retention", removed)


_STOP: Final[Any] = object()
