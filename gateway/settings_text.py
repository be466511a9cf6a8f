"""Settings written as `name=number,name=number` (`--priority`, `--gc`): one reading of them, so
that each such option refuses the same mistakes in the same words."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Number:
    field: str  # the settings' field it sets
    kind: type[int] | type[float]
    least: float  # the smallest value allowed
    above: bool = False  # True: `least` itself is not allowed either
    wants: str = "a number"  # as the message names it: "a number", "seconds"


def read_numbers(text: str, names: Mapping[str, Number], usage: str) -> dict[str, Any]:
    """The fields set by `text`, by field name, each of its Number's kind (typed Any: they go
    into a settings dataclass as keyword arguments). Raises ValueError for a name not in `names`
    (the message is `usage`), a value that is not a finite number of its kind, or one too
    small."""
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        number = names.get(name)
        if not sep or number is None:
            raise ValueError(f"{usage}; got {part!r}")
        try:
            parsed = number.kind(value.strip())
        except ValueError:
            parsed = math.nan
        if not math.isfinite(parsed):  # nan and inf compare as neither small nor large
            raise ValueError(f"{name}= wants {number.wants}, got {value!r}")
        if parsed < number.least or (number.above and parsed == number.least):
            bound = "more than" if number.above else "at least"
            raise ValueError(f"{name}= is too small: {value} ({bound} {number.least:g})")
        values[number.field] = parsed
    return values
