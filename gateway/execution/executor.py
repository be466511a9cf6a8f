"""Runs a query plan: fetches in dependency order (in parallel where the plan allows), entity
representations from the merged tree, subgraph errors translated to client paths."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import orjson

from auth.principal import Principal
from gateway import request_log, tracing
from gateway.cache.entities import (
    CacheControl,
    EntityCache,
    Lookup,
    parse_cache_control,
    response_tags,
)
from gateway.cache.status import CacheStatus
from gateway.errors import graphql_error
from gateway.execution.contexts import context_groups
from gateway.execution.credentials import SubgraphHeaders
from gateway.execution.merge import (
    Path,
    deep_merge,
    flat_path,
    objects_at,
    paths_at,
    rename_fields,
    representation,
)
from gateway.execution.resilience import Resilience
from gateway.execution.subgraph_client import CACHE_CONTROL_KEY, SubgraphClient, SubgraphFailure
from gateway.http_caching import hint_of
from gateway.lru import LRU
from gateway.metrics import Metrics
from gateway.ownership.guard import Ownership
from gateway.planning.internal_fields import public_path
from gateway.planning.plan import FetchNode, QueryPlan


@dataclass(slots=True)
class ExecutionState:
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    subgraph_calls: int = 0
    # paths left null by a subgraph's own null propagation after one of its errors: the error
    # already explains them, so shaping must not add "Cannot return null" for them
    explained: list[list[Any]] = field(default_factory=list)
    # who asks: private cache entries are theirs; None (mutations) bypasses the entity cache
    principal: Principal | None = None
    # what came from the entity cache, when the response is to say so
    cache_status: CacheStatus | None = None
    # fields readable only on the caller's own entities: representations are screened
    ownership: Ownership | None = None
    # when the request must be answered (event loop time); set when execution starts if None
    deadline: float | None = None
    # per fetch, the Cache-Control its subgraph gave (None: none), for the answer's own
    # Cache-Control (gateway/http_caching.py)
    cache_hints: list[CacheControl | None] = field(default_factory=list)


@dataclass(slots=True)
class _Cached:
    """What the entity cache knew of a part: its lookup, over the part's original
    representations, and the original index of each representation still to fetch."""

    lookup: Lookup
    reps: list[dict[str, Any]]
    missing: list[int]


@dataclass(slots=True)
class _EntityPart:
    """One entity fetch's share of a request: its representations and where each answer goes."""

    node: FetchNode
    variables: dict[str, Any]
    reps: list[dict[str, Any]]
    targets: list[list[dict[str, Any]]]  # per representation, the objects it stands for
    data: dict[str, Any]  # the whole result, to find the targets' paths when errors need them
    cached: _Cached | None = None
    _paths: dict[int, list[Path]] | None = None

    def paths(self, index: int) -> list[list[Any]]:
        """The response paths of the objects representation `index` stands for."""
        if self._paths is None:
            self._paths = paths_at(self.data, self.node.path)
        found: list[list[Any]] = []
        for obj in {id(o): o for o in self.targets[index]}.values():
            found.extend(flat_path(p) for p in self._paths.get(id(obj), ()))
        return found


# (subgraph, request body, the caller's headers)
_InFlightKey = tuple[str, bytes, tuple[tuple[str, str], ...]]


