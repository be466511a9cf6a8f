"""Whole plans as text: for each fixture set, the plan of every hand-written operation rendered by
gateway/planning/render.py, kept in `plans/<set>.txt`. A changed plan fails here and shows in
review as a diff of that file.

To accept changed plans, regenerate the files and read the diff before committing:

    RUGZAK_UPDATE_PLANS=1 .venv/bin/python -m pytest tests/federation/test_plan_snapshots.py

In-process, no servers: the sets are composed by the reference composer (as the property tests do)
and planned with progressive-override labels off.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from graphql import parse

from gateway.errors import GatewayError
from gateway.operation import normalize, select_operation
from gateway.planning import Planner
from gateway.planning.render import render_plan
from tests.composition import reference_composer
from tests.federation.harness import hand_written_operations
from tests.federation.test_planning_properties import composed

PLANS_DIR = Path(__file__).resolve().parent / "plans"
UPDATE = os.environ.get("RUGZAK_UPDATE_PLANS") == "1"
SETS = sorted({name for name, _ in hand_written_operations()})


def rendered_plans(fixture_set: str) -> str:
    """Every hand-written operation of `fixture_set` with its plan (or the planner's refusal)."""
    supergraph, _ = composed()[f"fixtures/{fixture_set}"]
    planner = Planner(supergraph)
    parts = []
    for name, path in hand_written_operations():
        if name != fixture_set:
            continue
        query = path.read_text()
        document = parse(query)
        try:
            operation = select_operation(document, None)
            op = normalize(supergraph.api_schema, document, operation, {})
            text = render_plan(planner.plan(op))
        except GatewayError as exc:
            text = f"{exc.code}: {exc.message}"
        parts.append(f"=== {path.stem}\n\n{query.strip()}\n\n{text}\n")
    return "\n".join(parts)


@pytest.mark.skipif(reference_composer.available() is not None, reason="no reference composer")
@pytest.mark.parametrize("fixture_set", SETS)
def test_plans_match_their_snapshot(fixture_set: str) -> None:
    snapshot = PLANS_DIR / f"{fixture_set}.txt"
    actual = rendered_plans(fixture_set)
    if UPDATE:
        PLANS_DIR.mkdir(exist_ok=True)
        snapshot.write_text(actual)
        return
    assert snapshot.exists(), f"no snapshot {snapshot}: regenerate with RUGZAK_UPDATE_PLANS=1"
    expected = snapshot.read_text()
    assert actual == expected, (
        f"the plans of {fixture_set} changed; if that is intended, regenerate {snapshot.name} "
        "with RUGZAK_UPDATE_PLANS=1 and review its diff"
    )


def test_every_snapshot_belongs_to_a_fixture_set() -> None:
    """A snapshot of a removed or renamed set would go unchecked."""
    stale = sorted(p.stem for p in PLANS_DIR.glob("*.txt") if p.stem not in SETS)
    assert not stale, f"snapshots without a fixture set: {stale}"
