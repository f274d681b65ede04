"""results.csv of the per-class study: one row per (generator, latent_dim, train_size,
condition, seed), appended cell by cell, so an interrupted grid resumes where it was."""

import csv
import os
from typing import Iterable

from wae_jax.files import csv_file

COLUMNS = ("generator", "latent_dim", "train_size", "condition", "seed", "f1")
CONDITIONS = ("cnn", "vae", "aug", "aug_vae")  # the paper's CNN, VAE, AUG, AUG+VAE
# What each condition's CNN trains on: (generated images, conventional augmentation).
CONDITION_SETTINGS = {"cnn": (False, False), "vae": (True, False), "aug": (False, True),
                      "aug_vae": (True, True)}
GENERATED = tuple(c for c in CONDITIONS if CONDITION_SETTINGS[c][0])
REAL_ONLY = tuple(c for c in CONDITIONS if not CONDITION_SETTINGS[c][0])
LABELS = {"cnn": "CNN", "vae": "VAE", "aug": "AUG", "aug_vae": "AUG+VAE"}
Cell = tuple[str, int, int, int]  # (generator, latent_dim, train_size, seed)


def read_rows(path: str) -> list[dict]:
    """The rows so far, typed (ints, float f1); [] when the file does not exist yet."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{**row, "latent_dim": int(row["latent_dim"]), "train_size": int(row["train_size"]),
             "seed": int(row["seed"]), "f1": float(row["f1"])} for row in rows]


def append_rows(path: str, rows: Iterable[dict]) -> None:
    """Appends rows (writing the header first into a new file) and flushes to disk; a row
    missing a column raises KeyError."""
    csv_file.append(path, COLUMNS, ({c: row[c] for c in COLUMNS} for row in rows))


def cell_of(row: dict) -> Cell:
    return (row["generator"], row["latent_dim"], row["train_size"], row["seed"])


def finished_cells(rows: Iterable[dict]) -> set[Cell]:
    """Cells with a row for every condition."""
    conditions: dict[Cell, set[str]] = {}
    for row in rows:
        conditions.setdefault(cell_of(row), set()).add(row["condition"])
    return {cell for cell, done in conditions.items() if done >= set(CONDITIONS)}
