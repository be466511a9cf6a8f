"""The token verifier's settings, read from the environment (or `rugzak serve --trusted-issuers`).

One issuer (as before):

    RUGZAK_JWKS_URL         http(s):// or file:// URL, or a plain file path; unset: no verifier
    RUGZAK_TRUSTED_ISSUER   its `iss` (default rugzak-dev-issuer)
    RUGZAK_AUDIENCE         the `aud` it must name (default rugzak)

Several issuers, e.g. a citizens' IdP and a staff IdP:

    RUGZAK_TRUSTED_ISSUERS  a JSON array, or @FILE naming a file that holds one:
        [{"issuer": "https://citizens.example", "audience": "rugzak",
          "jwks_url": "https://citizens.example/jwks", "algorithms": ["RS256"]}, ...]

`algorithms` is optional (default RS256 and ES256). A `jwks_url` without a scheme is a file path,
relative to the @FILE's directory (to the working directory when the JSON is given inline).
RUGZAK_TRUSTED_ISSUERS and the single-issuer variables exclude each other.

For every issuer:

    RUGZAK_TOKEN_LEEWAY_SECONDS  clock skew allowed on exp, nbf and iat: 0 to 300 (default 30)
    RUGZAK_MAX_TOKEN_BYTES       longer tokens are refused unparsed: 1024 to 65536 (default 8192)

Every mistake is a ValueError whose message names the setting and what is wrong with it, so that
`rugzak serve` can print it and stop.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from auth.verifier import DEFAULT_AUDIENCE, DEFAULT_ISSUER, TokenVerifier, TrustedIssuer

SINGLE_ISSUER_VARIABLES = ("RUGZAK_JWKS_URL", "RUGZAK_TRUSTED_ISSUER", "RUGZAK_AUDIENCE")
TRUSTED_ISSUERS_VARIABLE = "RUGZAK_TRUSTED_ISSUERS"
LEEWAY_VARIABLE = "RUGZAK_TOKEN_LEEWAY_SECONDS"
MAX_TOKEN_BYTES_VARIABLE = "RUGZAK_MAX_TOKEN_BYTES"

DEFAULT_LEEWAY_SECONDS = 30
MAX_LEEWAY_SECONDS = 300
DEFAULT_MAX_TOKEN_BYTES = 8192
MAX_TOKEN_BYTES_RANGE = (1024, 65536)
MAX_CONFIG_FILE_BYTES = 1 << 20

_ISSUER_KEYS = ("issuer", "audience", "jwks_url", "algorithms")
_REQUIRED_KEYS = ("issuer", "audience", "jwks_url")
_WHOLE_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class VerifierSettings:
    """What `verifier_from_env` builds a TokenVerifier from."""

    issuers: tuple[TrustedIssuer, ...]
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES

    def verifier(self) -> TokenVerifier | None:
        if not self.issuers:
            return None
        return TokenVerifier(
            self.issuers,
            leeway_seconds=self.leeway_seconds,
            max_token_bytes=self.max_token_bytes,
        )


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not _WHOLE_NUMBER.fullmatch(text) or not low <= int(text) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)


def jwks_url_setting(value: str, base: Path | None) -> str:
    """A URL as it is; a plain path as a file:// URL (relative to `base`, else the cwd)."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    return path.resolve().as_uri()


