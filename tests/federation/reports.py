"""Numbers the federation tests collect for the end-of-run summary (conftest.py prints them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Generated:
    """A fixture set's generated operations: how many distinct ones were drawn, and how many of
    those were compared with Hive Gateway, compared with Apollo Gateway (Hive Gateway could not
    plan them), and could be planned by neither (Rugzak only had to answer them); and how many
    were sent dressed too (tests/federation/dressing.py): the three counts include those."""

    distinct: int
    by_hive: int
    by_apollo: int
    unplannable: int
    dressed: int = 0


# (reference gateway, fixture set, operation, Rugzak's subgraph requests, the reference's)
FETCH_COUNTS: list[tuple[str, str, str, int, int]] = []
GENERATED: dict[str, Generated] = {}
# generated operations where Hive Gateway's answer differed: Apollo Gateway's equalled ours, or
# ("both: ...") both differed in a shape of known_reference_bugs.py; or ("apollo: ...") Hive
# Gateway could not plan it and Apollo Gateway's answer differed in such a shape
REFERENCE_DIFFERS: list[tuple[str, str]] = []


def generated_summary() -> list[str]:
    lines = []
    for name, counts in sorted(GENERATED.items()):
        differs = [q for s, q in REFERENCE_DIFFERS if s == name and not q.startswith("apollo: ")]
        both = [q for q in differs if q.startswith("both: ")]
        apollo_differs = [q for s, q in REFERENCE_DIFFERS if s == name and q.startswith("apollo: ")]
        line = (
            f"{name}: {counts.distinct} distinct generated operations"
            + (f" and {counts.dressed} of them dressed" if counts.dressed else "")
            + "; "
            f"{counts.by_hive - len(differs)} gave equal answers to Hive Gateway's"
        )
        if differs:
            line += (
                f"; {len(differs)} differed from Hive Gateway's: Apollo Gateway agreed with "
                f"Rugzak on {len(differs) - len(both)}, {len(both)} are a shape both answer "
                "wrongly (tests/federation/known_reference_bugs.py), e.g. "
                + " ".join(differs[0].removeprefix("both: ").split())
            )
        if counts.by_apollo:
            line += (
                f"; {counts.by_apollo} Hive Gateway could not plan were compared with Apollo "
                f"Gateway ({len(apollo_differs)} differed in a shape of known_reference_bugs.py)"
            )
        if counts.unplannable:
            line += f"; {counts.unplannable} more neither reference could plan (Rugzak answered)"
        lines.append(line)
    return lines


def fetch_count_summary() -> list[str]:
    lines: list[str] = []
    for reference in sorted({row[0] for row in FETCH_COUNTS}):
        rows = [row[1:] for row in FETCH_COUNTS if row[0] == reference]
        ours = sum(row[2] for row in rows)
        theirs = sum(row[3] for row in rows)
        fewer = [row for row in rows if row[2] < row[3]]
        equal = sum(1 for row in rows if row[2] == row[3])
        more = [row for row in rows if row[2] > row[3]]
        lines.append(
            f"{reference}: subgraph requests over {len(rows)} operations: Rugzak {ours}, "
            f"{reference} {theirs}; fewer on {len(fewer)}, equal on {equal}, more on {len(more)}"
        )
        lines += [f"  more: {s}/{op}: Rugzak {o}, {reference} {t}" for s, op, o, t in more]
        lines += [f"  fewer: {s}/{op}: Rugzak {o}, {reference} {t}" for s, op, o, t in fewer]
    return lines
