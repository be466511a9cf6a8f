from __future__ import annotations

import pytest

from auth.insz import is_valid_insz, normalize_insz


def _with_check(first9: str, *, born_2000s: bool = False) -> str:
    number = int(("2" if born_2000s else "") + first9)
    return f"{first9}{97 - number % 97:02d}"


@pytest.mark.parametrize(
    "insz",
    [
        "85073003328",  # born 1985
        _with_check("010101123", born_2000s=True),  # born 2001: "2" before the 9 digits
        _with_check("906512345"),  # synthetic: birth month 65 (May + 60)
        _with_check("000000001"),
    ],
)
def test_valid(insz: str) -> None:
    assert is_valid_insz(insz)
    assert normalize_insz(insz) == insz


def test_the_two_centuries_differ() -> None:
    born_2001 = _with_check("010101123", born_2000s=True)
    born_1901 = _with_check("010101123")
    assert born_2001 != born_1901
    assert is_valid_insz(born_2001) and is_valid_insz(born_1901)


def test_separators_are_allowed_when_normalizing() -> None:
    assert normalize_insz("85.07.30-033.28") == "85073003328"
    assert normalize_insz(" 850730 033 28") == "85073003328"
    assert not is_valid_insz("85.07.30-033.28")  # is_valid_insz wants the bare 11 digits


FULL_WIDTH_DIGITS = "".join(chr(0xFF10 + int(d)) for d in "85073003328")  # isdigit(), not ASCII


@pytest.mark.parametrize(
    "value",
    ["85073003329", "8507300332", "850730033288", "8507300332a", "", FULL_WIDTH_DIGITS],
)
def test_invalid(value: str) -> None:
    assert not is_valid_insz(value)
    with pytest.raises(ValueError):
        normalize_insz(value)
