"""The synthetic population that all three reference subgraphs share.

`population()` returns the same people on every call and in every process: the two showcase
citizens (Ann and Bram, with fixed INSZ numbers) followed by 1,000 generated Flemish citizens,
all from `random.Random(POPULATION_SEED)`. Every subgraph seeds its own store from this list, so a
citizen known to one subgraph is known to all of them, with the same name.

The data describe the world as of REFERENCE_DATE, never "today", so that seeding is
deterministic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from resolvers.common.insz import make_insz
from resolvers.common.municipalities import MUNICIPALITIES

POPULATION_SEED = 20_250_611
REFERENCE_DATE = date(2025, 10, 15)
"""The synthetic data's "today": payments, decisions and tickets all lie before it."""

SYNTHETIC_CITIZENS = 1_000

ANN_INSZ = "85671012385"
"""Ann Verstraete, born 10 July 1985, lives in Gent."""
BRAM_INSZ = "03621445638"
"""Bram Peeters, born 14 February 2003, lives in Antwerpen."""


@dataclass(frozen=True, slots=True)
class Person:
    insz: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    """"F" or "M"."""
    residence_nis_code: str

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


SHOWCASE: tuple[Person, ...] = (
    Person(ANN_INSZ, "Ann", "Verstraete", date(1985, 7, 10), "F", "44021"),
    Person(BRAM_INSZ, "Bram", "Peeters", date(2003, 2, 14), "M", "11002"),
)

FEMALE_NAMES: tuple[str, ...] = (
    "Emma", "Louise", "Marie", "Lotte", "Julie", "Sarah", "Laura", "Lisa", "Hanne", "Elise",
    "Nina", "Fien", "Katrien", "Sofie", "Els", "An", "Leen", "Evelien", "Lieve", "Marleen",
    "Hilde", "Inge", "Griet", "Nele", "Charlotte", "Noor", "Olivia", "Mila", "Lore", "Jana",
    "Ellen", "Tine", "Veerle", "Kaat", "Femke", "Lien", "Ine", "Annelies", "Greet", "Mieke",
)  # fmt: skip
MALE_NAMES: tuple[str, ...] = (
    "Lucas", "Arthur", "Noah", "Louis", "Liam", "Jules", "Wout", "Jonas", "Thomas", "Pieter",
    "Jan", "Tom", "Koen", "Bart", "Dirk", "Wim", "Stijn", "Jef", "Lars", "Seppe",
    "Robbe", "Warre", "Kobe", "Tuur", "Vic", "Mathias", "Gert", "Luc", "Marc", "Frederik",
    "Jeroen", "Steven", "Kristof", "Dries", "Brecht", "Joris", "Geert", "Filip", "Hendrik",
    "Sander",
)  # fmt: skip
FAMILY_NAMES: tuple[str, ...] = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
    "De Smet", "Vermeulen", "Van Damme", "De Clercq", "Hermans", "Aerts", "Michiels", "Pauwels",
    "Desmet", "Martens", "Lambrechts", "Verstraete", "Smets", "Van den Broeck", "Stevens",
    "De Backer", "Claeys", "Bogaert", "Cools", "Vandenberghe", "Verhoeven", "Van Hoof", "Leemans",
    "Segers", "Wuyts", "Vos", "Luyten", "Baert", "Coppens", "Dierckx", "Verlinden", "Thys",
    "Van Acker", "Moens", "Schepers", "Heylen", "Govaerts", "Nys", "Vervoort", "De Wilde",
    "Vanhove", "Van de Velde", "Declercq", "Devos", "Van Hecke", "Verbeke", "De Meyer",
)  # fmt: skip

# Bigger towns are home to more people; every other listed municipality has weight 1.
_RESIDENCE_WEIGHTS: dict[str, int] = {
    "11002": 12, "44021": 10, "31005": 5, "24062": 5, "12025": 4, "41002": 4, "34022": 3,
    "35013": 3, "71016": 3, "46021": 3, "36015": 2, "13040": 2,
}  # fmt: skip


@cache
def population() -> tuple[Person, ...]:
    """Ann, Bram and 1,000 synthetic citizens, identical on every call."""
    rng = random.Random(POPULATION_SEED)
    nis_codes = [m.nis_code for m in MUNICIPALITIES]
    weights = [_RESIDENCE_WEIGHTS.get(code, 1) for code in nis_codes]
    taken = {person.insz for person in SHOWCASE}
    people = list(SHOWCASE)
    earliest, latest = date(1940, 1, 1), date(2007, 12, 31)
    span = (latest - earliest).days
    while len(people) < len(SHOWCASE) + SYNTHETIC_CITIZENS:
        sex = rng.choice("FM")
        birth = earliest + timedelta(days=rng.randrange(span + 1))
        # Serial: odd for men, even for women, as in the real register.
        serial = rng.randrange(1, 499) * 2 - (1 if sex == "M" else 0)
        insz = make_insz(birth, serial)
        if insz in taken:
            continue
        taken.add(insz)
        given = rng.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
        people.append(
            Person(
                insz=insz,
                given_name=given,
                family_name=rng.choice(FAMILY_NAMES),
                birth_date=birth,
                sex=sex,
                residence_nis_code=rng.choices(nis_codes, weights)[0],
            )
        )
    return tuple(people)
