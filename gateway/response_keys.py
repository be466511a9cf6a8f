"""Response keys the gateway keeps for itself in subgraph documents and the merged answer.

The planner asks for keys and @requires values under `_rz`-prefixed aliases and reads every
object's type from `__typename`. A client may use those names as its own aliases (`__typename:
id` is valid GraphQL, and so is `_rz_buyer: id`): such a client key is stored under `_rzc_<key>`
instead, so that it never shares a key with a field of the gateway's, and is given back to the
client under its own name when the answer is shaped and in error paths.
"""

from __future__ import annotations

INTERNAL_PREFIX = "_rz"
CLIENT_PREFIX = "_rzc_"
_INTROSPECTION = frozenset({"__schema", "__type"})


def stored_key(key: str, name: str) -> str:
    """Where the answer of the client's field `key: name` is kept."""
    if name in _INTROSPECTION:
        return key
    if (key == "__typename" and name != "__typename") or key.startswith(INTERNAL_PREFIX):
        return CLIENT_PREFIX + key
    return key


def client_key(stored: str) -> str:
    """The client's own response key for a stored one."""
    return stored[len(CLIENT_PREFIX) :] if stored.startswith(CLIENT_PREFIX) else stored
