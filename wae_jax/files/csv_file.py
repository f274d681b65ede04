"""Result tables that grow row by row (a study's results.csv, the W2 protocol's runs):
rows are appended and forced to disk, so a kill loses only the cell it interrupts."""

import csv
import os
from typing import Iterable, Sequence


def append(path: str | os.PathLike, columns: Sequence[str], rows: Iterable[dict]) -> None:
    """Appends `rows` (keys outside `columns` ignored), writing the header first into a new
    file, and flushes them to disk."""
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())
