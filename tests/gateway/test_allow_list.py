"""The allow-list of persisted operations per client: loading it, and who may run what."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auth.principal import ANONYMOUS, Principal
from gateway.allow_list import NOT_IN_ALLOW_LIST, AllowList, client_of, sha256
from gateway.errors import RequestError

GENT = '{ municipality(nisCode: "44021") { name } }'
ANTWERPEN = '{ municipality(nisCode: "11002") { name } }'


def refused(allow_list: AllowList, client: str | None, digest: str) -> bool:
    try:
        allow_list.check(client, digest)
    except RequestError as exc:
        assert exc.code == NOT_IN_ALLOW_LIST
        return True
    return False


def test_a_json_list_allows_each_client_its_own_operations(tmp_path: Path) -> None:
    path = tmp_path / "allow.json"
    path.write_text(json.dumps({"portal": [sha256(GENT).upper()], "staff": [sha256(ANTWERPEN)]}))
    allow_list = AllowList.load(path)
    assert not refused(allow_list, "portal", sha256(GENT))
    assert refused(allow_list, "portal", sha256(ANTWERPEN))
    assert not refused(allow_list, "staff", sha256(ANTWERPEN).upper())
    assert refused(allow_list, "other", sha256(GENT))  # a client without a list
    assert refused(allow_list, None, sha256(GENT))  # no client name at all
    assert allow_list.texts == {}


def test_clients_without_a_list_may_run_anything_when_configured(tmp_path: Path) -> None:
    path = tmp_path / "allow.json"
    path.write_text(json.dumps({"portal": [sha256(GENT)]}))
    allow_list = AllowList.load(path, allow_unlisted=True)
    assert not refused(allow_list, None, sha256(ANTWERPEN))
    assert not refused(allow_list, "other", sha256(ANTWERPEN))
    assert refused(allow_list, "portal", sha256(ANTWERPEN))  # a listed client keeps to its list


def test_a_directory_of_graphql_files_per_client(tmp_path: Path) -> None:
    (tmp_path / "portal" / "nested").mkdir(parents=True)
    (tmp_path / "portal" / "gent.graphql").write_text(GENT + "\n")
    (tmp_path / "portal" / "nested" / "antwerpen.graphql").write_text(ANTWERPEN)
    (tmp_path / "portal" / "notes.txt").write_text("not an operation")
    (tmp_path / "empty").mkdir()
    allow_list = AllowList.load(tmp_path)
    # the file's text, with or without its final newline
    assert not refused(allow_list, "portal", sha256(GENT))
    assert not refused(allow_list, "portal", sha256(GENT + "\n"))
    assert not refused(allow_list, "portal", sha256(ANTWERPEN))
    assert refused(allow_list, "empty", sha256(GENT))
    assert allow_list.texts[sha256(GENT)] == GENT  # known: hash-only requests need no registering


@pytest.mark.parametrize(
    "content",
    ["[]", '{"portal": "abc"}', '{"portal": ["abc"]}', '{"portal": [1]}', "not json"],
)
def test_malformed_lists_are_refused_at_start(tmp_path: Path, content: str) -> None:
    path = tmp_path / "allow.json"
    path.write_text(content)
    with pytest.raises(ValueError):
        AllowList.load(path)


def test_missing_or_empty_lists_are_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AllowList.load(tmp_path / "missing.json")
    with pytest.raises(ValueError):
        AllowList.load(tmp_path)  # a directory without client folders


def test_the_client_is_the_tokens_else_the_header() -> None:
    header = {"apollographql-client-name": "portal"}
    assert client_of(ANONYMOUS, header) == "portal"
    assert client_of(ANONYMOUS, {}) is None
    app = Principal(subject="ann", token="t", client_id="mobile")
    assert client_of(app, header) == "mobile"  # the header cannot rename a token's client
    assert client_of(Principal(subject="ann", token="t"), header) is None
