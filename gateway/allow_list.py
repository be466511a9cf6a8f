"""An allow-list of persisted operations per client application (`--persisted-allow-list`).

When it is on, a client may only run the operations on its own list; an operation is named by
the SHA-256 of its text, the hash automatic persisted queries already send. The list is either

- a JSON file: `{"citizen-portal": ["<sha256 hex>", ...], "staff-app": [...]}`, or
- a directory with a folder per client holding `.graphql` files, one operation document each:
  `allow-list/citizen-portal/profile.graphql`. The gateway then knows these texts itself, so a
  client may send only the hash from its first request on. A file's text counts with and without
  surrounding whitespace (an editor's final newline).

Who the client is: the verified token's client id (`azp` or `client_id` claim) when the request
carries a token, otherwise the `apollographql-client-name` header. The header only names the
client, it does not prove it: an anonymous caller can say it is any application, and so run
what that application may run (and nothing else). A token's client cannot be renamed by the
header.

A client without a list (or with no name at all) is refused unless `--unlisted-clients allow`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from auth.principal import Principal
from gateway.errors import RequestError

CLIENT_NAME_HEADER = "apollographql-client-name"
NOT_IN_ALLOW_LIST = "PERSISTED_QUERY_NOT_IN_ALLOW_LIST"
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def client_of(principal: Principal, headers: Mapping[str, str]) -> str | None:
    """The client application asking: the token's, or the header's for a caller without one."""
    if not principal.is_anonymous:
        return principal.client_id
    return headers.get(CLIENT_NAME_HEADER, "").strip() or None


@dataclass(frozen=True, slots=True)
class AllowList:
    by_client: Mapping[str, frozenset[str]]
    # operation texts by hash, for lists made of .graphql files
    texts: Mapping[str, str] = field(default_factory=dict)
    allow_unlisted: bool = False

    @classmethod
    def load(cls, path: Path, allow_unlisted: bool = False) -> AllowList:
        """From a JSON file or a directory of client folders; ValueError when malformed."""
        if path.is_dir():
            return _from_directory(path, allow_unlisted)
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ValueError(f"cannot read the allow-list {path}: {exc}") from exc
        return _from_json(data, path, allow_unlisted)

    def check(self, client: str | None, digest: str) -> None:
        """Raises RequestError(PERSISTED_QUERY_NOT_IN_ALLOW_LIST) unless `client` may run the
        operation whose text hashes to `digest`."""
        allowed = self.by_client.get(client) if client is not None else None
        if allowed is None:
            if self.allow_unlisted:
                return
            who = f"client {client!r} has" if client else "requests without a client name have"
            raise RequestError(f"{who} no list of allowed operations", NOT_IN_ALLOW_LIST)
        if digest.lower() not in allowed:
            raise RequestError(
                f"the operation is not on the allow-list of client {client!r}", NOT_IN_ALLOW_LIST
            )


def _from_json(data: Any, path: Path, allow_unlisted: bool) -> AllowList:
    shape = '{"client": ["<sha256 hex>", ...]}'
    if not isinstance(data, dict):
        raise ValueError(f"the allow-list {path} must be a JSON object: {shape}")
    by_client: dict[str, frozenset[str]] = {}
    for client, hashes in data.items():
        if not isinstance(hashes, list) or not all(
            isinstance(h, str) and _SHA256.match(h) for h in hashes
        ):
            raise ValueError(
                f"the allow-list {path}: client {client!r} must list SHA-256 hashes (64 hex "
                f"digits): {shape}"
            )
        by_client[client] = frozenset(h.lower() for h in hashes)
    return AllowList(by_client, {}, allow_unlisted)


def _from_directory(path: Path, allow_unlisted: bool) -> AllowList:
    by_client: dict[str, frozenset[str]] = {}
    texts: dict[str, str] = {}
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        hashes: set[str] = set()
        for file in sorted(folder.rglob("*.graphql")):
            text = file.read_text(encoding="utf-8")
            for variant in {text, text.strip()}:
                digest = sha256(variant)
                hashes.add(digest)
                texts[digest] = variant
        by_client[folder.name] = frozenset(hashes)
    if not by_client:
        raise ValueError(f"the allow-list directory {path} has no client folders")
    return AllowList(by_client, texts, allow_unlisted)
