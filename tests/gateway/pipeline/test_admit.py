"""Step 3: the allow-list and persisted queries, before any GraphQL work."""

from __future__ import annotations

from auth.principal import ANONYMOUS
from gateway.allow_list import AllowList, sha256
from gateway.http.client_ip import ClientAddress
from gateway.limits.priority import Priority
from gateway.metrics import Metrics
from gateway.persisted_queries import PersistedQueries, Resolved
from gateway.pipeline.admit import Admit
from gateway.pipeline.failure import Failure
from gateway.pipeline.parameters import Parameters

QUERY = "{ __typename }"


def _admit(allow_list: AllowList | None = None) -> tuple[Admit, Metrics]:
    metrics = Metrics()
    admit = Admit(PersistedQueries(), allow_list, None, Priority(), ClientAddress(), metrics)
    return admit, metrics


def _count(metrics: Metrics, outcome: str) -> float:
    name = "rugzak_persisted_queries_total"
    found = metrics.registry.get_sample_value(name, {"outcome": outcome})
    return found or 0.0


async def test_the_allow_list_refuses_unlisted_operations() -> None:
    allowed = AllowList({"web": frozenset({sha256(QUERY)})})
    admit, metrics = _admit(allowed)
    web = {"apollographql-client-name": "web"}
    assert await admit.operation(Parameters(QUERY, None, {}, None), ANONYMOUS, web) == Resolved(
        QUERY
    )
    refused = await admit.operation(Parameters("{ a }", None, {}, None), ANONYMOUS, web)
    assert isinstance(refused, Failure) and refused.status == 403
    assert _count(metrics, "refused") == 1


async def test_an_unknown_persisted_query_is_the_protocols_first_answer() -> None:
    admit, metrics = _admit()
    named = {"persistedQuery": {"version": 1, "sha256Hash": sha256(QUERY)}}
    unknown = await admit.operation(Parameters(None, None, {}, named), ANONYMOUS, {})
    assert isinstance(unknown, Failure)
    assert (unknown.code, unknown.status) == ("PERSISTED_QUERY_NOT_FOUND", 200)
    resolved = await admit.operation(Parameters(QUERY, None, {}, named), ANONYMOUS, {})
    assert isinstance(resolved, Resolved) and resolved.register == sha256(QUERY)
    await admit.register(resolved, ANONYMOUS)
    assert _count(metrics, "registered") == 1
    hit = await admit.operation(Parameters(None, None, {}, named), ANONYMOUS, {})
    assert hit == Resolved(QUERY) and _count(metrics, "hit") == 1