class Executor:
    def __init__(
        self,
        client: SubgraphClient,
        urls: Mapping[str, str],
        metrics: Metrics | None = None,
        entity_cache: EntityCache | None = None,
        resilience: Resilience | None = None,
    ) -> None:
        self.client = client
        # breakers, caps, retries and the request deadline; shared by the executors of every
        # supergraph this gateway serves
        self.resilience = resilience or Resilience(metrics=metrics)
        self.urls = dict(urls)  # service name -> URL
        self.metrics = metrics
        self.entity_cache = entity_cache
        # identical subgraph queries in flight (same body, same caller) share one request
        self._in_flight: dict[_InFlightKey, asyncio.Future[dict[str, Any] | SubgraphFailure]] = {}
        # the shared request of a group of entity fetches, by their documents
        self._batched: LRU[tuple[str, ...], str] = LRU(1000)

    async def execute(
        self,
        plan: QueryPlan,
        variables: Mapping[str, Any],
        headers: SubgraphHeaders,
        state: ExecutionState | None = None,
    ) -> ExecutionState:
        """Runs fetches in waves: every fetch whose dependencies are done starts at once, and
        entity fetches of one wave to the same subgraph share one request."""
        state = state or ExecutionState()
        if state.deadline is None:
            state.deadline = self.resilience.deadline()
        fetches = plan.fetches
        if len(fetches) == 1:
            await self._run_group([fetches[0]], variables, headers, state)
            return state
        waiting = {node.id: set(node.depends_on) for node in fetches}
        by_id = {node.id: node for node in fetches}
        running: dict[asyncio.Future[None], list[FetchNode]] = {}

        def start(ready: list[FetchNode]) -> None:
            for group in _groups(ready):
                task = asyncio.ensure_future(self._run_group(group, variables, headers, state))
                running[task] = group

        start([node for node in fetches if not node.depends_on])
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            finished = {node.id for task in done for node in running.pop(task)}
            for task in done:
                task.result()  # a bug of ours surfaces here rather than being lost
            ready = []
            for node_id, deps in waiting.items():
                if deps and deps & finished:
                    deps -= finished
                    if not deps:
                        ready.append(by_id[node_id])
            start(ready)
        return state

    async def _run_group(
        self,
        group: list[FetchNode],
        variables: Mapping[str, Any],
        headers: SubgraphHeaders,
        state: ExecutionState,
    ) -> None:
        if len(group) == 1 and group[0].representations is None:
            node = group[0]
            await self._root_fetch(node, _used(node, variables), headers, state)
            return
        parts = [part for node in group for part in self._entity_parts(node, variables, state)]
        if self.entity_cache is not None and state.principal is not None:
            cache, principal, status = self.entity_cache, state.principal, state.cache_status
            left = []
            for part in parts:
                if not cache.worth_looking(part.node.service):
                    left.append(part)
                else:
                    rest = await _from_cache(cache, part, principal, status)
                    if rest is None or len(rest.reps) < len(part.reps):  # something was cached
                        state.cache_hints.append(cache.hint(part.node.service, part.node.selection))
                    if rest is not None:
                        left.append(rest)
            parts = left
        if len(parts) == 1:
            await self._entity_fetch(parts[0], headers, state)
        elif parts:
            await self._batched_entity_fetch(parts, headers, state)

    async def _root_fetch(
        self,
        node: FetchNode,
        variables: dict[str, Any],
        headers: SubgraphHeaders,
        state: ExecutionState,
    ) -> None:
        lookup: Lookup | None = None
        cache = self.entity_cache
        if (
            cache is not None
            and state.principal is not None
            and node.operation_kind == "query"
            and cache.worth_looking(node.service)
        ):
            lookup = await cache.lookup_root(
                node.service,
                node.document,
                variables,
                node.root_fields,
                state.principal,
                state.cache_status,
            )
            if lookup is not None and lookup.answers[0] is not None:
                state.cache_hints.append(cache.hint(node.service, node.document))
                deep_merge(state.data, lookup.answers[0])
                return
        state.subgraph_calls += 1
        result = await self._post(
            node.service,
            self.urls[node.service],
            _payload(node.document, variables),
            headers,
            shareable=node.operation_kind == "query",
            deadline=state.deadline,
        )
        self._hinted(state, result, node.service, node.document)
        if isinstance(result, SubgraphFailure):
            for keys in node.field_keys:
                state.errors.append(_failure_error(node, result, list(keys)))
            return
        data = result.get("data")
        if isinstance(data, dict):
            if node.renames:
                rename_fields([data], node.renames)
            if cache is not None and lookup is not None and not result.get("errors"):
                control = parse_cache_control(result.get(CACHE_CONTROL_KEY))
                private = cache.root_is_private(node.root_fields)
                await cache.save(lookup, {0: data}, control, response_tags(result), private)
            deep_merge(state.data, data)
        elif result.get("errors"):
            state.explained.extend(list(keys) for keys in node.field_keys)
        for error in result.get("errors") or ():
            state.errors.extend(_subgraph_errors(node, error, lambda p: [p]))

    def _entity_parts(
        self, node: FetchNode, variables: Mapping[str, Any], state: ExecutionState
    ) -> list[_EntityPart]:
        """The distinct representations of the objects at the fetch's path (none: no part);
        two parts where someone else's entities may be asked only what is not bound to them."""
        assert node.representations is not None
        if node.context_bindings:  # one part per set of values taken from contexts
            return [
                part
                for sent, values, objects in context_groups(node, state.data)
                for part in self._parts(sent, variables, values, objects, state)
            ]
        return self._parts(node, variables, None, objects_at(state.data, node.path), state)

    def _parts(
        self,
        node: FetchNode,
        variables: Mapping[str, Any],
        values: dict[str, Any] | None,
        objects: list[dict[str, Any]],
        state: ExecutionState,
    ) -> list[_EntityPart]:
        reps: list[dict[str, Any]] = []
        targets: list[list[dict[str, Any]]] = []
        flat = node.flat_representation
        if flat is not None:
            rest = _flat_representations(node, flat, objects, reps, targets)
        else:
            rest = objects
        if rest:
            _representations(node, rest, reps, targets)
        if not reps:
            return []
        if state.ownership is None:
            return [_EntityPart(node, _used(node, variables, values), reps, targets, state.data)]
        return [
            _EntityPart(sent, _used(sent, variables, values), sent_reps, sent_targets, state.data)
            for sent, sent_reps, sent_targets in state.ownership.screen(node, reps, targets)
        ]

    async def _entity_fetch(
        self, part: _EntityPart, headers: SubgraphHeaders, state: ExecutionState
    ) -> None:
        node = part.node
        state.subgraph_calls += 1
        payload = _payload(node.document, {"representations": part.reps, **part.variables})
        url = self.urls[node.service]
        result = await self._post(node.service, url, payload, headers, deadline=state.deadline)
        self._hinted(state, result, node.service, node.selection)
        if isinstance(result, SubgraphFailure):
            _entity_failure(part, result, state)
            return
        data = result.get("data")
        errors = result.get("errors") or []
        entities = data.get("_entities") if isinstance(data, dict) else None
        if node.renames and isinstance(entities, list):
            rename_fields(entities, node.renames)
        saving = self._save(part, entities, errors, "_entities", result, state)
        _apply_entities(part, entities, state, bool(errors))
        for error in errors:
            state.errors.extend(_subgraph_errors(node, error, _entity_paths(part, "_entities")))
        await saving

    async def _batched_entity_fetch(
        self, parts: list[_EntityPart], headers: SubgraphHeaders, state: ExecutionState
    ) -> None:
        """Several entity fetches to one subgraph in one request: `_entities` once per part,
        aliased `_e<i>`, each with its own representations variable `$r<i>`."""
        service = parts[0].node.service
        state.subgraph_calls += 1
        variables: dict[str, Any] = {}
        for index, part in enumerate(parts):
            variables.update(part.variables)
            variables[f"r{index}"] = part.reps
        document = self._batched_document([part.node for part in parts])
        payload = _payload(document, variables)
        url = self.urls[service]
        result = await self._post(service, url, payload, headers, deadline=state.deadline)
        self._hinted(state, result, service, *(part.node.selection for part in parts))
        if isinstance(result, SubgraphFailure):
            for part in parts:
                _entity_failure(part, result, state)
            return
        data = result.get("data")
        errors = result.get("errors") or []
        for index, part in enumerate(parts):
            entities = data.get(f"_e{index}") if isinstance(data, dict) else None
            if part.node.renames and isinstance(entities, list):
                rename_fields(entities, part.node.renames)
            saving = self._save(part, entities, errors, f"_e{index}", result, state)
            _apply_entities(part, entities, state, bool(errors))
            await saving
        aliases = {f"_e{index}": part for index, part in enumerate(parts)}
        for error in errors:
            path = error.get("path") if isinstance(error, dict) else None
            alias = path[0] if isinstance(path, list) and path else None
            owner = aliases.get(alias) if isinstance(alias, str) else None
            part = owner or parts[0]
            translate = _entity_paths(part, alias if owner and alias else "")
            state.errors.extend(_subgraph_errors(part.node, error, translate))

    def _save(
        self,
        part: _EntityPart,
        entities: Any,
        errors: list[Any],
        field: str,
        result: dict[str, Any],
        state: ExecutionState,
    ) -> Awaitable[None]:
        """Puts the part's answered entities in the cache, but none that an error touched
        (serialized now, written when awaited: see EntityCache.save)."""
        if part.cached is None or self.entity_cache is None or state.principal is None:
            return _done()
        if not isinstance(entities, list):
            return _done()
        touched = {
            e["path"][1]
            for e in errors
            if isinstance(e, dict)
            and isinstance(e.get("path"), list)
            and len(e["path"]) >= 2
            and e["path"][0] == field
        }
        if any(isinstance(e, dict) and not e.get("path") for e in errors):
            return _done()  # an error without a path may concern any entity
        answers = {
            part.cached.missing[i]: entity
            for i, entity in enumerate(entities[: len(part.reps)])
            if isinstance(entity, dict) and i not in touched
        }
        control = parse_cache_control(result.get(CACHE_CONTROL_KEY))
        return self.entity_cache.save(part.cached.lookup, answers, control, response_tags(result))

    def _hinted(
        self, state: ExecutionState, result: object, service: str, *selections: str
    ) -> None:
        """The fetch's Cache-Control, for the answer's own; kept by the entity cache for the
        hits on what this fetch stores."""
        hint = hint_of(result)
        state.cache_hints.append(hint)
        if self.entity_cache is not None:
            for selection in selections:
                self.entity_cache.note_hint(service, selection, hint)

    async def _post(
        self,
        service: str,
        url: str,
        payload: dict[str, Any],
        headers: SubgraphHeaders,
        shareable: bool = True,
        deadline: float | None = None,
    ) -> dict[str, Any] | SubgraphFailure:
        """One subgraph request; a query identical to one in flight (same body, same
        caller's headers) waits for that one's answer (a copy) instead of going out again."""
        request_log.fetched(service)
        sent = headers.for_subgraph(service)
        if not shareable:  # a mutation: never merged, never sent twice
            return await self._send(service, url, payload, sent, deadline, idempotent=False)
        content = orjson.dumps(payload)  # serialized once: the key, and then the body sent
        key = (service, content, tuple(sorted(sent.items())))
        running = self._in_flight.get(key)
        if running is not None:
            result = await asyncio.shield(running)
            return result if isinstance(result, SubgraphFailure) else _copy(result)
        future: asyncio.Future[dict[str, Any] | SubgraphFailure] = (
            asyncio.get_running_loop().create_future()
        )
        self._in_flight[key] = future
        try:
            result = await self._send(service, url, content, sent, deadline)
            future.set_result(result)
            if self.entity_cache is not None and isinstance(result, dict):
                self.entity_cache.learn(service, result.get(CACHE_CONTROL_KEY))
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no warning when nobody else waited
            raise
        finally:
            del self._in_flight[key]

    async def _send(
        self,
        service: str,
        url: str,
        payload: dict[str, Any] | bytes,
        headers: Mapping[str, str],
        deadline: float | None,
        idempotent: bool = True,
    ) -> dict[str, Any] | SubgraphFailure:
        """Through the subgraph's breaker, cap and retries (resilience.py), within `deadline`."""
        client = self.client

        def attempt(seconds: float) -> Awaitable[dict[str, Any] | SubgraphFailure]:
            if tracing.tracer is not None:  # a client span; its traceparent goes along
                return tracing.fetch(
                    service,
                    url,
                    headers,
                    lambda sent: client.post(service, url, payload, sent, idempotent, seconds),
                )
            return client.post(service, url, payload, headers, idempotent, timeout=seconds)

        timeout = client.timeout_for(service)
        result = await self.resilience.call(service, attempt, timeout, deadline, idempotent)
        if isinstance(result, SubgraphFailure):
            request_log.subgraph_error(service, result.code, result.reason)
        return result

    def _batched_document(self, nodes: list[FetchNode]) -> str:
        key = tuple(node.document for node in nodes)
        document = self._batched.get(key)
        if document is None:
            definitions = [f"$r{i}:[_Any!]!" for i in range(len(nodes))]
            for node in nodes:
                definitions += [d for d in node.variable_defs if d not in definitions]
            fields = "".join(
                f"_e{i}:_entities(representations:$r{i}){{{node.selection}}}"
                for i, node in enumerate(nodes)
            )
            document = "query(" + ",".join(definitions) + "){" + fields + "}"
            self._batched.put(key, document)
        return document


