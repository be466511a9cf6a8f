"""The `rugzak` command line: plan, serve from a URL, and clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.stack import ANN, PROFILE_QUERY, SUPERGRAPH, Stack
from tests.servers import ROOT, free_port, start_process, start_python_server


def rugzak(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plan_prints_the_fetches() -> None:
    result = rugzak("plan", "--supergraph", str(SUPERGRAPH), "examples/profile.graphql")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("QueryPlan (4 fetches) {\n  Parallel {")
    for service in ("education", "allowances", "ticketing"):
        assert f"from '{service}' {{" in out
    assert "Entity fetch #2 from 'ticketing' at me.qualifications.edges.node.institution" in out


def test_plan_of_an_invalid_operation_fails_cleanly(tmp_path: Path) -> None:
    query = tmp_path / "invalid.graphql"
    query.write_text("{ me { shoeSize } }")
    result = rugzak("plan", "--supergraph", str(SUPERGRAPH), str(query))
    assert result.returncode == 1
    assert "shoeSize" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_a_missing_supergraph() -> None:
    result = rugzak("serve", "--supergraph", "/nonexistent/supergraph.graphql", "--port", "1")
    assert result.returncode == 2
    assert "cannot read supergraph file" in result.stderr and "Traceback" not in result.stderr


def test_serve_reads_the_supergraph_from_a_url(stack: Stack) -> None:
    port = free_port()
    files = start_process(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(ROOT)],
        port,
        "static files",
    )  # fmt: skip
    try:
        argv = ["-m", "gateway", "serve", "--supergraph", f"{files.url}/schema.graphql"]
        for name, url in stack.subgraph_urls().items():
            argv += ["--subgraph-url", f"{name}={url}"]
        with start_python_server(argv, "gateway from URL", stack.env, probe="/health") as gw:
            body = httpx.post(
                gw.url + "/graphql",
                json={"query": PROFILE_QUERY},
                headers={"authorization": f"Bearer {stack.token(ANN)}"},
                timeout=30,
            ).json()
    finally:
        files.stop()
    assert body["data"]["me"]["insz"] == ANN and "errors" not in body


def test_serve_takes_its_settings_from_a_config_file(stack: Stack, tmp_path: Path) -> None:
    """Everything the flags and the environment set, from the file: the issuer that was only
    variables (jwks-url, trusted-issuer, audience), the subgraphs' URLs, a switch."""
    trust = ("RUGZAK_JWKS_URL", "RUGZAK_TRUSTED_ISSUER", "RUGZAK_AUDIENCE")
    env = {k: v for k, v in stack.env.items() if k not in trust}
    urls = "\n".join(f'subgraph-url.{n} = "{u}"' for n, u in stack.subgraph_urls().items())
    config = tmp_path / "rugzak.toml"
    config.write_text(
        f"""supergraph = "{SUPERGRAPH}"
jwks-url = "{stack.env["RUGZAK_JWKS_URL"]}"
trusted-issuer = "{stack.env["RUGZAK_TRUSTED_ISSUER"]}"
audience = "{stack.env["RUGZAK_AUDIENCE"]}"
expose-query-plan = true
access-log = "off"
{urls}
""",
        encoding="utf-8",
    )
    argv = ["-m", "gateway", "serve", "--config", str(config)]
    with start_python_server(argv, "gateway from a file", env, probe="/health") as gw:
        response = httpx.post(
            gw.url + "/graphql",
            json={"query": PROFILE_QUERY},
            headers={
                "authorization": f"Bearer {stack.token(ANN)}",
                "x-rugzak-query-plan": "true",
            },
            timeout=30,
        )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["me"]["insz"] == ANN
    plan = body["extensions"]["queryPlan"]  # expose-query-plan = true
    assert {fetch["service"] for fetch in plan} == {"allowances", "education", "ticketing"}


def _with_closed_stdout(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `rugzak ARGS` writing into a pipe nobody reads any more (`rugzak plan ... | head`
    once head has exited): every write meets EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
            check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)


def test_a_reader_that_went_away_gets_no_traceback(tmp_path: Path) -> None:
    for args in (
        ("plan", "--supergraph", str(SUPERGRAPH), "examples/profile.graphql"),
        ("--help",),
        ("serve", "--help"),
        ("token", "--citizen", ANN, "--dev-issuer-dir", str(tmp_path / "dev-issuer")),
    ):
        result = _with_closed_stdout(*args)
        assert result.stderr == "", (args, result.stderr)
        assert result.returncode in (0, 141), (args, result.returncode)


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    result = rugzak("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"rugzak {version('rugzak')}\n"
