"""map_batches: fixed-size padded batches, one compiled program, padded rows dropped."""

import jax
import numpy as np
import pytest

from wae_jax.evaluation.batching import map_batches


def test_pads_the_last_batch_with_zeros_and_compiles_once():
    traces, batches = [], []

    @jax.jit
    def fn(x):
        traces.append(x.shape)
        return x.sum(axis=(1, 2)) * 2.0

    def record(batch):
        batches.append(batch)
        return fn(batch)

    inputs = np.arange(7 * 2 * 3, dtype=np.float32).reshape(7, 2, 3)
    out = map_batches(record, inputs, 3)
    np.testing.assert_array_equal(out, inputs.sum(axis=(1, 2)) * 2.0)
    assert traces == [(3, 2, 3)] and [len(b) for b in batches] == [3, 3, 3]
    assert not batches[-1][1:].any() and batches[-1].dtype == np.float32


def test_batch_larger_than_the_inputs_is_one_batch():
    inputs = np.arange(5, dtype=np.uint8)
    sizes = []
    out = map_batches(lambda b: sizes.append(len(b)) or b.astype(np.int32) + 1, inputs, 100)
    np.testing.assert_array_equal(out, np.arange(1, 6))
    assert sizes == [5]


@pytest.mark.parametrize("inputs, batch_size, message", [
    (np.zeros((3, 2)), 0, "batch_size=0: must be a positive integer"),
    (np.zeros((0, 2)), 4, "inputs: empty"),
])
def test_bad_arguments_are_refused(inputs, batch_size, message):
    with pytest.raises(ValueError, match=message):
        map_batches(lambda b: b, inputs, batch_size)
