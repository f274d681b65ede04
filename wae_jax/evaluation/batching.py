"""Applies a compiled function to a large array in fixed-size batches.

The last batch is zero-padded to the full batch size, so one compiled program serves
every batch (a short last batch would compile a second one: seconds for Inception).
The decoder, Inception and classifier loops all go through `map_batches`.
"""

from typing import Callable

import jax
import numpy as np


def map_batches(fn: Callable[[np.ndarray], jax.Array], inputs: np.ndarray,
                batch_size: int) -> np.ndarray:
    """fn over consecutive `batch_size` slices of `inputs`, concatenated on the host.

    `fn` sees only full batches (the last one padded with zeros) and must map each
    input row to one output row; padded rows are dropped. Callers that place arrays on
    a mesh do that inside `fn`. All batches are dispatched before the first result is
    fetched, so host and device work overlap.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: must be a positive integer")
    if len(inputs) == 0:
        raise ValueError("inputs: empty; pass at least one row")
    batch_size = min(batch_size, len(inputs))
    outputs = []
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start:start + batch_size]
        pad = batch_size - len(batch)
        if pad:
            batch = np.concatenate([batch, np.zeros((pad,) + batch.shape[1:], batch.dtype)])
        outputs.append((fn(batch), batch_size - pad))
    return np.concatenate([np.asarray(output)[:valid] for output, valid in outputs])
