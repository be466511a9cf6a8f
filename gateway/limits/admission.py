"""Whether an operation may go on, decided in order of cost, each check before the work it
bounds:

1. the query's size in bytes, before anything else;
2. lexer tokens and comments: the parser stops at the client's limit, so a huge document is
   never built into an AST;
3. the shape (depth, fields with fragments expanded, aliases, root fields, directives, repeated
   fields), measured in linear time before validation, whose overlapping-fields rule is
   quadratic;
4. validation (of an operation not seen before: in a worker thread, off the event loop);
5. the estimated cost (gateway/limits/cost.py), with the request's variables, before the
   operation is normalized, planned or executed.

Parsed documents are cached with their shape (shared by every client: each request checks the
shape against its own client's limits). A document beyond every client's limits is cached
without its AST, so that sending it again costs a lookup and it holds little memory.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    Node,
    OperationDefinitionNode,
    parse,
    specified_rules,
)
from graphql.language.parser import Parser, nested_too_deeply_error

from gateway.errors import graphql_error
from gateway.limits import priority
from gateway.limits.acyclic_validation import validate_acyclic
from gateway.limits.cost import CostModel
from gateway.limits.refusal import (
    COST_LIMIT_EXCEEDED,
    MAX_COMMENTS,
    MAX_TOKENS,
    LimitExceeded,
)
from gateway.limits.settings import LimitSettings, OperationLimits
from gateway.limits.shape import Shape, check, check_size, measure, token_count
from gateway.operation import condition_variables
from gateway.operation_cache import OperationCaches, Weighed, document_weight
from gateway.schema.supergraph import Supergraph


@dataclass(frozen=True, slots=True)
class Document:
    """A query text's parse and validation (cached), or why it was refused (not cached)."""

    document: DocumentNode | None
    errors: tuple[dict[str, Any], ...]
    conditions: frozenset[str]
    shape: Shape | None = None  # None: the text did not parse
    validated: bool = True
    refused: LimitExceeded | None = None
    # estimates that used no variable, by (operation name, assumed list size)
    costs: dict[tuple[str | None, int], int] = field(default_factory=dict)


