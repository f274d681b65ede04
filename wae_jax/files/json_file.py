"""JSON files that a kill never leaves half-written (config.json, population.json,
eval.json, a sweep's records)."""

import json
import os
from typing import Any, Optional

from wae_jax.files import atomic_file


def write(path: str | os.PathLike, value: Any, sort_keys: bool = False) -> None:
    """Atomically (re)writes `path`; its directory must exist."""
    with atomic_file.replaced(path) as f:
        json.dump(value, f, indent=2, sort_keys=sort_keys)


def read(path: str | os.PathLike) -> Optional[Any]:
    """The file's value, or None when there is no such file."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)
