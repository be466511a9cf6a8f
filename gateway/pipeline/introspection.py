"""__schema and __type, answered from the API schema by graphql-core during execution (step 8).
The answer depends only on the query and its variables, so it is kept (bounded) for the next;
an anonymous caller's is worked out in its own thread, pausing while callers with a token are
served (gateway/limits/priority.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
)

from auth.principal import Principal
from gateway.errors import INTROSPECTION_DISABLED, graphql_error
from gateway.execution.state import ExecutionState
from gateway.limits import priority
from gateway.limits.admission import admission_thread
from gateway.limits.priority import Pauser
from gateway.lru import LRU
from gateway.operation import INTROSPECTION_FIELDS
from gateway.pipeline.context import RequestContext, need
from gateway.schema.supergraph import Supergraph

INTROSPECTION_ENTRIES, INTROSPECTION_BYTES = 256, 16 * 1024 * 1024

# an answer's key: the query text, the operation's name and the variables as sorted JSON
AnswerKey = tuple[str, str | None, bytes]


def introspection_weight(key: AnswerKey, answer: bytes) -> int:
    return 200 + len(key[0]) + len(key[2]) + len(answer)


class Introspection:
    def __init__(
        self, supergraph: Supergraph, allowed: str = "all", second_sight: bool = True
    ) -> None:
        self.supergraph = supergraph
        # who may query __schema and __type: "all", "authenticated" callers, or "none"
        self.allowed = allowed
        # answers by query text, operation name and variables (with `second_sight`, kept from
        # a text's second sight on: gateway/lru.py)
        self.answers: LRU[AnswerKey, bytes] = LRU(
            INTROSPECTION_ENTRIES,
            INTROSPECTION_BYTES,
            introspection_weight,
            second_sight=second_sight,
        )

    def may(self, principal: Principal) -> bool:
        if self.allowed == "all":
            return True
        return self.allowed == "authenticated" and not principal.is_anonymous

    def refusal(self, principal: Principal) -> dict[str, Any]:
        message = (
            "Introspection (__schema, __type) is disabled for anonymous callers: send a token."
            if principal.is_anonymous
            else "Introspection (__schema, __type) is disabled on this gateway."
        )
        return graphql_error(message, INTROSPECTION_DISABLED)

    async def answer(self, ctx: RequestContext, state: ExecutionState) -> None:
        """The introspection fields' data and errors, into `state`."""
        document = need(need(ctx.document).document)
        operation = need(ctx.definition)
        variables, query = ctx.variables, ctx.query
        name = operation.name.value if operation.name else None
        key = (query, name, orjson.dumps(dict(variables), option=orjson.OPT_SORT_KEYS))
        known = self.answers.get(key) if query else None
        if known is None:
            gives_way = priority.current()
            if gives_way is None:
                answer = self.execute(document, operation, variables)
            else:  # anonymous: in its thread, pausing while callers with a token are served
                answer = await asyncio.get_running_loop().run_in_executor(
                    admission_thread(True),
                    self.execute,
                    document,
                    operation,
                    variables,
                    Pauser(gives_way),
                )
            known = orjson.dumps(answer)
            if query:
                self.answers.offer(key, known)
        answer = orjson.loads(known)  # a copy: the response is built from it
        state.data.update(answer["data"] or {})
        state.errors.extend(answer["errors"])

    def execute(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        pauser: Pauser | None = None,
    ) -> dict[str, Any]:
        fields = [
            s
            for s in operation.selection_set.selections
            if isinstance(s, FieldNode) and s.name.value in INTROSPECTION_FIELDS
        ]
        only = OperationDefinitionNode(
            operation=OperationType.QUERY,
            variable_definitions=operation.variable_definitions,
            selection_set=SelectionSetNode(selections=tuple(fields)),
        )
        others = tuple(
            d for d in document.definitions if not isinstance(d, OperationDefinitionNode)
        )
        result = execute(
            self.supergraph.api_schema,
            DocumentNode(definitions=(only, *others)),
            variable_values=dict(variables),
            middleware=None if pauser is None else [pauser],
        )
        assert isinstance(result, ExecutionResult)
        errors = [dict(error.formatted) for error in result.errors or ()]
        return {"data": result.data, "errors": errors}
