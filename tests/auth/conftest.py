from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.auth.helpers import JwksServer, Signer, jwks


@pytest.fixture(scope="session")
def rsa_signer() -> Signer:
    return Signer.rsa("rsa-1")


@pytest.fixture(scope="session")
def ec_signer() -> Signer:
    return Signer.ec("ec-1")


@pytest.fixture(scope="session")
def other_rsa_signer() -> Signer:
    """A second RSA key, published by nobody we trust."""
    return Signer.rsa("rsa-other")


@pytest.fixture
def jwks_file(tmp_path: Path, rsa_signer: Signer, ec_signer: Signer) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(rsa_signer, ec_signer)))
    return path


@pytest.fixture
def jwks_server(rsa_signer: Signer, ec_signer: Signer) -> Iterator[JwksServer]:
    server = JwksServer(jwks(rsa_signer, ec_signer)).start()
    try:
        yield server
    finally:
        server.stop()
