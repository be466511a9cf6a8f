"""Step 10, respond: the answer's body (data, errors and the extensions the caller asked for)
and Cache-Control, then the HTTP response: status (gateway/pipeline/status.py, from a failure's
code and the media type), headers, and ETags for GETs of persisted queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType
from starlette.responses import Response

from gateway.cache.status import HEADER as CACHE_STATUS_HEADER
from gateway.http.caching import (
    NO_STORE,
    cache_control,
    etag,
    matches,
    reads_guarded,
    with_credentials,
)
from gateway.limits import OperationLimits
from gateway.pipeline.context import RequestContext, need
from gateway.pipeline.failure import Failure
from gateway.pipeline.parse_validate import cost_json
from gateway.planning.render import plan_json
from gateway.schema.supergraph import Supergraph
from gateway.telemetry import redact_errors

# how many subgraph calls the answer took: for benchmarks and for people reading plans
SUBGRAPH_REQUESTS_HEADER = "x-subgraph-requests"


@dataclass(frozen=True, slots=True)
class Answer:
    """An operation that ran: always 200, whatever errors its body holds."""

    body: dict[str, Any]
    subgraph_requests: int = 0
    # HIT, PARTIAL, MISS or BYPASS, when the request asked what came from the cache
    cache_status: str | None = None
    # the answer's own Cache-Control (gateway/http/caching.py)
    cache_control: str = NO_STORE
    status: int = 200


def answer(
    ctx: RequestContext,
    data: dict[str, Any] | None,
    supergraph: Supergraph,
    limits: OperationLimits,
) -> Answer:
    state, plan = need(ctx.state), need(ctx.plan)
    errors = state.errors
    body: dict[str, Any] = {"data": data}
    if errors:
        body = {"errors": errors, "data": data}
    extensions: dict[str, Any] = {}
    if ctx.asks.plan:
        extensions["queryPlan"] = plan_json(plan)
    if state.cache_status is not None:
        extensions["cacheStatus"] = state.cache_status.to_json()
    if ctx.asks.cost:
        extensions["cost"] = cost_json(ctx.cost, limits)
    if extensions:
        body["extensions"] = extensions
    summary = state.cache_status.summary if state.cache_status is not None else None
    query = need(ctx.definition).operation == OperationType.QUERY
    authorized = need(ctx.authorized)
    guarded = authorized.guard is not None or reads_guarded(authorized.operation, supergraph)
    control = cache_control(
        state.cache_hints,
        query=query,
        errors=bool(errors),
        guarded=query and guarded,
        credentials=not ctx.principal.is_anonymous,
    )
    return Answer(body, state.subgraph_calls, summary, control)


def respond(outcome: Answer | Failure, media_type: str, headers: Mapping[str, str]) -> Response:
    """The HTTP response to an operation the pipeline handled (answered, or refused on the way);
    `headers` are the request's (an answer to a caller with credentials is never public)."""
    extra = {SUBGRAPH_REQUESTS_HEADER: "0"}
    if isinstance(outcome, Failure):
        response = json_response(outcome.status_under(media_type), outcome.body, extra)
        control = NO_STORE
    else:
        extra[SUBGRAPH_REQUESTS_HEADER] = str(outcome.subgraph_requests)
        if outcome.cache_status is not None:
            extra[CACHE_STATUS_HEADER] = outcome.cache_status
        response = json_response(outcome.status, outcome.body, extra)
        control = outcome.cache_control
    response.headers["cache-control"] = with_credentials(control, headers)
    return response


def refuse(failure: Failure, media_type: str) -> Response:
    """The HTTP response to a request refused before its operation was handled (its token, its
    parameters, its admission)."""
    return json_response(failure.status_under(media_type), failure.body, failure.headers or None)


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    if isinstance(body, dict) and "errors" in body:
        redact_errors(body)  # a message may quote a query's literal: never an INSZ or a token
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def validated(response: Response, if_none_match: str | None) -> Response:
    """A GET naming a persisted query: its answer gets an ETag, and a 304 when the client has
    it already."""
    tag = etag(bytes(response.body))
    response.headers["etag"] = tag
    if not matches(if_none_match, tag):
        return response
    kept = {
        k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
    }
    return Response(status_code=304, headers=kept)