async def _from_cache(
    cache: EntityCache, part: _EntityPart, principal: Principal, status: CacheStatus | None
) -> _EntityPart | None:
    """Answers what the cache knows; the part left to fetch, or None when all was cached."""
    node = part.node
    lookup = await cache.lookup(
        node.service, node.selection, part.variables, part.reps, principal, status
    )
    missing: list[int] = []
    for index, answer in enumerate(lookup.answers):
        if answer is None:
            missing.append(index)
            continue
        sent = part.reps[index].get("__typename")
        for obj in part.targets[index]:
            _merge_entity(obj, answer, sent)
    if not missing:
        return None
    return _EntityPart(
        node,
        part.variables,
        [part.reps[i] for i in missing],
        [part.targets[i] for i in missing],
        part.data,
        _Cached(lookup, part.reps, missing),
    )


async def _done() -> None:
    return None


def _copy(result: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(result))
    return copied


def _groups(ready: list[FetchNode]) -> list[list[FetchNode]]:
    """Ready fetches as requests: entity queries to one subgraph together, the rest alone."""
    groups: list[list[FetchNode]] = []
    shared: dict[str, list[FetchNode]] = {}
    for node in ready:
        if node.representations is None or node.operation_kind != "query":
            groups.append([node])
        elif node.service in shared:
            shared[node.service].append(node)
        else:
            shared[node.service] = [node]
            groups.append(shared[node.service])
    return groups


