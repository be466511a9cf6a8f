"""`rugzak serve --config rugzak.toml`: every option of a command from a TOML file.

The keys are read off the command's argument parser, so a flag added later is a key at once: a
key is the long flag without its dashes (`port`, `subgraph-url`, `breaker-slow`), its value what
the flag takes, typed as TOML types it:

    port = 4000                           # a number for a number, a string for the rest
    expose-query-plan = true              # a switch: true or false
    override-label = ["canary"]           # a repeatable flag: a list (or one value)
    breaker-slow = [2, "ticketing=5"]     # items as on the command line
    subgraph-url.education = "http://education:4001/graphql"   # NAME=VALUE items: a table
    operation-limits.max_depth = 12       # a JSON|@FILE option: a table (or a JSON string)

Every value has a place in the order of precedence: a flag on the command line, then the
environment variable the flag's help names (`env RUGZAK_...`), then the file, then the
default. A value the file sets for a repeatable flag is replaced, not extended, by the
command line's. `RUGZAK_CONFIG` names the file when `--config` does not.

A mistake is reported with the file, the line, the key and what was expected; all of them at
once (`rugzak config check FILE`). tomllib keeps no positions, so `_key_lines` finds them in the
text.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_ENV = "RUGZAK_CONFIG"
# where a value came from, for messages: "flag", "env RUGZAK_X", "FILE:LINE" or "default"
SOURCES = "config_sources"
# actions that are no setting of the command
_NOT_KEYS = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
# a variable the help names; `$RUGZAK_DATA_DIR/...` is a path in a default, not the flag's own
_ENV_NAME = re.compile(r"(?<![$\w])RUGZAK_[A-Z0-9_]+")
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


class ConfigError(ValueError):
    """One or more mistakes in a configuration file; the message has one line per mistake."""


@dataclass(frozen=True)
class FileValue:
    key: str
    value: Any  # as argparse would hold it: a converted scalar, a bool, or a list of strings
    line: int


def keys(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The file's keys of a command: each long option but --help and --config."""
    found: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if isinstance(action, _NOT_KEYS) or action.dest == "config":
            continue
        for flag in action.option_strings:
            if flag.startswith("--"):
                found[flag[2:]] = action
                break
    return found


def env_names(action: argparse.Action) -> tuple[str, ...]:
    """The environment variables that set this option, as its help names them."""
    return tuple(dict.fromkeys(_ENV_NAME.findall(action.help or "")))


def read(path: Path, parser: argparse.ArgumentParser) -> dict[str, FileValue]:
    """The settings in `path` for the command `parser` parses: ConfigError lists every mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message names the line and the column
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    lines = _key_lines(text)
    options = keys(parser)
    values: dict[str, FileValue] = {}
    problems: list[str] = []
    for key, raw in document.items():
        line = lines.get((key,), 1)
        action = options.get(key)
        if action is None:
            close = difflib.get_close_matches(key, list(options), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{path}:{line}: unknown key {key!r}{hint}")
            continue
        try:
            values[key] = FileValue(key, _convert(action, raw), line)
        except _Wrong as wrong:
            at = lines.get((key, wrong.subkey), line) if wrong.subkey else line
            got = _show(raw if wrong.item is _WHOLE else wrong.item)
            name = f"{key}.{wrong.subkey}" if wrong.subkey else key
            problems.append(f"{path}:{at}: {name}: expected {wrong.expected}, got {got}")
    if problems:
        raise ConfigError("\n".join(problems))
    return values


_WHOLE = object()  # the mistake is the key's whole value, not one item of it


class _Wrong(Exception):
    def __init__(self, expected: str, subkey: str | None = None, item: Any = _WHOLE) -> None:
        self.expected, self.subkey, self.item = expected, subkey, item


def _takes_pairs(action: argparse.Action) -> bool:
    return "=" in str(action.metavar or "")


def _takes_json(action: argparse.Action) -> bool:
    return str(action.metavar or "").startswith("JSON")


def _convert(action: argparse.Action, raw: Any) -> Any:
    """A TOML value as argparse would hold the flag's: ConversionError says what was wanted."""
    if action.nargs == 0:  # a switch (store_true and the like)
        if not isinstance(raw, bool):
            raise _Wrong("true or false")
        return action.const if raw else action.default
    if isinstance(action, argparse._AppendAction):
        if isinstance(raw, dict) and _takes_pairs(action):
            return [_typed(action, f"{name}={_text(action, v, name)}") for name, v in raw.items()]
        items = raw if isinstance(raw, list) else [raw]
        return [_typed(action, _text(action, item)) for item in items]
    if _takes_json(action) and isinstance(raw, dict | list):
        return json.dumps(raw)
    if isinstance(raw, dict) and _takes_pairs(action):  # entries=N,size=SIZE,...
        return ",".join(f"{name}={_text(action, v, name)}" for name, v in raw.items())
    return _typed(action, _text(action, raw))


def _text(action: argparse.Action, raw: Any, subkey: str | None = None) -> str:
    """A scalar as the command line would spell it; numbers only where a number is wanted."""
    wants_number = action.type in (int, float)
    if (
        isinstance(raw, bool)
        or not isinstance(raw, str | int | float)
        or (wants_number and isinstance(raw, str))
        or (action.type is int and isinstance(raw, float))
    ):
        raise _Wrong(_expected(action), subkey, raw)
    return raw if isinstance(raw, str) else repr(raw)


def _typed(action: argparse.Action, text: str) -> Any:
    value: Any = text
    if callable(action.type):
        try:
            value = action.type(text)
        except (ValueError, TypeError, argparse.ArgumentTypeError, SystemExit) as exc:
            raise _Wrong(_wanted(exc) or _expected(action)) from None
    if action.choices is not None and value not in action.choices:
        raise _Wrong(_expected(action))
    return value