class Refused(Exception):
    """An operation over its cost limit (or whose cost cannot be estimated)."""

    def __init__(self, error: LimitExceeded, cost: int | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.cost = cost


def located(error: GraphQLError, code: str) -> dict[str, Any]:
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
    return graphql_error(error.message, code, locations=locations or None)


def utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


class Admission:
    """The limits of one supergraph's request handler."""

    def __init__(
        self, supergraph: Supergraph, caches: OperationCaches, settings: LimitSettings
    ) -> None:
        self.supergraph = supergraph
        self.schema_hash = supergraph.schema_hash
        self.caches = caches
        self.settings = settings
        self.widest = settings.widest()
        self.cost_model = CostModel(supergraph.schema, supergraph.api_schema)

    def document(self, query: str, limits: OperationLimits | None = None) -> Document:
        """The query's document for a client with these limits (the defaults when None)."""
        limits = limits or self.settings.default
        too_large = _too_large(query, limits)
        if too_large is not None:
            return too_large
        key = (self.schema_hash, query)
        cached = self.caches.documents.get(key)
        answer, keep = self._examine(query, limits, cached.value if cached else None)
        if keep is not None:
            self._keep(key, query, keep)
        return answer

    async def document_off_loop(
        self, query: str, limits: OperationLimits | None = None
    ) -> Document:
        """The same, but a document not parsed or not validated yet is parsed, measured and
        validated in a worker thread: the event loop goes on serving meanwhile (it gets the
        interpreter back every few milliseconds), so an unseen operation never holds it for
        longer than that. Two workers: unseen anonymous operations wait for each other (and
        pause while callers with a token are served: gateway/limits/priority.py), unseen
        operations of callers with a token wait only for each other."""
        limits = limits or self.settings.default
        too_large = _too_large(query, limits)
        if too_large is not None:
            return too_large
        key = (self.schema_hash, query)
        cached = self.caches.documents.get(key)
        entry = cached.value if cached else None
        if entry is not None and (entry.shape is None or entry.validated):
            answer, keep = self._examine(query, limits, entry)  # only checks the limits
        else:
            loop = asyncio.get_running_loop()
            gives_way = priority.current()
            await priority.checkpoint()
            pace, rules = None, None
            if gives_way is not None:  # anonymous: parse and validate pause for tokens
                pace = priority.Pauser(gives_way).step
                rules = (*specified_rules, gives_way.pause_rule())
            answer, keep = await loop.run_in_executor(
                admission_thread(gives_way is not None),
                self._examine, query, limits, entry, rules, pace,
            )  # fmt: skip
            await priority.checkpoint()
        if keep is not None:
            self._keep(key, query, keep)
        return answer

    def _examine(
        self,
        query: str,
        limits: OperationLimits,
        entry: Document | None,
        rules: tuple[type[ASTValidationRule], ...] | None = None,
        pace: Callable[[], None] | None = None,
    ) -> tuple[Document, Document | None]:
        """The answer for this client, and what to cache (None: nothing new). Parses when there
        is no entry yet (calling `pace` at each token), validates when the entry is within the
        client's limits and was not validated yet. Touches no cache (it may run in the worker
        thread)."""
        keep = None
        if entry is None:
            entry = self._parse(query, limits, pace)
            if entry.refused is not None:  # the parser's limits: no shape to keep
                return entry, None
            keep = entry
        if entry.shape is None:  # did not parse
            return entry, keep
        try:
            check(entry.shape, limits)
        except LimitExceeded as exc:
            return _refused(exc), keep
        if not entry.validated:
            assert entry.document is not None
            errors = validate_acyclic(self.supergraph.api_schema, entry.document, rules)
            if not errors:
                drop_tokens(entry.document)
            entry = keep = Document(
                None if errors else entry.document,
                tuple(located(e, "GRAPHQL_VALIDATION_FAILED") for e in errors),
                entry.conditions,
                entry.shape,
            )
        return entry, keep

    def _parse(
        self, query: str, limits: OperationLimits, pace: Callable[[], None] | None
    ) -> Document:
        try:
            document = parse_within(query, limits, pace)
        except GraphQLSyntaxError as exc:
            refused = _parse_limit(exc, limits)
            if refused is not None:
                return _refused(refused)
            return Document(None, (located(exc, "GRAPHQL_PARSE_FAILED"),), frozenset())
        size = utf8_size(query)
        shape = measure(document, size, token_count(document), self.widest.max_fields)
        try:
            check(shape, self.widest)
        except LimitExceeded:  # refused whatever the client: keep the shape, not the AST
            return Document(None, (), frozenset(), shape, validated=True)
        return Document(document, (), condition_variables(document), shape, validated=False)

    def _keep(self, key: tuple[str, str], query: str, entry: Document) -> None:
        weight = document_weight(query) if entry.document is not None else 1_000 + len(query)
        self.caches.documents.offer(key, Weighed(entry, weight))

    def cost(
        self,
        doc: Document,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        limits: OperationLimits,
    ) -> int:
        """The operation's estimated cost; Refused when it is over the client's limit."""
        assert doc.document is not None
        memo = (operation.name.value if operation.name else None, limits.list_size)
        cost = doc.costs.get(memo)
        if cost is None:
            try:
                estimate = self.cost_model.estimate(
                    doc.document, operation, variables, limits.list_size
                )
            except LimitExceeded as exc:
                raise Refused(exc, None) from None
            cost = estimate.cost
            if not estimate.used_variables:
                doc.costs[memo] = cost
        if cost > limits.max_cost:
            error = LimitExceeded(
                COST_LIMIT_EXCEEDED,
                f"The operation's estimated cost is {cost}; at most {limits.max_cost} is allowed.",
                limits.max_cost,
                cost,
            )
            raise Refused(error, cost)
        return cost


class _PacedParser(Parser):
    """graphql-core's parser, calling `pace` before each token."""

    def __init__(self, query: str, limits: OperationLimits, pace: Callable[[], None]) -> None:
        super().__init__(
            query, max_lexical_tokens=limits.max_tokens, max_comments=limits.max_comments
        )
        self._pace = pace

    def advance_lexer(self) -> None:
        self._pace()
        super().advance_lexer()


def parse_within(
    query: str, limits: OperationLimits, pace: Callable[[], None] | None = None
) -> DocumentNode:
    """The query parsed within the client's token and comment limits. With `pace`, called at
    every token: an anonymous caller's parse pauses while callers with a token are served (the
    admission thread holding the interpreter slows the event loop: the worst admitted document
    takes some 9 ms to parse)."""
    if pace is None:
        return parse(query, max_lexical_tokens=limits.max_tokens, max_comments=limits.max_comments)
    parser = _PacedParser(query, limits, pace)
    try:
        return parser.parse_document()
    except RecursionError:  # as graphql-core's parse reports it
        raise nested_too_deeply_error(parser) from None


def drop_tokens(document: DocumentNode) -> None:
    """Lets the lexer's tokens go once the document is validated and kept: nodes keep their
    locations (offsets into the source, for error messages), not the token list, whose links
    make a cycle per document that only the cyclic garbage collector frees. A cached document
    holds about a quarter fewer objects, and one evicted is freed at once: the collector's
    full passes, which stop the whole process, have less to walk."""
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        token.prev, token.next, token = None, None, token.next
    stack: list[Node] = [document]
    while stack:
        node = stack.pop()
        loc = node.loc
        if loc is not None:
            loc.start_token = loc.end_token = None  # type: ignore[assignment]
        for key in node.keys:
            value = getattr(node, key, None)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, tuple | list):
                stack.extend(item for item in value if isinstance(item, Node))


