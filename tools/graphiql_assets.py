"""`make run`'s GraphiQL: only the npm packages whose files the gateway serves
(gateway/http/graphiql.py: graphiql's UMD build, react and react-dom), not the 983 packages of the
test oracles.

Each comes at the version and integrity package-lock.json pins (one list of pins for the tests
and the demo), fetched with `npm pack` (npm's own cache and registry settings), checked against
that integrity here, and unpacked into DEST/<name>, a folder laid out like node_modules that
the gateway reads through RUGZAK_GRAPHIQL_DIR. A package already there at its pinned integrity is
left alone.

    python -m tools.graphiql_assets DEST
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from gateway.http.graphiql import ASSETS

ROOT = Path(__file__).resolve().parents[1]
MARKER = ".rugzak-integrity"  # the integrity of the tarball a folder was unpacked from


def packages() -> dict[str, tuple[str, str]]:
    """name -> (version, integrity) of each package an asset comes from, as the lock pins it."""
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    pinned = {}
    for path, _ in ASSETS.values():
        name = path.split("/", 1)[0]
        entry = lock["packages"][f"node_modules/{name}"]
        pinned[name] = (entry["version"], entry["integrity"])
    return pinned


def integrity(tarball: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def install(dest: Path) -> list[str]:
    """Unpack the pinned packages that are missing under `dest`; returns the names unpacked."""
    wanted = {
        name: pin
        for name, pin in packages().items()
        if not _marker_matches(dest / name, pin[1])
    }
    if not wanted:
        return []
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rugzak-graphiql-") as tmp:
        specs = [f"{name}@{version}" for name, (version, _) in wanted.items()]
        packed = subprocess.run(
            ["npm", "pack", *specs, "--json", "--pack-destination", tmp],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if packed.returncode != 0:
            raise SystemExit(f"npm pack {' '.join(specs)} failed:\n{packed.stderr.strip()}")
        for found in json.loads(packed.stdout):
            name, tarball = found["name"], Path(tmp) / found["filename"]
            expected = wanted[name][1]
            if integrity(tarball) != expected:
                raise SystemExit(f"{tarball.name}: integrity differs from package-lock.json")
            _unpack(tarball, dest / name, expected)
    return list(wanted)


def _marker_matches(folder: Path, expected: str) -> bool:
    try:
        return (folder / MARKER).read_text(encoding="ascii").strip() == expected
    except OSError:
        return False


def _unpack(tarball: Path, folder: Path, expected: str) -> None:
    """The tarball's `package/` as `folder`, swapped in whole (never half a package)."""
    staging = folder.with_name(folder.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(staging, filter="data")  # no links out, no absolute paths
    unpacked = staging / "package"
    (unpacked / MARKER).write_text(expected + "\n", encoding="ascii")
    shutil.rmtree(folder, ignore_errors=True)
    unpacked.rename(folder)
    shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tools.graphiql_assets DEST", file=sys.stderr)
        return 2
    names = install(Path(argv[0]))
    if names:
        print(f"GraphiQL's assets: {', '.join(names)} in {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
