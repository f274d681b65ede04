"""Metrics to TensorBoard event files (tensorboardX, no TensorFlow) and metrics.jsonl.

Only process 0 writes. A resumed run first drops what the killed run logged after
the checkpoint it resumes from (JSONL rows and TensorBoard events alike), so the
logs of an interrupted-and-resumed run read like those of an uninterrupted one.
"""

import json
import math
import os
from typing import Mapping

import numpy as np
import tensorboardX

from wae_jax.files import atomic_file

JSONL_NAME = "metrics.jsonl"


def read_jsonl(workdir: str) -> list[dict]:
    """All rows of the workdir's metrics.jsonl (empty list when there is none)."""
    path = os.path.join(workdir, JSONL_NAME)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _truncate_jsonl(path: str, last_step: int) -> None:
    """Keeps the rows with step <= last_step; a torn last line (SIGKILL mid-write) goes too."""
    if not os.path.exists(path):
        return
    kept = []
    with open(path) as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if row.get("step", math.inf) <= last_step:
                kept.append(line if line.endswith("\n") else line + "\n")
    with atomic_file.replaced(path) as f:
        f.writelines(kept)


def _json_value(value):
    """Python floats for JSON; non-finite values as strings ('nan', 'inf') to stay valid JSON."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


class MetricsWriter:
    """Scalars and images for one run; `start_step` is the step the run (re)starts from."""

    def __init__(self, workdir: str, start_step: int, enabled: bool):
        self.enabled = enabled
        self._jsonl = os.path.join(workdir, JSONL_NAME)
        self._tb = None
        if not enabled:
            return
        _truncate_jsonl(self._jsonl, start_step)
        # purge_step drops events at steps >= it that a killed run left behind.
        self._tb = tensorboardX.SummaryWriter(os.path.join(workdir, "tensorboard"),
                                              purge_step=start_step + 1 if start_step else None)

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        if not self.enabled:
            return
        for name, value in scalars.items():
            self._tb.add_scalar(name, float(value), step)
        row = {"step": int(step), **{k: _json_value(v) for k, v in scalars.items()}}
        with open(self._jsonl, "a") as f:
            f.write(json.dumps(row) + "\n")

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """uint8 [H, W, C] images to TensorBoard."""
        if not self.enabled:
            return
        for name, image in images.items():
            self._tb.add_image(name, image, step, dataformats="HWC")

    def flush(self) -> None:
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
