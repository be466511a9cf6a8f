"""The composition worker: each registry candidate (check, add, update, remove, rollback, seed) is
judged in a process of its own, with limits, never in the process that serves.

- The changed subgraph's SDL is size-checked first (`SdlTooLarge`), before any parsing.
- The process is forked from multiprocessing's fork server (a small clean process started once,
  with the composition modules imported), not from the gateway: no threads, sockets or
  caches of the gateway are copied, and starting one takes milliseconds.
- In the child, before any work: RLIMIT_CPU (the kernel stops it at the limit, SIGXCPU then
  SIGKILL), RLIMIT_AS (allocations beyond the limit fail: MemoryError) and no core files. The
  parent also kills it after a wall-clock bound, for a child that waits instead of computing.
- One candidate at a time per gateway process: a queue of checks never multiplies the memory.
- The serving event loop only waits on a pipe (in a thread): composition never holds it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import resource
import signal
from dataclasses import dataclass
from typing import Any

from gateway.registry.candidate import Candidate, Evaluation, Refused, evaluate
from gateway.registry.fetch import DEFAULT_MAX_BYTES, SdlTooLarge

log = logging.getLogger("rugzak.registry")

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["gateway.registry.worker"])


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    cpu_seconds: int = 60
    memory_bytes: int = 1024**3
    max_sdl_bytes: int = DEFAULT_MAX_BYTES

    @property
    def wall_seconds(self) -> float:
        """The parent's bound: CPU time, with room for a machine busy with other work."""
        return self.cpu_seconds * 3 + 10


class CompositionLimitExceeded(Exception):
    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit  # "cpu", "memory" or "wall"
        self.message = message


def check_sizes(candidate: Candidate, max_bytes: int) -> None:
    for source in candidate.sources:
        if candidate.subgraph is not None and source.name != candidate.subgraph:
            continue
        # a str holds at most 4 bytes of UTF-8 per character: the exact count only when close
        if len(source.sdl) > max_bytes or (
            4 * len(source.sdl) > max_bytes and len(source.sdl.encode()) > max_bytes
        ):
            raise SdlTooLarge(max_bytes)


class CompositionWorker:
    def __init__(self, limits: WorkerLimits | None = None) -> None:
        self.limits = limits or WorkerLimits()
        self._one_at_a_time = asyncio.Lock()

    async def evaluate(self, candidate: Candidate) -> Evaluation | Refused:
        """SdlTooLarge, CompositionLimitExceeded, or what `candidate.evaluate` says."""
        check_sizes(candidate, self.limits.max_sdl_bytes)
        async with self._one_at_a_time:
            result = await self._run(candidate)
        if isinstance(result, Evaluation | Refused):
            return result
        raise RuntimeError(f"the composition worker answered {type(result).__name__}")

    async def _run(self, candidate: Candidate) -> object:
        limits = self.limits
        receiver, sender = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(
            target=_child,
            args=(sender, candidate, limits.cpu_seconds, limits.memory_bytes),
            name="rugzak-composition",
            daemon=True,
        )
        try:
            await asyncio.to_thread(process.start)
            sender.close()
            reading = asyncio.ensure_future(asyncio.to_thread(_receive, receiver))
            done, _ = await asyncio.wait({reading}, timeout=limits.wall_seconds)
            if not done:
                process.kill()
            answer = await reading
            await asyncio.to_thread(process.join, 5)
        finally:
            if process.is_alive():  # cancelled: the candidate is nobody's business any more
                process.kill()
            sender.close()
            receiver.close()
        if answer is not None:
            tag, value = answer
            if tag == "ok":
                return value
            if tag == "memory":
                raise _memory(limits)
            raise RuntimeError(f"the composition worker failed: {value}")
        if not done:
            raise CompositionLimitExceeded(
                "wall",
                f"composing the candidate took longer than {limits.wall_seconds:g} s",
            )
        code = process.exitcode
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            raise CompositionLimitExceeded(
                "cpu",
                f"composing the candidate needed more than the limit of {limits.cpu_seconds} s "
                "of CPU time",
            )
        # a child out of memory may die in C code instead of raising MemoryError
        log.error("registry: the composition worker ended with exit code %s", code)
        raise _memory(limits)


def _memory(limits: WorkerLimits) -> CompositionLimitExceeded:
    return CompositionLimitExceeded(
        "memory",
        "composing the candidate needed more than the limit of "
        f"{limits.memory_bytes // 1024**2:,} MB of memory",
    )


def _receive(connection: multiprocessing.connection.Connection) -> Any:
    try:
        return connection.recv()
    except (EOFError, OSError):
        return None


def _child(
    connection: multiprocessing.connection.Connection,
    candidate: Candidate,
    cpu_seconds: int,
    memory_bytes: int,
) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 2))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    answer: tuple[str, object]
    try:
        answer = ("ok", evaluate(candidate))
    except MemoryError:
        answer = ("memory", None)
    except RecursionError:
        answer = ("failed", "the SDL is nested too deeply")
    except Exception as exc:  # a bug of ours: the gateway logs it, the caller gets a 503
        answer = ("failed", f"{type(exc).__name__}: {exc}")
    try:
        connection.send(answer)
    except MemoryError:
        connection.send(("memory", None))
    connection.close()
