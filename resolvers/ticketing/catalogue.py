"""What the ticketing domain knows: report categories, statuses and their workflow, street names.

Texts that citizens and civil servants read are in Dutch, as on a Flemish municipality's site.
"""

from __future__ import annotations

from datetime import datetime

CATEGORIES: dict[str, str] = {
    "LOOSE_PAVING_TILE": "Losliggende stoeptegel",
    "POTHOLE": "Put in de weg",
    "BROKEN_STREET_LIGHT": "Defecte straatverlichting",
    "ILLEGAL_DUMPING": "Sluikstort",
    "GRAFFITI": "Graffiti",
    "OVERFLOWING_BIN": "Volle vuilnisbak",
    "DAMAGED_TRAFFIC_SIGN": "Beschadigd verkeersbord",
    "FALLEN_TREE": "Omgevallen boom of afgebroken tak",
    "BLOCKED_DRAIN": "Verstopte straatkolk",
    "ABANDONED_BICYCLE": "Achtergelaten fiets",
}
"""Category code -> its Dutch label."""

STATUSES = (
    "NEW", "ACKNOWLEDGED", "SCHEDULED", "IN_PROGRESS", "ON_HOLD",
    "RESOLVED", "CLOSED", "CANCELLED", "REOPENED",
)  # fmt: skip
CLOSED_STATUSES = frozenset({"RESOLVED", "CLOSED", "CANCELLED"})
"""A ticket in one of these is no longer open."""

NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "NEW": ("ACKNOWLEDGED", "CANCELLED"),
    "ACKNOWLEDGED": ("SCHEDULED", "ON_HOLD", "CANCELLED"),
    "SCHEDULED": ("IN_PROGRESS", "ON_HOLD"),
    "IN_PROGRESS": ("RESOLVED", "ON_HOLD"),
    "ON_HOLD": ("SCHEDULED", "IN_PROGRESS", "CANCELLED"),
    "RESOLVED": ("CLOSED", "REOPENED"),
    "REOPENED": ("SCHEDULED", "IN_PROGRESS"),
    "CLOSED": (),
    "CANCELLED": (),
}
"""The workflow: which status may follow which."""

STATUS_NOTES: dict[str, str] = {
    "NEW": "Melding ontvangen via het e-loket.",
    "ACKNOWLEDGED": "Melding bekeken en toegewezen aan de bevoegde dienst.",
    "SCHEDULED": "Herstelling ingepland.",
    "IN_PROGRESS": "Ploeg ter plaatse.",
    "ON_HOLD": "Wacht op tussenkomst van een externe partij.",
    "RESOLVED": "Probleem verholpen.",
    "CLOSED": "Melding afgesloten.",
    "CANCELLED": "Dubbele melding: wordt opgevolgd onder een eerdere melding.",
    "REOPENED": "De melder geeft aan dat het probleem opnieuw opduikt.",
}
"""The internal note recorded with each status change."""

PUBLIC_UPDATES: dict[str, str] = {
    "ACKNOWLEDGED": "Bedankt voor uw melding. Onze dienst bekijkt het probleem.",
    "SCHEDULED": "De herstelling is ingepland. We houden u op de hoogte.",
    "ON_HOLD": "We wachten op een externe partij (bv. de netbeheerder of een aannemer).",
    "RESOLVED": "Het probleem is opgelost. Bedankt om dit te melden!",
    "CANCELLED": "Dit probleem werd al gemeld; we volgen het op onder die melding.",
    "REOPENED": "Uw melding werd heropend; we bekijken het opnieuw.",
}
"""The message the reporter sees when a ticket reaches a status (not every status has one)."""

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "LOOSE_PAVING_TILE": (
        "Losliggende stoeptegel voor de deur, gevaarlijk voor voetgangers.",
        "Enkele tegels van het voetpad liggen los en kantelen als je erop stapt.",
    ),
    "POTHOLE": (
        "Diepe put in het wegdek, fietsers moeten uitwijken.",
        "Gat in de rijbaan vlak na het zebrapad, groeit na elke regenbui.",
    ),
    "BROKEN_STREET_LIGHT": (
        "Straatlantaarn brandt al een week niet meer, de straat is 's avonds pikdonker.",
        "De verlichting knippert 's avonds voortdurend aan en uit.",
    ),
    "ILLEGAL_DUMPING": (
        "Sluikstort van vuilniszakken naast de glasbol.",
        "Iemand heeft een oude matras en bouwafval achtergelaten aan de rand van het park.",
    ),
    "GRAFFITI": (
        "Graffiti op de gevel van het gemeenschapscentrum.",
        "Beledigende tags op het bushokje.",
    ),
    "OVERFLOWING_BIN": (
        "Vuilnisbak aan de bushalte zit overvol, het afval waait weg.",
        "Hondenpoepbuizen al dagen niet geledigd.",
    ),
    "DAMAGED_TRAFFIC_SIGN": (
        "Verkeersbord omvergereden aan het kruispunt.",
        "Het voorrangsbord is gedraaid en niet meer zichtbaar voor het verkeer.",
    ),
    "FALLEN_TREE": (
        "Grote tak afgebroken na de storm, ligt half over het fietspad.",
        "Boom helt gevaarlijk over de rijbaan na de rukwinden van vannacht.",
    ),
    "BLOCKED_DRAIN": (
        "Straatkolk verstopt, bij regen staat het kruispunt onder water.",
        "Rioolrooster zit vol bladeren, het water loopt niet weg.",
    ),
    "ABANDONED_BICYCLE": (
        "Weesfiets al maanden vastgemaakt aan de fietsenstalling, zonder zadel.",
        "Achtergelaten fiets met platte banden blokkeert het voetpad.",
    ),
}
"""Sample descriptions per category, for the seed."""

STREETS = (
    "Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Nieuwstraat", "Schoolstraat",
    "Kapelstraat", "Beekstraat", "Veldstraat", "Hoogstraat", "Grote Markt", "Lindenlaan",
    "Kasteelstraat", "Bosstraat", "Processiestraat", "Leopoldlaan", "Sint-Jansstraat", "Heirbaan",
    "Zandstraat", "Meersstraat", "Populierenlaan", "Koning Albertstraat", "Vaartstraat",
)  # fmt: skip

DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 2000


def reference_for(ticket_id: int, created: datetime) -> str:
    """The reference a citizen quotes, e.g. MLD-2025-000123."""
    return f"MLD-{created.year}-{ticket_id:06d}"
