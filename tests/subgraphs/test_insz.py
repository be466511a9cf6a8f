"""INSZ numbers: the check digits, the synthetic month shift, the shared population."""

from __future__ import annotations

from datetime import date

import pytest

from auth.insz import is_valid_insz as auth_is_valid_insz
from resolvers.common.insz import (
    check_digits,
    format_insz,
    is_synthetic_insz,
    is_valid_insz,
    make_insz,
)
from resolvers.common.population import ANN_INSZ, BRAM_INSZ, SYNTHETIC_CITIZENS, population


def test_ann_and_bram_are_valid_and_synthetic() -> None:
    assert ANN_INSZ == "85671012385"
    assert BRAM_INSZ == "03621445638"
    for insz in (ANN_INSZ, BRAM_INSZ):
        assert is_valid_insz(insz)
        assert is_synthetic_insz(insz)


def test_check_digits_by_century() -> None:
    # Ann, born 1985: 97 - (856710123 % 97); Bram, born 2003: computed over "2" + first nine.
    assert check_digits("856710123", born_from_2000=False) == "85"
    assert check_digits("036214456", born_from_2000=True) == "38"
    assert check_digits("036214456", born_from_2000=False) != "38"


@pytest.mark.parametrize(
    "value",
    [
        "85671012384",  # wrong check
        "85671012386",
        "03621445639",
        "8567101238",  # ten digits
        "856710123850",  # twelve digits
        "85.67.10-123.85",  # printed form is not accepted as an argument
        "8567101238a",
        "",
        "٨٥٦٧١٠١٢٣٨٥",  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_invalid_numbers(value: str) -> None:
    assert not is_valid_insz(value)


def test_make_insz_round_trips_both_centuries() -> None:
    old = make_insz(date(1999, 12, 31), 1)
    new = make_insz(date(2000, 1, 1), 2)
    assert old.startswith("997231001") and is_valid_insz(old)
    assert new.startswith("006101002") and is_valid_insz(new)
    assert new[9:] == check_digits(new[:9], born_from_2000=True)
    real = make_insz(date(1985, 7, 10), 123, synthetic=False)
    assert real[2:4] == "07" and is_valid_insz(real) and not is_synthetic_insz(real)


def test_make_insz_rejects_bad_serials() -> None:
    for serial in (0, 998):
        with pytest.raises(ValueError):
            make_insz(date(1990, 1, 1), serial)


def test_format() -> None:
    assert format_insz(ANN_INSZ) == "85.67.10-123.85"


def test_population_has_1000_valid_synthetic_citizens_plus_the_showcase() -> None:
    people = population()
    assert len(people) == SYNTHETIC_CITIZENS + 2 >= 1_002
    assert [p.insz for p in people[:2]] == [ANN_INSZ, BRAM_INSZ]
    numbers = [p.insz for p in people]
    assert len(set(numbers)) == len(numbers)
    for person in people:
        assert is_valid_insz(person.insz), person
        assert is_synthetic_insz(person.insz), person
        # the independent implementation in auth/ agrees
        assert auth_is_valid_insz(person.insz), person
        assert int(person.insz[2:4]) == person.birth_date.month + 60
        assert person.insz[4:6] == f"{person.birth_date.day:02d}"
        serial_is_odd = int(person.insz[6:9]) % 2 == 1
        if person.insz not in (ANN_INSZ, BRAM_INSZ):
            assert serial_is_odd == (person.sex == "M")


def test_population_is_the_same_every_time() -> None:
    population.cache_clear()
    first = population()
    population.cache_clear()
    assert population() == first
