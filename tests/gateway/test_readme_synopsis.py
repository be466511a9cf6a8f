"""The README's synopsis of `rugzak serve` and `rugzak token` names exactly the options their
parsers take, so that neither drifts from `--help` again."""

from __future__ import annotations

import argparse
import re

from auth.token_cli import _parser as token_parser
from gateway import serve_options
from tests.servers import ROOT

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def synopsis(command: str) -> set[str]:
    """The flags on the README's lines for `rugzak COMMAND` and the indented lines after it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("```\nrugzak serve") :]
    block = block[: block.index("\n```")]
    flags: set[str] = set()
    inside = False
    for line in block.splitlines():
        if line.startswith("rugzak "):
            inside = line.startswith(f"rugzak {command} ")
        if inside:
            flags |= set(FLAG.findall(line))
    return flags


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        flag
        for action in parser._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    }


def test_the_serve_synopsis_names_every_option_of_serve_and_no_other() -> None:
    serve = argparse.ArgumentParser()
    serve_options.add_arguments(serve)
    assert synopsis("serve") == options(serve)


def test_the_token_synopsis_names_every_option_of_token_and_no_other() -> None:
    assert synopsis("token") == options(token_parser())


def test_the_demo_takes_every_option_of_serve_and_its_own() -> None:
    from gateway.cli import build_parser

    serve = argparse.ArgumentParser()
    serve_options.add_arguments(serve)
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    demo = options(commands.choices["demo"])
    assert demo - options(serve) == synopsis("demo") == {"--fresh"}
    assert options(serve) <= demo
