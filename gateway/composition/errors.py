"""Composition errors a person can act on: a code in the ecosystem's style, the subgraphs
involved, the schema coordinate, and what to change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CompositionError:
    code: str
    message: str
    subgraphs: tuple[str, ...] = ()
    coordinate: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f" [{self.coordinate}]" if self.coordinate else ""
        who = f" (subgraph{'s' if len(self.subgraphs) > 1 else ''} "
        who = who + ", ".join(self.subgraphs) + ")" if self.subgraphs else ""
        hint = f" To fix: {self.hint}" if self.hint else ""
        return f"{self.code}{where}{who}: {self.message}{hint}"


class CompositionFailed(Exception):
    """The subgraphs do not compose; `errors` says why, one `CompositionError` each."""

    def __init__(self, errors: Sequence[CompositionError]) -> None:
        self.errors = list(errors)
        super().__init__("composition failed:\n" + "\n".join(str(e) for e in self.errors))

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors]


@dataclass(slots=True)
class ErrorLog:
    """Collects errors while a step runs; `raise_if_any` ends composition with all of them."""

    errors: list[CompositionError] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        *,
        subgraphs: Sequence[str] = (),
        coordinate: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.errors.append(CompositionError(code, message, tuple(subgraphs), coordinate, hint))

    def raise_if_any(self) -> None:
        if self.errors:
            raise CompositionFailed(self.errors)
