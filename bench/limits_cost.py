"""How long the worst operations the limits admit hold the event loop, unseen: parse, measure,
validate, estimate the cost, normalize and plan (everything before the first subgraph call),
with no cache to help.

    .venv/bin/python -m bench.limits_cost [--repeat 20] [--limits JSON|@FILE]

For each of bench/worst_operations.py's operations (one per limit, as large as it allows) it
prints the median and the worst CPU time in milliseconds, and the medians of its two parts: in
the admission thread (parse, measure, validate) and on the event loop (the rest); and whether
it was admitted (it must be: otherwise it is not the worst admitted one). Then the same for the
attacks of issue 13, which must be refused, and how long refusing took. Not a test: numbers
depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from dataclasses import dataclass

from auth.principal import ANONYMOUS, Principal
from bench.worst_operations import worst_operations
from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.limits import LimitSettings
from gateway.pipeline.context import RequestContext
from gateway.pipeline.failure import Failure
from gateway.pipeline.handler import HandlerSettings, RequestHandler
from gateway.schema.supergraph import load_supergraph
from tests.e2e.stack import PROFILE_QUERY, SUPERGRAPH
from tests.security import attacks as hostile

CITIZEN = Principal(subject="bench", insz="85671012385", acr="substantial")


def attacks() -> list[tuple[str, str]]:
    """Issue 13's findings 5 and 6, as sent (tests/security/attacks.py)."""
    return [
        ("__typename @include(if: true), 1 MB", hostile.typename_include()),
        ("one field 50,000 times", hostile.same_field()),
        ("10,000 aliases", hostile.aliases()),
        ("fragments multiplying aliases 30x30x30", hostile.multiplied_aliases()),
    ]


@dataclass
class Timed:
    worker: list[float]  # parse, measure, validate: in the admission thread
    loop: list[float]  # variables, cost, normalize, authorize, plan: on the event loop
    outcome: Failure | None  # the refusal, or None when admitted

    @property
    def total(self) -> list[float]:
        return [a + b for a, b in zip(self.worker, self.loop, strict=True)]


def timed(
    settings: LimitSettings,
    query: str,
    variables: dict[str, object],
    principal: Principal,
    repeat: int,
) -> Timed:
    supergraph = load_supergraph(SUPERGRAPH.read_text(encoding="utf-8"))
    result = Timed([], [], None)
    for _ in range(repeat):
        # a fresh handler each time: nothing cached, as for an operation never seen before
        handler = RequestHandler(
            supergraph, Executor(SubgraphClient(), {}), settings=HandlerSettings(limits=settings)
        )
        context = RequestContext(query, None, variables, principal)
        limits = handler.limits_for(context)
        gc.collect()
        start = time.process_time()
        context.document = handler.parse_validate.admission.document(query, limits)
        between = time.process_time()
        prepared = handler.prepare(context)
        end = time.process_time()
        result.worker.append((between - start) * 1000)
        result.loop.append((end - between) * 1000)
        result.outcome = prepared if isinstance(prepared, Failure) else None
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--limits", help="operation limits, as rugzak serve --operation-limits")
    args = parser.parse_args()
    settings = LimitSettings.parse(args.limits) if args.limits else LimitSettings()
    limits = settings.default
    print(f"limits: {limits}")
    print(
        f"{'operation':44} {'bytes':>7} {'all ms':>7} {'max':>7} {'worker':>7} {'loop':>6}  outcome"
    )
    rows = [("profile (citizen, for scale)", PROFILE_QUERY, {}, CITIZEN)]
    rows += [
        (f"{w.name}: {w.why}", w.query, w.variables, ANONYMOUS) for w in worst_operations(limits)
    ]
    worst = worst_loop = 0.0
    for name, query, variables, principal in rows:
        found = timed(settings, query, variables, principal, args.repeat)
        outcome = "admitted" if found.outcome is None else _code(found.outcome)
        if found.outcome is None and not name.startswith("profile"):
            worst = max(worst, statistics.median(found.total))
            worst_loop = max(worst_loop, statistics.median(found.loop))
        _row(name, query, found, outcome)
    print(
        f"worst admitted operation, unseen (medians of CPU ms): {worst:.1f} ms before its first "
        f"subgraph call, of which {worst_loop:.1f} ms on the event loop (the rest in the "
        "admission thread)"
    )
    print()
    for name, query in attacks():
        found = timed(settings, query, {}, ANONYMOUS, max(3, args.repeat // 4))
        outcome = "ADMITTED" if found.outcome is None else _code(found.outcome)
        _row(name, query, found, outcome)
    return 0


def _row(name: str, query: str, found: Timed, outcome: str) -> None:
    median, worst = statistics.median(found.total), max(found.total)
    worker, loop = statistics.median(found.worker), statistics.median(found.loop)
    print(
        f"{name[:44]:44} {len(query.encode()):7} {median:7.2f} {worst:7.2f} {worker:7.2f} "
        f"{loop:6.2f}  {outcome}"
    )


def _code(response: Failure) -> str:
    return f"{response.status} {response.body['errors'][0]['extensions']['code']}"


if __name__ == "__main__":
    raise SystemExit(main())
