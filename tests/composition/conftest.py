"""`reference`: what the reference composition library makes of every set in
subgraph_sets.all_sets(), composed once per session in one Node.js run."""

from __future__ import annotations

import pytest

from tests.composition import reference_composer
from tests.composition.subgraph_sets import all_sets


@pytest.fixture(scope="session")
def reference() -> dict[str, dict[str, object]]:
    why_not = reference_composer.available()
    if why_not:
        pytest.skip(f"reference composition library unavailable: {why_not}")
    return reference_composer.compose_many(all_sets())
