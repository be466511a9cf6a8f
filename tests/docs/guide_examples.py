"""The examples of the guides in docs/, as the guide test runs them.

A fenced block is run when its language is `sh`, `bash` or `graphql`, unless the line before its
fence is `<!-- not run: WHY -->` (kept for what a test cannot do, e.g. a real identity
provider). Comment lines in a block say what to check:

    # as: --citizen 85671012385   (graphql) the caller: a token from `rugzak token ARGS`;
                                  none for an anonymous caller
    # header: NAME: VALUE         (graphql) one more request header
    # status: 403                 (graphql) the HTTP status (default 200)
    # exit: 1                     (sh) the exit status of the block (default 0)
    # expect: TEXT                TEXT must be in the output (sh: stdout and stderr; graphql:
                                  the compact JSON body, e.g. "givenName":"Ann")

Shell blocks run with bash -eo pipefail from the repo's folder, with the venv's `rugzak` on
PATH; `127.0.0.1:4000` in a block is the demo the test started.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

RUN_LANGUAGES = ("sh", "bash", "graphql")
_FENCE = re.compile(r"^```(\S*)\s*$")
_NOT_RUN = re.compile(r"^<!-- not run: (.+\S) -->$")
_DIRECTIVE = re.compile(r"^\s*# (as|header|status|exit|expect): ?(.*)$")


@dataclass
class Example:
    guide: str
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    not_run: str | None = None  # the reason it is not run
    directives: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.guide}:{self.line}"

    def one(self, name: str, default: str | None = None) -> str | None:
        values = self.directives.get(name, [])
        assert len(values) <= 1, f"{self.id}: more than one `# {name}:`"
        return values[0] if values else default


def examples(path: Path) -> list[Example]:
    """Every fenced block of a runnable language in the guide at `path`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None or not opening.group(1):
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        assert i < len(lines), f"{path.name}:{start + 1}: unclosed fence"
        i += 1
        language = opening.group(1)
        if language not in RUN_LANGUAGES:
            continue
        previous = lines[start - 1].strip() if start > 0 else ""
        reason = _NOT_RUN.match(previous)
        example = Example(
            path.name, start + 1, language, "\n".join(body) + "\n",
            reason.group(1) if reason else None,
        )  # fmt: skip
        for line in body:
            directive = _DIRECTIVE.match(line)
            if directive:
                example.directives.setdefault(directive.group(1), []).append(directive.group(2))
        found.append(example)
    return found
