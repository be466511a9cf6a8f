"""Step 4: the document, the operation chosen from it, its variables and its cost."""

from __future__ import annotations

from gateway.limits import LimitSettings
from gateway.operation_cache import OperationCaches
from gateway.pipeline.context import Asks, RequestContext
from gateway.pipeline.failure import Failure
from gateway.pipeline.parse_validate import ParseValidate
from gateway.schema.supergraph import load_supergraph
from tests.e2e.stack import SUPERGRAPH

SG = load_supergraph(SUPERGRAPH.read_text())
NIS = "query M($nis: ID!) { municipality(nisCode: $nis) { name } }"


def _step(limits: LimitSettings | None = None) -> ParseValidate:
    return ParseValidate(SG, OperationCaches(), limits or LimitSettings())


def test_a_valid_operation_is_chosen_and_its_variables_coerced() -> None:
    ctx = RequestContext(NIS, "M", {"nis": "44021"})
    assert _step()(ctx) is None
    assert ctx.definition is not None and ctx.coerced is not None
    assert ctx.coerced.coerced == {"nis": "44021"} and ctx.sent is not None


def test_requests_that_never_ran() -> None:
    broken = _step()(RequestContext("{ "))
    assert isinstance(broken, Failure) and broken.never_ran and not broken.data_null
    assert broken.code == "GRAPHQL_PARSE_FAILED"
    invalid = _step()(RequestContext("{ nosuchfield }"))
    assert isinstance(invalid, Failure) and invalid.never_ran and invalid.data_null
    wrong = _step()(RequestContext(NIS, None, {"nis": {"not": "an id"}}))
    assert isinstance(wrong, Failure) and wrong.never_ran and wrong.code == "BAD_USER_INPUT"


def test_operations_a_request_may_not_run() -> None:
    mutation = "mutation { __typename }"
    over_get = _step()(RequestContext(mutation, allow_mutation=False))
    assert isinstance(over_get, Failure) and over_get.status == 405
    unknown = _step()(RequestContext("query A { __typename }", "B"))
    assert isinstance(unknown, Failure) and unknown.code == "OPERATION_NOT_FOUND"


def test_a_refused_cost_says_what_it_was_when_asked() -> None:
    limits = LimitSettings.parse('{"max_cost": 1}')
    many = (
        "{ " + " ".join(f'm{i}: municipality(nisCode: "{i}") {{ name }}' for i in range(5)) + " }"
    )
    refused = _step(limits)(RequestContext(many, asks=Asks(cost=True)))
    assert isinstance(refused, Failure) and refused.code == "COST_LIMIT_EXCEEDED"
    assert refused.extensions is not None and refused.extensions["cost"]["limit"] == 1
