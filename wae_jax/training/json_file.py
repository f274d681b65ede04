"""JSON files that a kill never leaves half-written: written to a temporary file, then
renamed over the old one (config.json, population.json, eval.json, a sweep's records)."""

import json
import os
from typing import Any, Optional


def write(path: str, value: Any, sort_keys: bool = False) -> None:
    """Atomically (re)writes `path`; its directory must exist."""
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=2, sort_keys=sort_keys)
    os.replace(path + ".tmp", path)


def read(path: str) -> Optional[Any]:
    """The file's value, or None when there is no such file."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)