class _IssuerEntry:
    """Reads one object of the issuers array; `fail` prefixes where in the settings it is."""

    def __init__(self, where: str, raw: object) -> None:
        self.where = where
        if not isinstance(raw, dict):
            self.fail(f"must be an object with {', '.join(_REQUIRED_KEYS)}, got {_kind(raw)}")
        self.raw: dict[str, Any] = raw
        name = raw.get("issuer")
        if isinstance(name, str) and name:
            self.where = f"{where} (issuer {name!r})"

    def fail(self, problem: str) -> NoReturn:
        raise ValueError(f"{self.where}: {problem}")

    def text(self, key: str) -> str:
        if key not in self.raw:
            self.fail(f"{key!r} is missing")
        value = self.raw[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{key!r} must be a non-empty string, got {_kind(value)}")
        if value != value.strip():
            self.fail(f"{key!r} has leading or trailing spaces")
        return value

    def algorithms(self) -> tuple[str, ...] | None:
        if "algorithms" not in self.raw:
            return None
        value = self.raw["algorithms"]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(item, str) and item for item in value)
        ):
            self.fail(f"'algorithms' must be a non-empty array of names, got {_kind(value)}")
        return tuple(dict.fromkeys(value))

    def check_keys(self) -> None:
        for key in self.raw:
            if key not in _ISSUER_KEYS:
                close = difflib.get_close_matches(key, _ISSUER_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                allowed = ", ".join(_ISSUER_KEYS)
                self.fail(f"unknown key {key!r}{hint}; an issuer has {allowed}")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an empty array" if not value else "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def parse_trusted_issuers(
    text: str, *, source: str, base: Path | None = None
) -> tuple[TrustedIssuer, ...]:
    """The issuers of a JSON array; ValueError (prefixed with `source`) for any mistake."""
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    except RecursionError:
        raise ValueError(f"{source} is nested too deeply") from None
    if not isinstance(document, list):
        raise ValueError(
            f"{source} must be a JSON array of issuer objects "
            f'([{{"issuer": ..., "audience": ..., "jwks_url": ...}}]), got {_kind(document)}'
        )
    if not document:
        raise ValueError(
            f"{source} lists no issuer; leave it unset to run without token verification"
        )
    issuers: list[TrustedIssuer] = []
    first_seen: dict[str, int] = {}
    for number, raw in enumerate(document, start=1):
        entry = _IssuerEntry(f"{source}, issuer {number}", raw)
        entry.check_keys()
        name = entry.text("issuer")
        audience = entry.text("audience")
        jwks_url = jwks_url_setting(entry.text("jwks_url"), base)
        algorithms = entry.algorithms()
        if name in first_seen:
            entry.fail(f"the same issuer is already issuer {first_seen[name]}; list it once")
        first_seen[name] = number
        try:
            if algorithms is None:
                trusted = TrustedIssuer(issuer=name, audience=audience, jwks_url=jwks_url)
            else:
                trusted = TrustedIssuer(
                    issuer=name, audience=audience, jwks_url=jwks_url, algorithms=algorithms
                )
        except ValueError as exc:
            entry.fail(str(exc))
        issuers.append(trusted)
    return tuple(issuers)


def load_trusted_issuers(value: str, *, source: str) -> tuple[TrustedIssuer, ...]:
    """`value` is the JSON array itself, or `@FILE` naming a file that holds it."""
    value = value.strip()
    if not value.startswith("@"):
        return parse_trusted_issuers(value, source=source)
    name = value[1:].strip()
    if not name:
        raise ValueError(f"{source}: '@' must be followed by a file name")
    path = Path(name).expanduser()
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"{source}: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_FILE_BYTES:
        raise ValueError(f"{source}: {path} is larger than 1 MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{source}: {path} is not UTF-8 text") from None
    return parse_trusted_issuers(text, source=f"{source} ({path})", base=path.resolve().parent)


def settings_from_env(
    env: Mapping[str, str], *, trusted_issuers: str | None = None
) -> VerifierSettings:
    """The verifier settings in `env`; `trusted_issuers` (from the command line) replaces the
    issuers of the environment, both RUGZAK_TRUSTED_ISSUERS and the single-issuer variables."""
    leeway = _whole_number(env, LEEWAY_VARIABLE, DEFAULT_LEEWAY_SECONDS, 0, MAX_LEEWAY_SECONDS)
    max_bytes = _whole_number(
        env, MAX_TOKEN_BYTES_VARIABLE, DEFAULT_MAX_TOKEN_BYTES, *MAX_TOKEN_BYTES_RANGE
    )
    if trusted_issuers is not None:
        if not trusted_issuers.strip():
            raise ValueError("--trusted-issuers wants a JSON array or @FILE, got nothing")
        issuers = load_trusted_issuers(trusted_issuers, source="--trusted-issuers")
        return VerifierSettings(issuers, leeway, max_bytes)

    several = env.get(TRUSTED_ISSUERS_VARIABLE, "").strip()
    if several:
        also = [name for name in SINGLE_ISSUER_VARIABLES if env.get(name, "").strip()]
        if also:
            raise ValueError(
                f"{TRUSTED_ISSUERS_VARIABLE} and {', '.join(also)} are both set; list every "
                f"issuer in {TRUSTED_ISSUERS_VARIABLE} and unset {', '.join(also)}"
            )
        issuers = load_trusted_issuers(several, source=TRUSTED_ISSUERS_VARIABLE)
        return VerifierSettings(issuers, leeway, max_bytes)

    jwks_url = env.get("RUGZAK_JWKS_URL", "").strip()
    if not jwks_url:
        return VerifierSettings((), leeway, max_bytes)
    issuer = env.get("RUGZAK_TRUSTED_ISSUER", "").strip() or DEFAULT_ISSUER
    audience = env.get("RUGZAK_AUDIENCE", "").strip() or DEFAULT_AUDIENCE
    try:
        trusted = TrustedIssuer(
            issuer=issuer, audience=audience, jwks_url=jwks_url_setting(jwks_url, None)
        )
    except ValueError as exc:
        raise ValueError(
            f"RUGZAK_JWKS_URL / RUGZAK_TRUSTED_ISSUER / RUGZAK_AUDIENCE: {exc}"
        ) from None
    return VerifierSettings((trusted,), leeway, max_bytes)
