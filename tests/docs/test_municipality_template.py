"""examples/municipality-subgraph/ is a template a municipality copies: its own test (a real demo
gateway and the subgraph over loopback, registered and queried through the gateway) runs as part
of the suite, as the municipality would run it, from its own folder."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.servers import ROOT


def test_the_municipality_template_passes_its_own_test() -> None:
    folder = ROOT / "examples" / "municipality-subgraph"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^3 passed", done.stdout, re.MULTILINE), done.stdout
