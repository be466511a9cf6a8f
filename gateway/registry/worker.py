"""The composition worker: each registry candidate (check, add, update, remove, rollback, seed) is
judged in a process of its own, with limits, never in the process that serves.

- The changed subgraph's SDL is size-checked first (`SdlTooLarge`), before any parsing.
- The worker is a fresh interpreter (`python -m gateway.registry.worker`), not a fork of the
  gateway: none of its threads, sockets, caches or tokens are copied, and nothing depends on how
  the gateway was started. Its first act, before it reads the candidate: RLIMIT_CPU (the kernel
  stops it at the limit, SIGXCPU then SIGKILL), RLIMIT_AS (allocations beyond the limit fail:
  MemoryError), no core files, and a lower CPU priority (nice 10: on a busy machine the
  serving process goes first). The gateway also kills it after a wall-clock bound, for a
  worker that waits instead of computing.
- The candidate goes in on stdin and the answer comes back on stdout, pickled; the event loop
  only waits on the pipes.
- One candidate at a time per gateway process: a queue of checks never multiplies the memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import pickle
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass

from gateway.registry.candidate import Candidate, Evaluation, Refused, evaluate
from gateway.registry.limits import DEFAULT_MAX_SDL_BYTES, SdlTooLarge

log = logging.getLogger("rugzak.registry")


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    cpu_seconds: int = 60
    memory_bytes: int = 1024**3
    max_sdl_bytes: int = DEFAULT_MAX_SDL_BYTES

    @property
    def wall_seconds(self) -> float:
        """The gateway's own bound, for a worker that waits instead of computing (its CPU time
        is the kernel's business): generous, since at nice 10 on a machine busy with other work
        a worker gets a small share of a core."""
        return self.cpu_seconds * 10 + 30


class CompositionLimitExceeded(Exception):
    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit  # "cpu", "memory" or "wall"
        self.message = message


def check_sizes(candidate: Candidate, max_bytes: int) -> None:
    """SdlTooLarge when the changed subgraph's SDL (every SDL, for a seed) is over the limit."""
    for source in candidate.sources:
        if candidate.subgraph is not None and source.name != candidate.subgraph:
            continue
        # a str holds at most 4 bytes of UTF-8 per character: encode only when it may matter
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
            tag, value = await self._run(pickle.dumps(candidate))
        if tag == "ok" and isinstance(value, Evaluation | Refused):
            return value
        if tag == "memory":
            raise self._memory()
        raise RuntimeError(f"the composition worker failed: {value}")

    async def _run(self, job: bytes) -> tuple[str, object]:
        limits = self.limits
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.registry.worker",
            str(limits.cpu_seconds),
            str(limits.memory_bytes),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(job), limits.wall_seconds)
        except TimeoutError:
            raise CompositionLimitExceeded(
                "wall", f"composing the candidate took longer than {limits.wall_seconds:g} s"
            ) from None
        finally:
            if process.returncode is None:  # over time, or cancelled: nobody waits for it
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        code = process.returncode
        if code == 0:
            answer: tuple[str, object] = pickle.loads(out)
            return answer
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            raise CompositionLimitExceeded(
                "cpu",
                f"composing the candidate needed more than the limit of {limits.cpu_seconds} s "
                "of CPU time",
            )
        tail = err.decode("utf-8", "replace")[-2000:].strip()
        log.error("registry: the composition worker ended with %s: %s", code, tail)
        if code is None or code < 0 or "MemoryError" in tail:
            raise self._memory()  # out of memory in C code, it may die instead of raising
        raise RuntimeError(f"the composition worker ended with exit code {code}")

    def _memory(self) -> CompositionLimitExceeded:
        return CompositionLimitExceeded(
            "memory",
            "composing the candidate needed more than the limit of "
            f"{self.limits.memory_bytes // 1024**2:,} MB of memory",
        )


def _worker(cpu_seconds: int, memory_bytes: int) -> None:
    """The worker process: limits first, then the candidate from stdin, the answer to stdout."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 2))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    with contextlib.suppress(OSError):
        os.nice(10)  # on a busy machine, serving goes first
    answer: tuple[str, object]
    try:
        answer = ("ok", evaluate(pickle.load(sys.stdin.buffer)))
    except MemoryError:
        answer = ("memory", None)
    except RecursionError:
        answer = ("failed", "the SDL is nested too deeply")
    except Exception as exc:  # a bug of ours: the gateway logs it, the caller gets a 503
        if _out_of_memory(exc):
            answer = ("memory", None)
        else:
            answer = ("failed", f"{type(exc).__name__}: {exc}")
    try:
        out = pickle.dumps(answer)
    except MemoryError:
        out = pickle.dumps(("memory", None))
    sys.stdout.buffer.write(out)
    sys.stdout.flush()


def _out_of_memory(exc: BaseException) -> bool:
    """Memory refused by the limit outside Python's allocator: a C extension's mmap (ENOMEM),
    or the loader mapping a shared object that a lazy import brings in."""
    text = str(exc).lower()
    return (
        (isinstance(exc, OSError) and exc.errno == errno.ENOMEM)
        or "cannot allocate memory" in text
        or "failed to map segment" in text
    )


if __name__ == "__main__":
    _worker(int(sys.argv[1]), int(sys.argv[2]))
