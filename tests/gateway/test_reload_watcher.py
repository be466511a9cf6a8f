"""SupergraphWatcher: a changed file is handed over once; unreadable or refused ones are not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.schema.reload import SupergraphWatcher


class Recorder:
    def __init__(self, refuse: bool = False) -> None:
        self.seen: list[str] = []
        self.refuse = refuse

    async def __call__(self, sdl: str) -> None:
        if self.refuse:
            raise ValueError("does not compose")
        self.seen.append(sdl)


def write(path: Path, text: str, bump: int) -> None:
    """Replace the file by a rename, as deploy tools do, with a distinct mtime."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.utime(tmp, (1_000_000 + bump, 1_000_000 + bump))
    tmp.replace(path)


async def test_a_new_file_is_handed_over_once(tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    write(path, "one", 0)
    seen = Recorder()
    watcher = SupergraphWatcher(str(path), seen, current_sdl="one")
    assert not await watcher.check()  # unchanged
    write(path, "two", 1)
    assert await watcher.check()
    assert not await watcher.check()
    assert seen.seen == ["two"]


async def test_touching_without_changing_the_text_is_no_reload(tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    write(path, "one", 0)
    seen = Recorder()
    watcher = SupergraphWatcher(str(path), seen, current_sdl="one")
    write(path, "one", 5)
    assert not await watcher.check()
    assert seen.seen == []


async def test_a_missing_file_keeps_the_schema_and_is_picked_up_when_back(tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    write(path, "one", 0)
    seen = Recorder()
    watcher = SupergraphWatcher(str(path), seen, current_sdl="one")
    path.unlink()
    assert not await watcher.check()
    write(path, "two", 2)
    assert await watcher.check()
    assert seen.seen == ["two"]


async def test_a_refused_schema_is_not_retried_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    write(path, "one", 0)
    seen = Recorder(refuse=True)
    watcher = SupergraphWatcher(str(path), seen, current_sdl="one")
    write(path, "broken", 1)
    assert not await watcher.check()
    assert watcher.errors == 1
    write(path, "broken", 2)  # same text again: not handed over a second time
    assert not await watcher.check()
    assert watcher.errors == 1
    seen.refuse = False
    write(path, "fixed", 3)
    assert await watcher.check()
    assert seen.seen == ["fixed"]


def test_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SupergraphWatcher(str(tmp_path / "x"), Recorder(), interval=0)
