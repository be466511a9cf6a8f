"""INSZ numbers (rijksregisternummer / identificatienummer van de sociale zekerheid).

An INSZ has 11 digits: the birth date as YYMMDD, a 3-digit daily serial (odd for men, even for
women) and a 2-digit check. The check is `97 - (int(first nine digits) % 97)`; for people born
from 2000 on it is computed over "2" followed by the first nine digits.

Synthetic people in Rugzak add 60 to the birth month (months 61-72): their numbers pass the check
but can never belong to a real person (real numbers use months 00-12, bis numbers 20-32 and
40-52).
"""

from __future__ import annotations

import re
from datetime import date

_ELEVEN_DIGITS = re.compile(r"\d{11}")

SYNTHETIC_MONTH_OFFSET = 60
"""Added to the birth month of every synthetic person."""


def check_digits(first_nine: str, *, born_from_2000: bool) -> str:
    """The two check digits for the first nine digits of an INSZ."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError(f"expected nine digits, got {first_nine!r}")
    number = int(("2" + first_nine) if born_from_2000 else first_nine)
    return f"{97 - number % 97:02d}"


def is_valid_insz(value: str) -> bool:
    """True when `value` is 11 digits whose check digits match (either century)."""
    if not isinstance(value, str) or not _ELEVEN_DIGITS.fullmatch(value):
        return False
    first_nine, check = value[:9], value[9:]
    return check in (
        check_digits(first_nine, born_from_2000=False),
        check_digits(first_nine, born_from_2000=True),
    )


def is_synthetic_insz(value: str) -> bool:
    """True for a valid INSZ whose month field is 61-72: a Rugzak test person, never a real one."""
    return is_valid_insz(value) and 61 <= int(value[2:4]) <= 72


def make_insz(birth_date: date, serial: int, *, synthetic: bool = True) -> str:
    """Build the INSZ for a birth date and daily serial (1-997).

    With `synthetic` (the default) the month is shifted by 60, so the number is valid but fake.
    """
    if not 1 <= serial <= 997:
        raise ValueError(f"serial must be 1-997, got {serial}")
    if not 1900 <= birth_date.year <= 2099:
        raise ValueError(f"birth year out of range: {birth_date.year}")
    month = birth_date.month + (SYNTHETIC_MONTH_OFFSET if synthetic else 0)
    first_nine = f"{birth_date.year % 100:02d}{month:02d}{birth_date.day:02d}{serial:03d}"
    return first_nine + check_digits(first_nine, born_from_2000=birth_date.year >= 2000)


def format_insz(value: str) -> str:
    """The usual printed form, e.g. 85.67.10-123.85."""
    if not _ELEVEN_DIGITS.fullmatch(value):
        raise ValueError(f"not an 11-digit INSZ: {value!r}")
    return f"{value[0:2]}.{value[2:4]}.{value[4:6]}-{value[6:9]}.{value[9:11]}"
