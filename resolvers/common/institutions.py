"""Education institutions that the education and allowances stores both refer to, by number.

The names are those of real Flemish schools, university colleges, universities and
adult-education centres; the institution numbers are synthetic. The education subgraph owns the
`Institution` entity; the allowances subgraph only refers to it (a study grant application names
the institution where the student enrols).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Institution:
    number: str
    """Institution number (instellingsnummer), synthetic."""
    name: str
    kind: str
    """SECONDARY_SCHOOL, UNIVERSITY_COLLEGE, UNIVERSITY or ADULT_EDUCATION."""
    nis_code: str
    """NIS code of the municipality of its main site."""


INSTITUTIONS: tuple[Institution, ...] = (
    Institution("030155", "Universiteit Gent", "UNIVERSITY", "44021"),
    Institution("030163", "KU Leuven", "UNIVERSITY", "24062"),
    Institution("030171", "Universiteit Antwerpen", "UNIVERSITY", "11002"),
    Institution("030189", "Universiteit Hasselt", "UNIVERSITY", "71011"),
    Institution("031013", "HOGENT", "UNIVERSITY_COLLEGE", "44021"),
    Institution("031021", "Arteveldehogeschool", "UNIVERSITY_COLLEGE", "44021"),
    Institution("031039", "AP Hogeschool Antwerpen", "UNIVERSITY_COLLEGE", "11002"),
    Institution("031047", "Karel de Grote Hogeschool", "UNIVERSITY_COLLEGE", "11002"),
    Institution("031055", "Thomas More Mechelen-Antwerpen", "UNIVERSITY_COLLEGE", "12025"),
    Institution("031063", "UC Leuven-Limburg", "UNIVERSITY_COLLEGE", "24062"),
    Institution("031071", "Hogeschool West-Vlaanderen", "UNIVERSITY_COLLEGE", "34022"),
    Institution("031089", "VIVES Hogeschool", "UNIVERSITY_COLLEGE", "31005"),
    Institution("040113", "Sint-Bavohumaniora", "SECONDARY_SCHOOL", "44021"),
    Institution("040121", "Koninklijk Atheneum Antwerpen", "SECONDARY_SCHOOL", "11002"),
    Institution("040139", "Sint-Pieterscollege", "SECONDARY_SCHOOL", "24062"),
    Institution("040147", "Sint-Lodewijkscollege", "SECONDARY_SCHOOL", "31005"),
    Institution("040155", "Atheneum Mechelen", "SECONDARY_SCHOOL", "12025"),
    Institution("040163", "Sint-Jozefscollege", "SECONDARY_SCHOOL", "41002"),
    Institution("040171", "Koninklijk Atheneum Oostende", "SECONDARY_SCHOOL", "35013"),
    Institution("040189", "Sint-Amandscollege", "SECONDARY_SCHOOL", "34022"),
    Institution("040197", "Sint-Jan Berchmanscollege", "SECONDARY_SCHOOL", "71016"),
    Institution("040205", "Sint-Victorinstituut", "SECONDARY_SCHOOL", "13040"),
    Institution("040213", "Sint-Jozef-Klein-Seminarie", "SECONDARY_SCHOOL", "46021"),
    Institution("040221", "Vrij Technisch Instituut Roeselare", "SECONDARY_SCHOOL", "36015"),
    Institution("050104", "Syntra Midden-Vlaanderen", "ADULT_EDUCATION", "44021"),
    Institution("050112", "CVO Antwerpen", "ADULT_EDUCATION", "11002"),
    Institution("050120", "CVO Leuven-Landen", "ADULT_EDUCATION", "24062"),
    Institution("050138", "Syntra West", "ADULT_EDUCATION", "31005"),
    Institution("050146", "CVO Limburg", "ADULT_EDUCATION", "71016"),
)

HIGHER_EDUCATION: tuple[Institution, ...] = tuple(
    i for i in INSTITUTIONS if i.kind in ("UNIVERSITY", "UNIVERSITY_COLLEGE")
)
