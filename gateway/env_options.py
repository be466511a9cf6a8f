"""Options of `rugzak serve` for the settings that were environment variables only: the single
trusted issuer, token checks, the data directory and GraphiQL's assets.

They are read where they are used (auth/config.py, the stores, gateway/http/graphiql.py), from the
environment, possibly in processes the gateway starts (the registry's composition worker). So
an option given here is put into this process's environment before anything is built: the
flag wins over the variable, and a config file's key (gateway/config_file.py) gives way to it.
"""

from __future__ import annotations

import argparse
import os

# flag -> (environment variable, metavar, help)
OPTIONS: dict[str, tuple[str, str, str]] = {
    "--jwks-url": (
        "RUGZAK_JWKS_URL",
        "URL",
        "trust one issuer: its JWKS, an http(s) or file URL or a file path (--trusted-issuers "
        "for several)",
    ),
    "--trusted-issuer": ("RUGZAK_TRUSTED_ISSUER", "ISS", "that issuer's iss"),
    "--audience": ("RUGZAK_AUDIENCE", "AUD", "the aud its tokens must name"),
    "--token-leeway": (
        "RUGZAK_TOKEN_LEEWAY_SECONDS",
        "SECONDS",
        "clock skew allowed on exp, nbf and iat: 0 to 300 (default 30)",
    ),
    "--max-token-bytes": (
        "RUGZAK_MAX_TOKEN_BYTES",
        "N",
        "a longer token is refused unparsed: 1024 to 65536 (default 8192)",
    ),
    "--data-dir": (
        "RUGZAK_DATA_DIR",
        "DIR",
        "where the embedded stores live: registry, access log, spool (default .rugzak/data)",
    ),
    "--graphiql-dir": (
        "RUGZAK_GRAPHIQL_DIR",
        "DIR",
        "GraphiQL's npm packages, laid out like node_modules (default ./node_modules)",
    ),
}


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings also read from the environment")
    for flag, (variable, metavar, text) in OPTIONS.items():
        group.add_argument(flag, metavar=metavar, help=f"{text} (env {variable})")


def export(args: argparse.Namespace) -> None:
    """Put the options given into this process's environment, where their readers look."""
    for flag, (variable, _, _) in OPTIONS.items():
        value = getattr(args, _dest(flag), None)
        if value is not None:
            os.environ[variable] = str(value)
