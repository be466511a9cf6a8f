"""The reference composition library (@theguild/federation-composition, on Node.js) as the
oracle: many subgraph sets composed in one Node run."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from gateway.composition import SubgraphSource

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("reference_compose_many.mjs")
LIBRARY = ROOT / "node_modules" / "@theguild" / "federation-composition"


def available() -> str | None:
    """Why the reference cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not LIBRARY.is_dir():
        return "@theguild/federation-composition is not installed (npm ci)"
    return None


def compose_many(
    sets: Mapping[str, Sequence[SubgraphSource]], *, apollo: bool = False
) -> dict[str, dict[str, object]]:
    """set -> {"supergraph": sdl} or {"errors": ["CODE: message", ...]}. `apollo`: compose with
    Apollo's composition instead (for Federation v2.10 and later, which the reference library
    does not know yet)."""
    payload = {
        name: [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in subgraphs]
        for name, subgraphs in sets.items()
    }
    node = shutil.which("node")
    assert node is not None
    proc = subprocess.run(
        [node, str(SCRIPT), *(["--apollo"] if apollo else [])],
        input=json.dumps(payload).encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    result: dict[str, dict[str, object]] = json.loads(proc.stdout)
    return result


def error_codes(result: Mapping[str, object]) -> set[str]:
    return {str(e).split(":", 1)[0] for e in result.get("errors", ())}  # type: ignore[attr-defined]
