"""`reference`: what the reference composition library makes of every set in
subgraph_sets.all_sets(), composed once per session in one Node.js run."""

from __future__ import annotations

import pytest

from tests.composition import reference_composer
from tests.composition.subgraph_sets import all_sets, newer_sets


@pytest.fixture(scope="session")
def reference() -> dict[str, dict[str, object]]:
    why_not = reference_composer.available()
    if why_not:
        pytest.skip(f"reference composition library unavailable: {why_not}")
    return reference_composer.compose_many(all_sets())


@pytest.fixture(scope="session")
def apollo_reference() -> dict[str, dict[str, object]]:
    """What Apollo's composition makes of the sets of Federation versions the reference
    library does not know yet (subgraph_sets.newer_sets())."""
    why_not = reference_composer.available()
    if why_not:
        pytest.skip(f"reference composition unavailable: {why_not}")
    return reference_composer.compose_many(newer_sets(), apollo=True)
