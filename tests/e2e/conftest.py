from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack, reference_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with reference_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
