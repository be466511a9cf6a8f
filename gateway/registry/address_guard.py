"""Where a registered subgraph's requests may go, checked at every connection the gateway opens
to it, not only when it was registered.

A host name that resolved to a public address at registration may resolve to 127.0.0.1 or the
cloud's metadata service an hour later (DNS rebinding): the registry's check would then have
vouched for a URL that now reaches inside the operator's network, with the gateway's token. So
the subgraph transport asks a guard for the addresses of each new connection: the name is
resolved, every address is judged by the same policy as at registration (the owner's URL
patterns and the operator's, url_policy.py), the connection goes to a judged address, and one
that reaches the gateway's own listener is dropped. The operator's own subgraphs (the
--supergraph file's, owner `operator`) have no guard.

A refusal says what kind of address it was, never which: the client sees the subgraph error,
the gateway's log the address.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from gateway.registry.own_listeners import ConnectedSocket, reaches_own_listener
from gateway.registry.resolve import resolve
from gateway.registry.url_policy import UrlNotAllowed, UrlPattern, admit, parse_url

log = logging.getLogger("rugzak.registry")


class AddressGuard:
    """The URL policy for one registered routing URL, as its owner's patterns stand."""

    def __init__(
        self,
        url: str,
        own: Sequence[UrlPattern] = (),
        everyone: Sequence[UrlPattern] = (),
        *,
        refusal: str | None = None,
    ) -> None:
        """`refusal`: refuse every connection for this reason (its patterns cannot be read)."""
        self.url = url
        self._own = list(own)
        self._everyone = list(everyone)
        try:
            self._parsed = parse_url(url)
        except UrlNotAllowed as exc:  # stored before the policy's parser refused such URLs
            self._parsed, refusal = parse_url("http://0.0.0.0/"), refusal or exc.reason
        self._refusal = refusal
        matching = [p for p in (*self._own, *self._everyone) if p.matches(self._parsed)]
        # as at registration: only a pattern naming host and port admits the gateway itself
        self._own_listener_allowed = any(p.names_host and p.names_port for p in matching)
        self._logged: str | None = None
        self._key = (url, tuple(p.text for p in self._own), tuple(p.text for p in self._everyone))

    def __eq__(self, other: object) -> bool:
        """The same URL under the same patterns (the transport keeps its connections)."""
        if not isinstance(other, AddressGuard):
            return NotImplemented
        return (self._key, self._refusal) == (other._key, other._refusal)

    def __hash__(self) -> int:
        return hash(self._key)

    async def addresses(self, host: str, port: int) -> list[str]:
        """Where a new connection may go, in order. UrlNotAllowed when the routing URL's host
        resolves to an address its policy refuses (or to none); OSError when it cannot be
        resolved. `host` and `port` are the routing URL's (the transport's key for it)."""
        if self._refusal is not None:
            raise UrlNotAllowed(self._refusal)
        found = await resolve(self._parsed.host, self._parsed.port)
        try:
            admit(self._parsed, found, self._own, self._everyone)
        except UrlNotAllowed as exc:
            self._log(f"{', '.join(map(str, found)) or 'nothing'}: {exc.reason}")
            raise
        return [str(a) for a in found]

    def check_peer(self, sock: ConnectedSocket | None) -> None:
        """UrlNotAllowed if a connection just made reaches this gateway's own listener."""
        if self._own_listener_allowed:
            return
        if sock is None or reaches_own_listener(sock):
            self._log("the connection reaches this gateway's own listener")
            raise UrlNotAllowed("it reaches this gateway's own listener")

    def _log(self, what: str) -> None:
        # once per change of what is refused: a refused subgraph is asked at every request
        if what != self._logged:
            self._logged = what
            log.warning("registry: no connection to %s: %s", self.url, what)
