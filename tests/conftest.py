"""Options for the whole suite: `--deep` runs the generated-operation tests at length."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--deep",
        action="store_true",
        help="many more generated operations, with a fresh random seed (same as RUGZAK_DEEP=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--deep"):
        os.environ["RUGZAK_DEEP"] = "1"  # read by the test modules, which import after this