def _used(
    node: FetchNode, variables: Mapping[str, Any], values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The client's variables the fetch uses (and `values` taken from contexts)."""
    used = {n: variables[n] for n in node.variable_names if n in variables}
    return {**used, **values} if values else used


def _flat_representations(
    node: FetchNode,
    flat: tuple[str, tuple[str, ...], tuple[str, ...]],
    objects: list[dict[str, Any]],
    reps: list[dict[str, Any]],
    targets: list[list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Representations of one type whose fields are all scalars (most keys): the values read
    by one itemgetter are the dedup key. Returns the objects left for the general way (a value
    that is itself an object or a list)."""
    type_name, names, keys = flat
    sent_as = node.representation_typenames.get(type_name, type_name)
    getter = itemgetter(*keys)
    single = len(keys) == 1
    seen: dict[Any, int] = {}
    rest: list[dict[str, Any]] = []
    for obj in objects:
        if obj.get("__typename", type_name) != type_name:
            continue
        try:
            values = getter(obj)
            index = seen.get(values)
        except KeyError:
            continue  # a key part is missing: no representation
        except TypeError:
            rest.append(obj)  # unhashable: a list or object value
            continue
        if index is None:
            seen[values] = len(reps)
            rep = {"__typename": sent_as}
            if single:
                rep[names[0]] = values
            else:
                rep.update(zip(names, values, strict=True))
            reps.append(rep)
            targets.append([obj])
        else:
            targets[index].append(obj)
    return rest


def _representations(
    node: FetchNode,
    objects: list[dict[str, Any]],
    reps: list[dict[str, Any]],
    targets: list[list[dict[str, Any]]],
) -> None:
    assert node.representations is not None
    seen: dict[Hashable, int] = {}
    single_type = next(iter(node.representations)) if len(node.representations) == 1 else None
    for obj in objects:
        type_name = obj.get("__typename", single_type)
        if not isinstance(type_name, str):
            continue
        fields = node.representations.get(type_name)
        if fields is None:
            continue
        sent_as = node.representation_typenames.get(type_name, type_name)
        rep = representation(obj, sent_as, fields)
        if rep is None:
            continue
        # representations of one type list their fields in one order: their items are a
        # key unless a value is itself an object or a list (then its JSON is)
        ident: Hashable = tuple(rep.items())
        try:
            index = seen.get(ident)
        except TypeError:
            ident = orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)
            index = seen.get(ident)
        if index is None:
            seen[ident] = len(reps)
            reps.append(rep)
            targets.append([obj])
        else:
            targets[index].append(obj)


def _apply_entities(part: _EntityPart, entities: Any, state: ExecutionState, failed: bool) -> None:
    """Merges each answered entity into every object its representation stood for."""
    if not isinstance(entities, list):
        entities = []
    node = part.node
    for index, group in enumerate(part.targets):
        entity = entities[index] if index < len(entities) else None
        if isinstance(entity, dict):
            sent = part.reps[index].get("__typename")
            for obj in group:
                _merge_entity(obj, entity, sent)
        elif failed:
            state.explained.extend(
                [*path, *keys] for path in part.paths(index) for keys in node.field_keys
            )


def _merge_entity(obj: dict[str, Any], entity: dict[str, Any], sent: Any) -> None:
    answered = entity.get("__typename")
    if answered is not None and obj.get("__typename") == sent:
        # an @interfaceObject's object, sent as the interface, comes back as what it is
        obj["__typename"] = answered
    deep_merge(obj, entity)


def _entity_failure(part: _EntityPart, failure: SubgraphFailure, state: ExecutionState) -> None:
    for index in range(len(part.targets)):
        for path in part.paths(index):
            for keys in part.node.field_keys:
                state.errors.append(_failure_error(part.node, failure, [*path, *keys]))


def _entity_paths(part: _EntityPart, field: str) -> Callable[[list[Any]], list[list[Any]]]:
    """Translates a subgraph error path under `field` (e.g. `_entities.3.name`) to client paths."""

    def translate(path: list[Any]) -> list[list[Any]]:
        entity = path[1] if len(path) >= 2 and path[0] == field else None
        if isinstance(entity, int) and entity < len(part.targets):
            return [[*p, *path[2:]] for p in part.paths(entity)]
        return []

    return translate


def _payload(document: str, variables: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"query": document}
    if variables:
        payload["variables"] = variables
    return payload


def _failure_error(node: FetchNode, failure: SubgraphFailure, path: list[Any]) -> dict[str, Any]:
    return graphql_error(
        f"HTTP fetch failed from '{node.service}': {failure.reason}",
        failure.code,
        path=path,
        service=node.service,
    )


def _subgraph_errors(node: FetchNode, error: Any, translate: Any) -> list[dict[str, Any]]:
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
    if not paths:
        return [{"message": message, "extensions": extensions}]
    return [{"message": message, "path": p, "extensions": extensions} for p in paths]
