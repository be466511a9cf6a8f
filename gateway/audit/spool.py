"""The access log's local spool: where entries go while the store cannot take them.

A directory of JSON-lines files, one per gateway process, each held under an exclusive lock
(`flock`) while its process lives. Every append is flushed and fsync'd before it counts as
written. When the store is back, the writer replays the file in batches and empties it; a file
whose process is gone (its lock is free) is adopted by the next process that looks, replayed,
then deleted. A replayed entry that was already stored is skipped by the store (by its id), so
a crash in the middle of a replay stores nothing twice.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import orjson

from gateway.audit.entry import AccessEntry

log = logging.getLogger("rugzak.audit")

SUFFIX = ".jsonl"


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._own: IO[bytes] | None = None
        self.own_path: Path | None = None
        self.pending = 0  # entries written here and not yet replayed, own and adopted files
        self._pending: dict[Path, int] = {}
        self._adopted: dict[Path, IO[bytes]] = {}
        self._own_pid = 0

    def open(self) -> None:
        """Create this process's file (and the directory). Raises OSError when it cannot."""
        if self._own is not None and self.own_path is not None and self._own_pid == os.getpid():
            return
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        path = self.directory / name
        # personal data: readable by this user only; held open and locked while we live
        handle = os.fdopen(os.open(path, os.O_CREAT | os.O_RDWR | os.O_APPEND, 0o600), "ab+")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._own, self.own_path, self._own_pid = handle, path, os.getpid()

    def append(self, entries: Sequence[AccessEntry]) -> None:
        """Write durably (fsync) before returning; OSError when the disk refuses."""
        self.open()
        assert self._own is not None and self.own_path is not None
        lines = b"".join(orjson.dumps(e.to_json()) + b"\n" for e in entries)
        self._own.write(lines)
        self._own.flush()
        os.fsync(self._own.fileno())
        self._pending[self.own_path] = self._pending.get(self.own_path, 0) + len(entries)
        self.pending += len(entries)

    def files(self) -> list[Path]:
        """The files to replay: this process's (when it holds entries) and those nobody holds."""
        found = []
        if self.own_path is not None and self._pending.get(self.own_path):
            found.append(self.own_path)
        if not self.directory.is_dir():
            return found
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if path == self.own_path or path in found:
                continue
            if path in self._adopted or self._adopt(path):
                found.append(path)
        return found

    def _adopt(self, path: Path) -> bool:
        try:
            handle = open(path, "rb+")  # noqa: SIM115 (held and locked until replayed)
        except OSError:
            return False
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # its process still lives
            handle.close()
            return False
        count = sum(1 for line in handle if line.strip())
        self._adopted[path] = handle
        self._pending[path] = count
        self.pending += count
        if count:
            log.warning("access log: adopted a spool file of %d entries to replay", count)
        return True

    def read(self, path: Path, offset: int, limit: int) -> tuple[list[AccessEntry], int]:
        """Up to `limit` entries from byte `offset`, and the offset after them. A line that
        does not parse (cut short by a crash before its fsync returned) is skipped, loudly."""
        entries: list[AccessEntry] = []
        with open(path, "rb") as handle:
            handle.seek(offset)
            while len(entries) < limit:
                line = handle.readline()
                if not line:
                    break
                if not line.endswith(b"\n"):  # being written: not this time
                    break
                offset += len(line)
                if not line.strip():
                    continue
                try:
                    entries.append(AccessEntry.from_json(orjson.loads(line)))
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    log.error("access log: skipped an unreadable line in a spool file")
        return entries, offset

    def replayed(self, path: Path, count: int) -> None:
        count = min(count, self._pending.get(path, 0))
        self._pending[path] = self._pending.get(path, 0) - count
        self.pending -= count

    def done(self, path: Path) -> None:
        """Everything in `path` is stored: empty this process's file, delete an adopted one."""
        left = self._pending.pop(path, 0)
        self.pending -= left
        if path == self.own_path and self._own is not None:
            self._own.truncate(0)
            os.fsync(self._own.fileno())
            return
        handle = self._adopted.pop(path, None)
        path.unlink(missing_ok=True)
        if handle is not None:
            handle.close()

    def close(self) -> None:
        for handle in self._adopted.values():
            handle.close()
        self._adopted.clear()
        if self._own is not None:
            own, path = self._own, self.own_path
            self._own = None
            empty = own.seek(0, os.SEEK_END) == 0
            own.close()
            if empty and path is not None:  # nothing waits in it: no file to adopt later
                path.unlink(missing_ok=True)
