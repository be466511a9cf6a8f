"""`rugzak serve --config FILE`: keys from the argument parser, mistakes named with their line
and key, and the order flag > environment variable > file > default."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import config_file, serve_options
from gateway.cli import parse
from gateway.config import GatewayConfig
from gateway.serve_config import gateway_config
from tests.servers import ROOT

SUPERGRAPH = str(ROOT / "schema.graphql")


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rugzak serve")
    serve_options.add_arguments(parser)
    return parser


def write(tmp_path: Path, text: str, name: str = "rugzak.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(config_file.ConfigError) as refused:
        config_file.read(write(tmp_path, text), serve_parser())
    return str(refused.value).splitlines()


def test_every_long_option_of_serve_is_a_key() -> None:
    parser = serve_parser()
    found = config_file.keys(parser)
    flags = {
        flag[2:]
        for action in parser._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag not in ("--help", "--config")
    }
    assert set(found) == flags
    assert {"supergraph", "port", "subgraph-url", "breaker-slow", "rate-limit"} <= flags
    assert {"access-log", "registry", "operation-limits", "data-dir", "token-leeway"} <= flags


def test_a_flag_added_later_is_a_key_without_more_code(tmp_path: Path) -> None:
    parser = serve_parser()
    parser.add_argument("--brand-new", type=int, help="a new setting (env RUGZAK_BRAND_NEW)")
    values = config_file.read(write(tmp_path, "brand-new = 7\n"), parser)
    assert values["brand-new"].value == 7
    assert config_file.env_names(config_file.keys(parser)["brand-new"]) == ("RUGZAK_BRAND_NEW",)


def test_values_take_their_flags_types(tmp_path: Path) -> None:
    text = """
supergraph = "s.graphql"
port = 4100
request-timeout = 12           # a float option takes a whole number too
expose-query-plan = true
override-label = "canary"      # one item of a repeatable flag
breaker-slow = [2, "ticketing=5"]
subgraph-url.education = "http://e/graphql"
subgraph-url.ticketing = "http://t/graphql"
persisted-queries = { entries = 5, size = "1MB" }
plan-cache-entries = 500       # a number where the flag takes text
operation-limits.max_depth = 9
operation-limits.clients.app.max_cost = 10
unlisted-clients = "allow"
"""
    values = {
        k: v.value for k, v in config_file.read(write(tmp_path, text), serve_parser()).items()
    }
    assert values["port"] == 4100 and values["request-timeout"] == 12.0
    assert values["expose-query-plan"] is True and values["override-label"] == ["canary"]
    assert values["breaker-slow"] == ["2", "ticketing=5"]
    assert values["subgraph-url"] == ["education=http://e/graphql", "ticketing=http://t/graphql"]
    assert values["persisted-queries"] == "entries=5,size=1MB"
    assert values["plan-cache-entries"] == "500"
    assert values["operation-limits"] == '{"max_depth": 9, "clients": {"app": {"max_cost": 10}}}'


def test_each_mistake_names_its_line_key_and_what_was_expected(tmp_path: Path) -> None:
    text = """# a comment
supergraph = "s.graphql"
port = "4000"
expose-query-plan = "yes"

suprgraph = "x"
introspection = "some"
workers = 0
breaker-slow = [2, true]
request-timeout = [1]
subgraph-url = { education = "http://e/graphql", ticketing = false }
[rate-limit]
principal = "20/s"
"""
    path = tmp_path / "rugzak.toml"
    pairs = "a string (NAME=URL), or a list of them, or a table"
    assert problems(tmp_path, text) == [
        f"{path}:3: port: expected a whole number, got '4000'",
        f"{path}:4: expose-query-plan: expected true or false, got 'yes'",
        f"{path}:6: unknown key 'suprgraph' (did you mean 'supergraph'?)",
        f"{path}:7: introspection: expected 'all' or 'authenticated' or 'none', got 'some'",
        f"{path}:8: workers: expected a positive whole number, got 0",
        f"{path}:9: breaker-slow: expected a string ([NAME=]SECONDS), or a list of them, or a "
        "table, got true",
        f"{path}:10: request-timeout: expected a number, got a list",
        f"{path}:11: subgraph-url.ticketing: expected {pairs}, got false",
    ]  # the [rate-limit] table is fine: principal=20/s


def test_a_key_inside_a_table_is_found_on_its_own_line(tmp_path: Path) -> None:
    text = """supergraph = "s.graphql"

