"""Flemish municipalities that the synthetic data uses: real NIS codes, names, provinces.

Only municipalities whose NIS code did not change in the mergers of 2019 and 2025 are listed, so
every code here is current. Coordinates are the approximate town centre (WGS84); the postal code
is the main one of the municipality.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Municipality:
    nis_code: str
    name: str
    province: str
    """One of the PROVINCES keys."""
    postal_code: str
    latitude: float
    longitude: float


PROVINCES: dict[str, str] = {
    "ANTWERPEN": "Antwerpen",
    "LIMBURG": "Limburg",
    "OOST_VLAANDEREN": "Oost-Vlaanderen",
    "VLAAMS_BRABANT": "Vlaams-Brabant",
    "WEST_VLAANDEREN": "West-Vlaanderen",
}

_A, _L, _O, _B, _W = "ANTWERPEN", "LIMBURG", "OOST_VLAANDEREN", "VLAAMS_BRABANT", "WEST_VLAANDEREN"

MUNICIPALITIES: tuple[Municipality, ...] = (
    # province of Antwerpen
    Municipality("11002", "Antwerpen", _A, "2000", 51.2194, 4.4025),
    Municipality("11005", "Boom", _A, "2850", 51.0920, 4.3670),
    Municipality("11008", "Brasschaat", _A, "2930", 51.2910, 4.4920),
    Municipality("11013", "Edegem", _A, "2650", 51.1550, 4.4450),
    Municipality("11018", "Kapellen", _A, "2950", 51.3130, 4.4330),
    Municipality("11029", "Mortsel", _A, "2640", 51.1700, 4.4560),
    Municipality("11040", "Schoten", _A, "2900", 51.2520, 4.5030),
    Municipality("12014", "Heist-op-den-Berg", _A, "2220", 51.0760, 4.7280),
    Municipality("12021", "Lier", _A, "2500", 51.1313, 4.5704),
    Municipality("12025", "Mechelen", _A, "2800", 51.0259, 4.4776),
    Municipality("12035", "Willebroek", _A, "2830", 51.0600, 4.3600),
    Municipality("13008", "Geel", _A, "2440", 51.1620, 4.9896),
    Municipality("13011", "Herentals", _A, "2200", 51.1766, 4.8360),
    Municipality("13025", "Mol", _A, "2400", 51.1910, 5.1166),
    Municipality("13040", "Turnhout", _A, "2300", 51.3227, 4.9447),
    # Vlaams-Brabant
    Municipality("23016", "Dilbeek", _B, "1700", 50.8480, 4.2600),
    Municipality("23025", "Grimbergen", _B, "1850", 50.9340, 4.3720),
    Municipality("23027", "Halle", _B, "1500", 50.7339, 4.2345),
    Municipality("23088", "Vilvoorde", _B, "1800", 50.9281, 4.4245),
    Municipality("23094", "Zaventem", _B, "1930", 50.8830, 4.4730),
    Municipality("24001", "Aarschot", _B, "3200", 50.9868, 4.8366),
    Municipality("24020", "Diest", _B, "3290", 50.9848, 5.0511),
    Municipality("24059", "Landen", _B, "3400", 50.7530, 5.0820),
    Municipality("24062", "Leuven", _B, "3000", 50.8798, 4.7005),
    Municipality("24107", "Tienen", _B, "3300", 50.8070, 4.9378),
    # West-Vlaanderen
    Municipality("31004", "Blankenberge", _W, "8370", 51.3130, 3.1320),
    Municipality("31005", "Brugge", _W, "8000", 51.2093, 3.2247),
    Municipality("31043", "Knokke-Heist", _W, "8300", 51.3500, 3.2650),
    Municipality("32003", "Diksmuide", _W, "8600", 51.0330, 2.8630),
    Municipality("33011", "Ieper", _W, "8900", 50.8503, 2.8852),
    Municipality("33021", "Poperinge", _W, "8970", 50.8550, 2.7260),
    Municipality("34022", "Kortrijk", _W, "8500", 50.8280, 3.2649),
    Municipality("34027", "Menen", _W, "8930", 50.7970, 3.1210),
    Municipality("34040", "Waregem", _W, "8790", 50.8890, 3.4260),
    Municipality("35013", "Oostende", _W, "8400", 51.2154, 2.9287),
    Municipality("36008", "Izegem", _W, "8870", 50.9140, 3.2130),
    Municipality("36015", "Roeselare", _W, "8800", 50.9469, 3.1227),
    Municipality("38008", "De Panne", _W, "8660", 51.0990, 2.5910),
    Municipality("38014", "Koksijde", _W, "8670", 51.1160, 2.6370),
    Municipality("38025", "Veurne", _W, "8630", 51.0720, 2.6620),
    # Oost-Vlaanderen
    Municipality("41002", "Aalst", _O, "9300", 50.9378, 4.0403),
    Municipality("41018", "Geraardsbergen", _O, "9500", 50.7730, 3.8820),
    Municipality("41048", "Ninove", _O, "9400", 50.8283, 4.0250),
    Municipality("42006", "Dendermonde", _O, "9200", 51.0287, 4.1010),
    Municipality("42025", "Wetteren", _O, "9230", 51.0020, 3.8830),
    Municipality("42028", "Zele", _O, "9240", 51.0660, 4.0390),
    Municipality("43005", "Eeklo", _O, "9900", 51.1850, 3.5630),
    Municipality("44021", "Gent", _O, "9000", 51.0543, 3.7174),
    Municipality("45035", "Oudenaarde", _O, "9700", 50.8450, 3.6050),
    Municipality("45041", "Ronse", _O, "9600", 50.7450, 3.6000),
    Municipality("46021", "Sint-Niklaas", _O, "9100", 51.1650, 4.1437),
    Municipality("46025", "Temse", _O, "9140", 51.1280, 4.2140),
    # Limburg
    Municipality("71004", "Beringen", _L, "3580", 51.0490, 5.2260),
    Municipality("71011", "Diepenbeek", _L, "3590", 50.9080, 5.4180),
    Municipality("71016", "Genk", _L, "3600", 50.9650, 5.5008),
    Municipality("71053", "Sint-Truiden", _L, "3800", 50.8160, 5.1860),
    Municipality("72004", "Bree", _L, "3960", 51.1400, 5.5960),
    Municipality("72020", "Lommel", _L, "3920", 51.2300, 5.3130),
    Municipality("72021", "Maaseik", _L, "3680", 51.0980, 5.7860),
    Municipality("73042", "Lanaken", _L, "3620", 50.8930, 5.6470),
    Municipality("73107", "Maasmechelen", _L, "3630", 50.9650, 5.6950),
)

BY_NIS_CODE: dict[str, Municipality] = {m.nis_code: m for m in MUNICIPALITIES}

# A rough bounding box around the Flemish Region (it also contains Brussels; that is fine for
# catching swapped or nonsense coordinates, which is what it is for).
FLANDERS_MIN_LATITUDE = 50.67
FLANDERS_MAX_LATITUDE = 51.51
FLANDERS_MIN_LONGITUDE = 2.54
FLANDERS_MAX_LONGITUDE = 5.92


def in_flanders(latitude: float, longitude: float) -> bool:
    """True when the point lies inside Flanders' rough bounding box."""
    return (
        FLANDERS_MIN_LATITUDE <= latitude <= FLANDERS_MAX_LATITUDE
        and FLANDERS_MIN_LONGITUDE <= longitude <= FLANDERS_MAX_LONGITUDE
    )
