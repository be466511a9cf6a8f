"""Numbers the federation tests collect for the end-of-run summary (conftest.py prints them)."""

from __future__ import annotations

# (reference gateway, fixture set, operation, Rugzak's subgraph requests, the reference's)
FETCH_COUNTS: list[tuple[str, str, str, int, int]] = []
# fixture set -> generated operations compared, and those the reference gateway could not plan
GENERATED: dict[str, list[int]] = {}
# generated operations where Hive Gateway's answer differed: Apollo Gateway's equalled ours, or
# ("both: ...") both differed in a shape of known_reference_bugs.py
REFERENCE_DIFFERS: list[tuple[str, str]] = []


def generated_summary() -> list[str]:
    lines = []
    for name, (compared, unplannable) in sorted(GENERATED.items()):
        differs = [q for s, q in REFERENCE_DIFFERS if s == name]
        both = [q for q in differs if q.startswith("both: ")]
        line = f"{name}: {compared - len(differs)} generated operations gave equal answers"
        if differs:
            line += (
                f"; {len(differs)} differed from Hive Gateway's: Apollo Gateway agreed with "
                f"Rugzak on {len(differs) - len(both)}, {len(both)} are a shape both answer "
                "wrongly (tests/federation/known_reference_bugs.py), e.g. "
                + " ".join(differs[0].removeprefix("both: ").split())
            )
        if unplannable:
            line += f"; {unplannable} more the reference gateway could not plan (Rugzak answered)"
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