[subgraph-url]
education = "http://e/graphql"
ticketing = false
"""
    assert problems(tmp_path, text) == [
        f"{tmp_path / 'rugzak.toml'}:5: subgraph-url.ticketing: expected a string (NAME=URL), or "
        "a list of them, or a table, got false"
    ]


def test_toml_syntax_errors_name_their_line(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, 'supergraph = "s.graphql"\nport = = 4\n')
    assert "not valid TOML" in line and "line 2" in line


def _settings(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> GatewayConfig:
    return gateway_config(parse(argv))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("RUGZAK_CACHE_SIZE", "RUGZAK_EXPOSE_COST", "RUGZAK_BREAKER_SLOW", "RUGZAK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    # set, then removed: monkeypatch puts back what was there, and export() writes these
    for name in ("RUGZAK_TOKEN_LEEWAY_SECONDS", "RUGZAK_DATA_DIR"):
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    return monkeypatch


def test_flags_beat_the_environment_which_beats_the_file(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        f"""supergraph = "{SUPERGRAPH}"
cache-size = "10MB"
expose-cost = true
breaker-slow = [3, "ticketing=7"]
subgraph-url.education = "http://file/graphql"
subgraph-url.ticketing = "http://file-t/graphql"
""",
    )
    base = ["serve", "--config", str(path)]
    mb = 1024 * 1024
    # the file alone
    config = _settings(clean_env, base)
    assert config.memory_cache_bytes == 10 * mb and config.expose_cost is True
    policies = config.subgraph_policies
    assert policies.of("ticketing").breaker_slow == 7
    assert policies.of("education").breaker_slow == 3
    assert config.subgraph_urls == {
        "education": "http://file/graphql",
        "ticketing": "http://file-t/graphql",
    }
    # the environment over the file
    clean_env.setenv("RUGZAK_CACHE_SIZE", "20MB")
    clean_env.setenv("RUGZAK_EXPOSE_COST", "0")
    clean_env.setenv("RUGZAK_BREAKER_SLOW", "4")
    config = _settings(clean_env, base)
    assert config.memory_cache_bytes == 20 * mb and config.expose_cost is False
    assert config.subgraph_policies.of("ticketing").breaker_slow == 4
    # flags over both; a repeatable flag replaces the file's items
    config = _settings(
        clean_env,
        [*base, "--cache-size", "30MB", "--subgraph-url", "education=http://flag/graphql"],
    )
    assert config.memory_cache_bytes == 30 * mb
    assert config.subgraph_urls == {"education": "http://flag/graphql"}


def test_rugzak_config_names_the_file(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, f'supergraph = "{SUPERGRAPH}"\ncache-size = "5MB"\n')
    clean_env.setenv("RUGZAK_CONFIG", str(path))
    config = _settings(clean_env, ["serve"])  # --supergraph is required, but the file has it
    assert config.memory_cache_bytes == 5 * 1024 * 1024


def test_settings_that_were_only_variables_have_keys(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    import os

    path = write(
        tmp_path,
        f'supergraph = "{SUPERGRAPH}"\ntoken-leeway = 12\ndata-dir = "{tmp_path / "data"}"\n',
    )
    _settings(clean_env, ["serve", "--config", str(path)])
    assert os.environ["RUGZAK_TOKEN_LEEWAY_SECONDS"] == "12"
    assert os.environ["RUGZAK_DATA_DIR"] == str(tmp_path / "data")
    from auth.config import settings_from_env

    issuer = tmp_path / "jwks.json"
    issuer.write_text('{"keys": []}')
    settings = settings_from_env({**os.environ, "RUGZAK_JWKS_URL": str(issuer)})
    assert settings.leeway_seconds == 12


def test_a_bad_value_from_the_file_says_where_it_came_from(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, f'supergraph = "{SUPERGRAPH}"\n\nbreaker-slow = ["-1"]\n')
    with pytest.raises(SystemExit) as refused:
        from gateway.cli import main

        main(["serve", "--config", str(path), "--port", "1"])
    assert refused.value.code == (
        f"rugzak: --breaker-slow is out of range: '-1' (from {path}:3: key breaker-slow)"
    )


def rugzak(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_config_check_accepts_the_example_and_refuses_mistakes(tmp_path: Path) -> None:
    good = rugzak("config", "check", "rugzak.example.toml")
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("rugzak.example.toml: ") and "all valid" in good.stdout
    bad = write(tmp_path, 'port = 4000\nbreaker-error-rate = ["150"]\nhots = "x"\n')
    refused = rugzak("config", "check", str(bad))
    assert refused.returncode == 1
    assert refused.stderr == f"{bad}:3: unknown key 'hots' (did you mean 'host'?)\n"
    semantic = write(tmp_path, 'breaker-error-rate = ["150"]\n', "semantic.toml")
    refused = rugzak("config", "check", str(semantic))
    assert refused.returncode == 1
    assert refused.stderr == (
        f"rugzak: --breaker-error-rate is out of range: '150' (from {semantic}:1: key "
        "breaker-error-rate)\n"
    )


def test_the_demo_runs_from_a_valid_file() -> None:
    from gateway.demo import DEMO_CONFIG

    assert config_file.read(DEMO_CONFIG, serve_parser())["introspection"].value == "all"


def test_every_variable_a_flag_names_is_one_the_code_reads() -> None:
    """The file gives way to the variables named in the flags' help: each one must be read
    somewhere, or the file would give way to a variable that sets nothing."""
    from gateway.serve_config import POLICY_FLAGS, env_name

    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("gateway", "auth")
        for path in (ROOT / folder).rglob("*.py")
    )
    derived = {env_name(flag) for flag in POLICY_FLAGS}  # RUGZAK_BREAKER_SLOW, ...
    named = [
        (key, name)
        for key, action in config_file.keys(serve_parser()).items()
        for name in config_file.env_names(action)
    ]
    assert len(named) > 30
    unread = [(key, name) for key, name in named if f'"{name}"' not in sources]
    assert [pair for pair in unread if pair[1] not in derived] == []
