"""Checkpoint round trips, retention, and the saved-config comparison."""

import jax
import jax.numpy as jnp
import numpy as np

from wae_jax.training import checkpointing
from tests.training.tiny import tiny_config


def _state(scale: float):
    return {"w": jnp.arange(6.0).reshape(2, 3) * scale, "step": jnp.int32(3),
            "nested": {"b": jnp.ones(4, jnp.float16) * scale}}


def test_save_restore_round_trip_with_data_state(tmp_path):
    checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=2)
    data_state = {"settings": {"seed": 3}, "grain": {"next_index": 17}}
    checkpointer.save(5, _state(2.0), data_state)
    restored, restored_data, step = checkpointer.restore(
        checkpointing.abstract_like(_state(0.0)))
    checkpointer.close()
    assert step == 5 and restored_data == data_state
    for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(_state(2.0))):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_fits_compares_shapes_and_dtypes(tmp_path):
    checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=1)
    checkpointer.save(1, _state(1.0), {})
    assert checkpointer.fits(checkpointing.abstract_like(_state(0.0)))
    wider = {**_state(0.0), "w": jnp.zeros((2, 4))}
    halfs = {**_state(0.0), "w": jnp.zeros((2, 3), jnp.float16)}
    assert not checkpointer.fits(checkpointing.abstract_like(wider))
    assert not checkpointer.fits(checkpointing.abstract_like(halfs))
    checkpointer.close()


def test_keeps_only_the_newest(tmp_path):
    checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=2)
    for step in (1, 2, 3):
        checkpointer.save(step, _state(step), {})
    assert checkpointer.latest_step() == 3
    checkpointer.close()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["2", "3"]


def test_config_differences_list_changed_fields(tmp_path):
    config = tiny_config("wae_mmd", "")
    assert checkpointing.changed_fields(str(tmp_path), config) == []  # nothing saved yet
    checkpointing.write_config(str(tmp_path), config)
    assert checkpointing.changed_fields(str(tmp_path), config) == []
    config.learning_rate = 0.5
    config.model.widths = (8, 8, 8, 8)
    assert checkpointing.changed_fields(str(tmp_path), config) == [
        "learning_rate: 0.001 -> 0.5", "model.widths: [4, 4, 4, 4] -> [8, 8, 8, 8]"]
