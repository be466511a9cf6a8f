"""Keys, tokens and a loopback JWKS server for the auth tests: all real keys, real signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk, jwt

from auth.errors import AuthenticationError
from auth.principal import Principal

ISSUER = "https://idp.example.test"
AUDIENCE = "rugzak"
INSZ = "85073003328"  # the textbook example number, valid mod 97


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def now() -> int:
    return int(time.time())


def claims(**overrides: Any) -> dict[str, Any]:
    """Good claims for ISSUER/AUDIENCE; an override of None removes the claim."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "opaque-subject-1",
        "iat": now(),
        "nbf": now(),
        "exp": now() + 600,
        "rrn": INSZ,
        "scope": "profile:read",
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


@dataclass
class Signer:
    """A real private key, its algorithm and kid; `public_jwk` goes into a JWKS."""

    alg: str
    kid: str | None
    private_pem: str
    public_pem: str
    public_jwk: dict[str, Any]
    _keys: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def rsa(cls, kid: str | None = "rsa-1", bits: int = 2048, alg: str = "RS256") -> Signer:
        return cls._make(rsa.generate_private_key(public_exponent=65537, key_size=bits), alg, kid)

    @classmethod
    def ec(
        cls, kid: str | None = "ec-1", curve: ec.EllipticCurve | None = None, alg: str = "ES256"
    ) -> Signer:
        return cls._make(ec.generate_private_key(curve or ec.SECP256R1()), alg, kid)

    @classmethod
    def _make(cls, key: Any, alg: str, kid: str | None) -> Signer:
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        public_jwk = dict(jwk.construct(public_pem, alg).to_dict())
        public_jwk["use"] = "sig"
        if kid is not None:
            public_jwk["kid"] = kid
        return cls(alg, kid, private_pem, public_pem, public_jwk)

    def sign(
        self,
        payload: Mapping[str, Any],
        *,
        headers: Mapping[str, Any] | None = None,
        alg: str | None = None,
    ) -> str:
        extra = {"kid": self.kid} if self.kid is not None else {}
        extra.update(headers or {})
        algorithm = alg or self.alg
        key = self._keys.get(algorithm)
        if key is None:  # parsing a private PEM is slow (key checks): once per algorithm
            key = self._keys[algorithm] = jwk.construct(self.private_pem, algorithm)
        token: str = jwt.encode(dict(payload), key, algorithm=algorithm, headers=extra)
        return token

    def with_kid(self, kid: str) -> Signer:
        public_jwk = {**self.public_jwk, "kid": kid}
        return Signer(self.alg, kid, self.private_pem, self.public_pem, public_jwk, self._keys)


def jwks(*signers: Signer) -> dict[str, Any]:
    return {"keys": [signer.public_jwk for signer in signers]}


def hs256_token(header: Mapping[str, Any], payload: Mapping[str, Any], secret: bytes) -> str:
    """HMAC-signed by hand: python-jose itself refuses a PEM key as an HMAC secret."""
    signing_input = f"{b64json(dict(header))}.{b64json(dict(payload))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def unsigned_token(payload: Mapping[str, Any], alg: str = "none") -> str:
    return f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(dict(payload))}."


class FakeMonotonic:
    """A monotonic clock the test moves by hand (JWKS TTL and refetch rate limit)."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


async def expect_error(
    awaitable: Awaitable[Principal], code: str, *, token: str | None = None
) -> AuthenticationError:
    """Await, expect AuthenticationError with `code`, and check it does not echo the token."""
    with pytest.raises(AuthenticationError) as info:
        await awaitable
    error = info.value
    assert error.code == code, f"{error.code}: {error.message}"
    if token:
        for text in (error.message, str(error), repr(error), error.www_authenticate):
            assert token not in text
            for part in token.split("."):
                if len(part) > 8:
                    assert part not in text
    return error


@dataclass
class JwksServer:
    """A JWKS document served over real HTTP on 127.0.0.1 (port chosen at run time)."""

    document: Any
    status: int = 200
    delay: float = 0.0
    raw_body: bytes | None = None
    redirect_to: str | None = None
    requests: int = 0
    url: str = ""
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self) -> JwksServer:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with state._lock:
                    state.requests += 1
                if state.delay:
                    time.sleep(state.delay)
                if state.redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", state.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = (
                    state.raw_body
                    if state.raw_body is not None
                    else json.dumps(state.document).encode()
                )
                try:
                    self.send_response(state.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="jwks", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
