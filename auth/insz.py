"""The Belgian INSZ (rijksregisternummer / BIS number): 11 digits with a mod-97 check.

The first 9 digits are the birth date (YYMMDD) and a serial number; the last 2 are
`97 - (first9 % 97)`, where births from 2000 on put a "2" before the 9 digits. The year is not
known from the number alone, so both variants are accepted. Dates are not checked: BIS numbers
add 20 or 40 to the month, synthetic test people add 60, and unknown birth dates use 00.
"""

from __future__ import annotations

_SEPARATORS = str.maketrans("", "", " .-")


def normalize_insz(value: str) -> str:
    """Return the 11 digits of `value` (separators ' ', '.', '-' removed); ValueError if invalid."""
    digits = value.translate(_SEPARATORS)
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        raise ValueError("an INSZ has exactly 11 digits")
    body, check = digits[:9], int(digits[9:])
    if check not in (97 - int(body) % 97, 97 - int("2" + body) % 97):
        raise ValueError("the INSZ check digits do not match (mod 97)")
    return digits


def is_valid_insz(value: str) -> bool:
    """True when `value` is exactly 11 digits with a valid mod-97 check."""
    try:
        return normalize_insz(value) == value
    except ValueError:
        return False