def _expected(action: argparse.Action) -> str:
    metavar = action.metavar or (action.dest.upper() if action.type is None else None)
    if action.choices is not None:
        one = " or ".join(repr(c) for c in action.choices)
    elif action.type is int:
        one = "a whole number"
    elif action.type is float:
        one = "a number"
    elif _takes_json(action):
        one = "a table, a list or a string (JSON or @FILE)"
    elif action.type is not None:  # a parse function of the flag's own
        one = f"a valid {metavar or 'value'}"
    else:
        one = f"a string ({metavar})" if metavar else "a string"
    if isinstance(action, argparse._AppendAction):
        return f"{one}, or a list of them" + (", or a table" if _takes_pairs(action) else "")
    if _takes_pairs(action) and not _takes_json(action):
        return f"{one} or a table"
    return one


# the flag's own parse functions refuse with "rugzak: --flag wants WHAT, got VALUE"
_WANTS = re.compile(r" wants (.+?)(?:, got |: |$)")


def _wanted(exc: BaseException) -> str | None:
    """What the flag's parse function said it wants, if it said so."""
    found = _WANTS.search(str(exc.code if isinstance(exc, SystemExit) else exc))
    return found.group(1) if found else None


def _show(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, dict):
        return "a table"
    if isinstance(raw, list):
        return "a list"
    return repr(raw)


# `key = ...`, `"key" = ...`, `a.b = ...`; `[table]`; a multi-line string's quotes
_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_KEY_LINE = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_TABLE_LINE = re.compile(rf"^\s*\[\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]")
_PART = re.compile(_KEY_PART)


def _key_path(text: str) -> tuple[str, ...]:
    parts = []
    for part in _PART.findall(text):
        if part.startswith('"'):
            part = json.loads(part)
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line of each key (and of each table's keys) in a TOML text, 1-based."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_string: str | None = None  # the quotes of a multi-line string still open
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        table_match = _TABLE_LINE.match(line)
        if table_match and not line.lstrip().startswith("[["):
            table = _key_path(table_match.group(1))
            lines.setdefault(table, number)
            continue
        key_match = _KEY_LINE.match(line)
        if key_match:
            path = table + _key_path(key_match.group(1))
            for depth in range(1, len(path) + 1):
                lines.setdefault(path[:depth], number)
        for quotes in ('"""', "'''"):
            if line.count(quotes) % 2 == 1:
                in_string = quotes
    return lines


def config_path(argv: Sequence[str], env: Mapping[str, str]) -> Path | None:
    """The file `--config FILE` (or `--config=FILE`) names, else RUGZAK_CONFIG, else None."""
    finder = argparse.ArgumentParser(add_help=False)
    finder.add_argument("--config")
    known, _ = finder.parse_known_args(list(argv))
    given = known.config or env.get(CONFIG_ENV, "").strip()
    return Path(given) if given else None


def apply(
    parser: argparse.ArgumentParser,
    files: Sequence[Path],
    env: Mapping[str, str],
) -> dict[str, str]:
    """Make the settings of `files` (later files win) the defaults of `parser`, except those an
    environment variable sets. Returns where each came from, by key, for `settle`; ConfigError
    lists the files' mistakes."""
    options = keys(parser)
    merged: dict[str, tuple[Path, FileValue]] = {}
    problems = []
    for path in files:
        try:
            merged |= {key: (path, value) for key, value in read(path, parser).items()}
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join(problems))
    sources: dict[str, str] = {}
    defaults: dict[str, Any] = {}
    for key, (path, found) in merged.items():
        action = options[key]
        if _set_in(env, action):  # the environment overrides the file
            continue
        defaults[action.dest] = found.value
        sources[key] = f"{path}:{found.line}: key {key}"
        action.required = False  # the file gave it
    parser.set_defaults(**defaults)
    return sources


def _set_in(env: Mapping[str, str], action: argparse.Action) -> str | None:
    return next((name for name in env_names(action) if env.get(name, "").strip()), None)


def settle(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    file_sources: Mapping[str, str],
    env: Mapping[str, str],
) -> None:
    """After parsing: a repeatable flag given on the command line replaces the file's items
    (argparse appends to its default); and where each setting came from, kept for messages."""
    sources: dict[str, str] = {}
    for key, action in keys(parser).items():
        value = getattr(args, action.dest, None)
        default = parser.get_default(action.dest)
        given = value is not default if isinstance(value, list) else value != default
        if given and key in file_sources and isinstance(value, list):
            setattr(args, action.dest, value[len(default) :])
        variable = _set_in(env, action)
        if given:
            sources[key] = "flag"
        elif variable:
            sources[key] = f"env {variable}"
        elif key in file_sources:
            sources[key] = file_sources[key]
    setattr(args, SOURCES, sources)


def source(args: argparse.Namespace, key: str) -> str:
    """Where a setting came from: "flag", "env RUGZAK_X", "FILE:LINE: key K" or "default"."""
    sources: dict[str, str] = getattr(args, SOURCES, {})
    return sources.get(key, "default")


def locate(message: str, args: argparse.Namespace) -> str:
    """A message about `--flag` says where the flag's value came from, when not the command
    line: `(from rugzak.toml:12: key breaker-slow)` or `(from env RUGZAK_BREAKER_SLOW)`."""
    for flag in _FLAG.findall(message):
        where = source(args, flag[2:])
        if where not in ("flag", "default"):
            return f"{message} (from {where})"
    return message
