"""Numbers the federation tests collect for the end-of-run summary (conftest.py prints them)."""

from __future__ import annotations

# (fixture set, operation, Rugzak's subgraph requests, the reference gateway's)
FETCH_COUNTS: list[tuple[str, str, int, int]] = []
# fixture set -> generated operations compared, and those the reference gateway could not plan
GENERATED: dict[str, list[int]] = {}


def generated_summary() -> list[str]:
    lines = []
    for name, (compared, unplannable) in sorted(GENERATED.items()):
        line = f"{name}: {compared} generated operations gave equal answers"
        if unplannable:
            line += f"; {unplannable} more the reference gateway could not plan (Rugzak answered)"
        lines.append(line)
    return lines


def fetch_count_summary() -> list[str]:
    if not FETCH_COUNTS:
        return []
    ours = sum(row[2] for row in FETCH_COUNTS)
    theirs = sum(row[3] for row in FETCH_COUNTS)
    fewer = sum(1 for row in FETCH_COUNTS if row[2] < row[3])
    equal = sum(1 for row in FETCH_COUNTS if row[2] == row[3])
    more = [row for row in FETCH_COUNTS if row[2] > row[3]]
    lines = [
        f"subgraph requests over {len(FETCH_COUNTS)} operations: Rugzak {ours}, "
        f"Hive Gateway {theirs}; fewer on {fewer}, equal on {equal}, more on {len(more)}"
    ]
    lines += [f"  more: {s}/{op}: Rugzak {o}, Hive Gateway {t}" for s, op, o, t in more]
    lines += [
        f"  fewer: {s}/{op}: Rugzak {o}, Hive Gateway {t}" for s, op, o, t in FETCH_COUNTS if o < t
    ]
    return lines
