"""Subgraph errors as the client sees them: at the client's paths (one copy per object a
representation stood for), with the subgraph named; a failed call as an error per field it was
to answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway import request_log
from gateway.errors import graphql_error
from gateway.execution.transport import SubgraphFailure
from gateway.planning.internal_fields import public_path
from gateway.planning.plan import FetchNode

# a subgraph error's path -> the client's paths it stands for
Translate = Callable[[list[Any]], list[list[Any]]]


def failure_error(node: FetchNode, failure: SubgraphFailure, path: list[Any]) -> dict[str, Any]:
    return graphql_error(
        f"HTTP fetch failed from '{node.service}': {failure.reason}",
        failure.code,
        path=path,
        service=node.service,
    )


def subgraph_errors(node: FetchNode, error: Any, translate: Translate) -> list[dict[str, Any]]:
    """A subgraph error at the client's path(s): one copy per object a representation stood for."""
    if not isinstance(error, dict):
        request_log.subgraph_error(node.service, "SUBREQUEST_MALFORMED_RESPONSE", str(error))
        return [graphql_error(str(error), "SUBREQUEST_MALFORMED_RESPONSE", service=node.service)]
    message = str(error.get("message", "subgraph error"))
    extensions = dict(error.get("extensions") or {})
    code = extensions.get("code")
    request_log.subgraph_error(node.service, code if isinstance(code, str) else None, message)
    extensions.setdefault("service", node.service)
    path = error.get("path")
    paths = [public_path(p) for p in translate(path)] if isinstance(path, list) else []
    kept = [p for p in paths if p is not None]
    errors = [{"message": message, "path": p, "extensions": extensions} for p in kept]
    if len(kept) < len(paths) or not paths:  # once for those with no path of the client's
        errors.append({"message": message, "extensions": extensions})
    return errors
