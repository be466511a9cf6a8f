"""Step 6, authorise: the caller's view of the operation (gateway/authorization.py: fields under
@authenticated, @requiresScopes or @policy it may not read are cut off, to be answered null with
an error), or, with --reject-unauthorized, the whole operation refused (403)."""

from __future__ import annotations

from gateway import tracing
from gateway.authorization import Authorizer, hint_no_token
from gateway.errors import UNAUTHORIZED, graphql_error
from gateway.pipeline.context import RequestContext, need
from gateway.pipeline.failure import Failure
from gateway.policies import PolicyRegistry
from gateway.schema.supergraph import Supergraph


class Authorise:
    def __init__(
        self, supergraph: Supergraph, policies: PolicyRegistry | None, reject_unauthorized: bool
    ) -> None:
        self.authorizer = Authorizer(supergraph, policies)
        self.reject_unauthorized = reject_unauthorized

    def __call__(self, ctx: RequestContext) -> Failure | None:
        operation = need(ctx.normalized).operation
        with tracing.step("authorize"):
            authorized = self.authorizer.authorize(operation, ctx.principal, ctx.coerced)
        ctx.authorized = authorized
        if authorized.denied and self.reject_unauthorized:
            error = graphql_error(
                "The operation reads fields the caller may not read.", UNAUTHORIZED
            )
            if ctx.principal.is_anonymous:
                hint_no_token([error])
            return Failure((error,))
        return None
