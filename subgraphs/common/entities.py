"""Descriptions of the entity types and key fields that several subgraphs define.

Composition keeps one description per type or field, so every subgraph uses the same words.
"""

CITIZEN = "A citizen, identified by INSZ (rijksregisternummer)."
CITIZEN_INSZ = "The citizen's INSZ (rijksregisternummer): 11 digits, no separators."
INSTITUTION = "A school, university college, university or adult-education centre."
INSTITUTION_NUMBER = "The institution number (instellingsnummer) in the education register."
MUNICIPALITY = "A Flemish municipality."
MUNICIPALITY_NIS_CODE = "The NIS code (e.g. 44021 for Gent, 11002 for Antwerpen)."

# Every field that one subgraph adds to an entity shared with others, and every field that leads
# into another subgraph, is nullable: behind the gateway, a subgraph that is down or slow then
# nulls only its own fields instead of, through GraphQL's null propagation, the whole citizen.
PARTIAL = " Null only when it could not be resolved (e.g. its subgraph is down); see errors."
