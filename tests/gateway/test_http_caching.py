"""The gateway's own Cache-Control from its fetches' hints, and ETag matching."""

from __future__ import annotations

from gateway.cache.entities import CacheControl
from gateway.http.caching import cache_control, etag, matches, with_credentials

PUBLIC_60 = CacheControl(max_age=60)
PUBLIC_300 = CacheControl(max_age=300)
PRIVATE_30 = CacheControl(max_age=30, private=True)


def control(*hints: CacheControl | None, **overrides: bool) -> str:
    flags = {"query": True, "errors": False, "guarded": False, "credentials": False}
    flags.update(overrides)
    return cache_control(hints, **flags)


def test_public_for_the_shortest_max_age_of_the_fetches() -> None:
    assert control(PUBLIC_300, PUBLIC_60) == "public, max-age=60"


def test_credentials_or_a_private_hint_make_it_private() -> None:
    assert control(PUBLIC_300, credentials=True) == "private, max-age=300"
    assert control(PUBLIC_300, PRIVATE_30) == "private, max-age=30"
    assert with_credentials("public, max-age=5", {"authorization": "Bearer x"}) == (
        "private, max-age=5"
    )
    assert with_credentials("public, max-age=5", {"cookie": "a=b"}) == "private, max-age=5"
    assert with_credentials("public, max-age=5", {}) == "public, max-age=5"
    assert with_credentials("no-store", {"cookie": "a=b"}) == "no-store"


def test_no_store_for_what_must_not_be_kept() -> None:
    assert control(PUBLIC_60, guarded=True) == "no-store"  # personal or authorised fields
    assert control(PUBLIC_60, errors=True) == "no-store"
    assert control(PUBLIC_60, query=False) == "no-store"  # a mutation
    assert control(PUBLIC_60, None) == "no-store"  # a fetch without a hint
    assert control(PUBLIC_60, CacheControl(max_age=60, no_store=True)) == "no-store"
    assert control(PUBLIC_60, CacheControl(max_age=0)) == "no-store"
    assert control() == "no-store"  # no fetch: nothing said it may be kept


def test_etags_are_strong_and_follow_the_bytes() -> None:
    tag = etag(b'{"data":{}}')
    assert tag.startswith('"') and tag == etag(b'{"data":{}}') and tag != etag(b"{}")
    assert matches(tag, tag) and matches(f'"x", W/{tag}', tag) and matches("*", tag)
    assert not matches(None, tag) and not matches('"x"', tag) and not matches("", tag)
