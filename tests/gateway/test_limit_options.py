"""`rugzak serve`'s options for the operation limits and the bounds of its stores."""

from __future__ import annotations

import pytest

from gateway.cli import build_parser
from gateway.serve_config import _limit_config


def config(*argv: str, env: dict[str, str] | None = None) -> dict[str, object]:
    args = build_parser().parse_args(["serve", "--supergraph", "x.graphql", *argv])
    return _limit_config(args, env or {})


def test_defaults() -> None:
    found = config()
    assert found["expose_cost"] is False and found["memory_cache_bytes"] == 64 * 1024 * 1024
    assert found["persisted_limits"].max_entries == 10_000  # type: ignore[attr-defined]


def test_options_and_environment(tmp_path: object) -> None:
    found = config(
        "--operation-limits", '{"max_depth": 9, "clients": {"app": {"max_cost": 10}}}',
        "--persisted-queries", "entries=5,size=1MB,ttl=60,client-entries=2,client-size=10KB",
        "--cache-size", "8MB", "--expose-cost",
    )  # fmt: skip
    limits = found["operation_limits"]
    assert limits.default.max_depth == 9 and limits.for_client("app").max_cost == 10  # type: ignore[attr-defined]
    persisted = found["persisted_limits"]
    assert (persisted.max_entries, persisted.max_bytes, persisted.ttl) == (5, 2**20, 60)  # type: ignore[attr-defined]
    assert (persisted.client_entries, persisted.client_bytes) == (2, 10 * 1024)  # type: ignore[attr-defined]
    assert found["memory_cache_bytes"] == 8 * 2**20 and found["expose_cost"] is True
    env = {"RUGZAK_OPERATION_LIMITS": '{"max_aliases": 3}', "RUGZAK_EXPOSE_COST": "1"}
    from_env = config(env=env)
    assert from_env["operation_limits"].default.max_aliases == 3  # type: ignore[attr-defined]
    assert from_env["expose_cost"] is True


@pytest.mark.parametrize(
    "argv",
    [
        ("--operation-limits", '{"max_depht": 3}'),
        ("--operation-limits", "not json"),
        ("--persisted-queries", "entries=0"),
        ("--persisted-queries", "forever=1"),
        ("--cache-size", "lots"),
    ],
)
def test_bad_settings_stop_serve_with_a_message(argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as stopped:
        config(*argv)
    assert str(stopped.value).startswith("rugzak:")
