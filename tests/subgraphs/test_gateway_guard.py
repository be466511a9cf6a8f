"""subgraphs/common/gateway_guard.py: when a subgraph checks signatures, and over what target.

The refusals themselves are tested over real servers in tests/e2e/test_authorization_attacks.py.
"""

from __future__ import annotations

import pytest
from starlette.requests import Request

from auth.gateway_signature import GatewaySignatureVerifier
from subgraphs.common.gateway_guard import request_target, signature_verifier_from_env


def test_without_a_secret_a_subgraph_checks_nothing() -> None:
    assert signature_verifier_from_env("education", {}) is None


def test_with_a_secret_it_checks_signatures() -> None:
    env = {"RUGZAK_SUBGRAPH_SECRET": "k" * 32}
    assert isinstance(signature_verifier_from_env("education", env), GatewaySignatureVerifier)


def test_a_secret_too_short_stops_the_subgraph_rather_than_leave_it_open() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        signature_verifier_from_env("education", {"RUGZAK_SUBGRAPH_SECRET": "guessable"})


def request(path: str, raw_path: bytes | None, query: bytes = b"") -> Request:
    scope = {"type": "http", "method": "POST", "path": path, "query_string": query, "headers": []}
    if raw_path is not None:
        scope["raw_path"] = raw_path
    return Request(scope)


def test_the_target_is_the_path_as_received_with_its_query() -> None:
    assert request_target(request("/graphql", b"/graphql")) == "/graphql"
    assert request_target(request("/a b", b"/a%20b", b"x=1")) == "/a%20b?x=1"
    assert request_target(request("/graphql", None, b"q=%7B")) == "/graphql?q=%7B"
