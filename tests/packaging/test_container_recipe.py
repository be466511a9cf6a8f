"""The Dockerfile and compose.yaml, checked without a container engine (none on this machine):
their commands are the ones that work here, in a venv: the gateway's command and environment
give a valid configuration, each subgraph's command and health check agree, the image's health
check answers for a live gateway and fails without one, and every variable is one the code reads.
(`pip install` of the wheel, the build stage's step, is tests/packaging/test_wheel.py.)"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli import parse
from gateway.serve_config import gateway_config
from tests.servers import ROOT, start_python_server


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last:]


def exec_form(text: str) -> list[str]:
    value = json.loads(text)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), text
    return value


def test_the_image_is_slim_and_runs_as_a_user_of_its_own() -> None:
    bases = [rest.split()[0] for keyword, rest in instructions() if keyword == "FROM"]
    assert len(bases) == 2 and all(re.fullmatch(r"python:3\.\d+-slim-\w+", b) for b in bases)
    stage = final_stage()
    keywords = [keyword for keyword, _ in stage]
    user = next(rest for keyword, rest in stage if keyword == "USER")
    assert user not in ("root", "0") and not user.startswith("0:")
    created = next(rest for keyword, rest in stage if keyword == "RUN" and "useradd" in rest)
    assert shlex.split(created)[-1] == user
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    assert "HEALTHCHECK" in keywords
    for keyword, rest in instructions():  # what is copied in is in the repo
        if keyword == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source


def _copied(path: str) -> Path:
    """The repo file the image has at `path` (a COPY of the final stage)."""
    for keyword, rest in final_stage():
        if keyword == "COPY" and not rest.startswith("--from") and rest.split()[-1] == path:
            return ROOT / rest.split()[0]
    raise AssertionError(f"nothing is copied to {path}")


def _image_env() -> dict[str, str]:
    env = {}
    for keyword, rest in final_stage():
        if keyword == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def _with_files(argv: list[str]) -> list[str]:
    """The image's paths as the repo's: /etc/rugzak/rugzak.toml is rugzak.example.toml."""
    return [str(_copied(a)) if a.startswith("/etc/rugzak/") else a for a in argv]


def test_the_images_command_is_a_valid_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stage = final_stage()
    entrypoint = exec_form(next(rest for keyword, rest in stage if keyword == "ENTRYPOINT"))
    command = exec_form(next(rest for keyword, rest in stage if keyword == "CMD"))
    assert entrypoint == ["rugzak"]
    monkeypatch.chdir(_copied("/etc/rugzak/schema.graphql").parent)  # WORKDIR /etc/rugzak
    env = {**_image_env(), "RUGZAK_DATA_DIR": str(tmp_path)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RUGZAK_DATA_DIR", str(tmp_path))
    config = gateway_config(parse(_with_files(command)))
    assert config.supergraph == "schema.graphql" and (ROOT / config.supergraph).exists()


def test_the_images_health_check_answers_for_a_live_gateway_only(tmp_path: Path) -> None:
    check = exec_form(
        next(rest for k, rest in final_stage() if k == "HEALTHCHECK").split(" CMD ", 1)[1]
    )
    argv = [
        "-m", "gateway", "serve", "--supergraph", str(ROOT / "schema.graphql"),
        "--access-log", "off", "--probe-interval", "0",
    ]  # fmt: skip
    with start_python_server(argv, "gateway", probe="/health") as gateway:
        port = gateway.url.rsplit(":", 1)[1]
        live = [part.replace(":4000/", f":{port}/") for part in check]
        assert live != check  # the check names the image's port
        assert subprocess.run([sys.executable, *live[1:]], timeout=30).returncode == 0
    assert subprocess.run([sys.executable, *live[1:]], timeout=30).returncode != 0


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _interpolated(value: str) -> str:
    """`${NAME:?message}`, `${NAME:-default}` and `${NAME}` as compose fills them when NAME is
    set, with stand-in values (long enough for a secret)."""
    return re.sub(r"\$\{([A-Z_]+)(?::[?-][^}]*)?\}", lambda m: m.group(1).lower() * 3, value)


def test_compose_runs_the_gateway_the_subgraphs_redis_and_postgresql() -> None:
    services = compose()["services"]
    assert set(services) == {
        "gateway", "education", "allowances", "ticketing", "transparency", "redis", "postgres",
    }  # fmt: skip
    for name, service in services.items():
        assert "healthcheck" in service or name == "gateway", name  # the image has its own
        for other in service.get("depends_on", {}):
            assert other in services, (name, other)
    for name in ("education", "allowances", "ticketing", "transparency"):
        service = services[name]
        assert service["entrypoint"] == ["python", "-m", "gateway.http.serving"]
        app, *options = service["command"]
        assert app == f"subgraphs.{name}.app:app"
        port = options[options.index("--port") + 1]
        assert f"http://127.0.0.1:{port}/health" in " ".join(service["healthcheck"]["test"])
        from gateway.http.serving import load_app

        assert load_app(app) is not None


def test_the_compose_gateway_reaches_every_subgraph_by_its_service_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    services = compose()["services"]
    gateway = services["gateway"]
    for name, value in gateway["environment"].items():
        monkeypatch.setenv(name, _interpolated(str(value)))
    monkeypatch.setenv("RUGZAK_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(ROOT)
    args = parse(_with_files([str(a) for a in gateway["command"]]))
    config = gateway_config(args)
    assert config.cache_url == "redis://redis:6379/0"
    assert config.registry_url is not None and "@postgres:5432/" in config.registry_url
    from gateway.registry.url_policy import parse_patterns

    patterns = parse_patterns(list(config.registry_allowed_urls))
    for name, url in config.subgraph_urls.items():
        host_port = url.split("/")[2]
        port = host_port.split(":")[1]
        assert host_port == f"{name}:{port}" and "--port" in services[name]["command"]
        assert services[name]["command"][services[name]["command"].index("--port") + 1] == port
        assert any(pattern.text.startswith(f"http://{host_port}") for pattern in patterns)


def test_every_variable_compose_sets_is_one_the_code_reads() -> None:
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("gateway", "auth", "subgraphs", "resolvers")
        for path in (ROOT / folder).rglob("*.py")
    )
    for name, service in compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("RUGZAK_"):
                assert f'"{variable}"' in sources, (name, variable)


def test_the_compose_subgraphs_answer_only_the_gateways_own_tokens() -> None:
    """No shared secret any more: each subgraph checks the token the gateway signs for it
    against the keys the gateway publishes, at the gateway's service name and port."""
    from subgraphs.common.gateway_guard import gateway_verifier_from_env

    text = "\n".join(
        (ROOT / name).read_text(encoding="utf-8")
        for name in ("compose.yaml", "Dockerfile", "rugzak.example.toml")
    )
    assert "SUBGRAPH_SECRET" not in text and "subgraph-secret" not in text
    services = compose()["services"]
    gateway_port = services["gateway"]["ports"][0].split(":")[-1]
    for name in ("education", "allowances", "ticketing", "transparency"):
        env = {k: _interpolated(str(v)) for k, v in services[name]["environment"].items()}
        assert env["RUGZAK_GATEWAY_JWKS_URL"] == (
            f"http://gateway:{gateway_port}/.well-known/gateway-jwks.json"
        )
        assert gateway_verifier_from_env(name, env) is not None
    # ticketing signs its invalidations with its own key; the gateway holds the master
    assert "RUGZAK_INVALIDATION_KEY" in services["ticketing"]["environment"]
    assert "RUGZAK_INVALIDATION_SECRET" in services["gateway"]["environment"]
    assert "RUGZAK_INVALIDATION_KEY" not in services["education"]["environment"]