def _refused(error: LimitExceeded) -> Document:
    return Document(None, (), frozenset(), refused=error)


def _too_large(query: str, limits: OperationLimits) -> Document | None:
    try:
        check_size(utf8_size(query), None, limits)
    except LimitExceeded as exc:
        return _refused(exc)
    return None


_WORKERS: dict[bool, ThreadPoolExecutor] = {}


SWITCH_INTERVAL = 0.001  # seconds a thread may hold the interpreter while another waits


def admission_thread(anonymous: bool) -> ThreadPoolExecutor:
    """The process's admission thread for anonymous callers or for callers with a token, made
    on first use (after a fork, in the worker). While one validates, the event loop waits for
    the interpreter at most the switch interval: 1 ms instead of Python's 5 (measured: the
    loop's lag under unseen hostile operations went from a median of 7 ms and p99 of 55 ms to
    2-3 ms and 16 ms)."""
    worker = _WORKERS.get(anonymous)
    if worker is None:
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        name = "rugzak-admission-anonymous" if anonymous else "rugzak-admission"
        worker = _WORKERS[anonymous] = ThreadPoolExecutor(1, thread_name_prefix=name)
    return worker


def _parse_limit(error: GraphQLSyntaxError, limits: OperationLimits) -> LimitExceeded | None:
    """The parser's own limits, told apart from syntax errors by their message."""
    if "tokens. Parsing aborted" in error.message:
        return LimitExceeded(
            MAX_TOKENS,
            f"The query has more than {limits.max_tokens} tokens; at most {limits.max_tokens} "
            "are allowed.",
            limits.max_tokens,
        )
    if "comments. Parsing aborted" in error.message:
        return LimitExceeded(
            MAX_COMMENTS,
            f"The query has more than {limits.max_comments} comments; at most "
            f"{limits.max_comments} are allowed.",
            limits.max_comments,
        )
    return None
