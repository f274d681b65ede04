import json
import os
import subprocess
import sys
import textwrap

import grain
import numpy as np
import orbax.checkpoint as ocp
import pytest

from wae_jax import data
from tests.fast_compilation import xla_flags_with_devices

N, BATCH = 42, 8  # 5 full batches per epoch, 2 examples dropped.
PATTERN = np.array([10, 20, 30, 40], np.uint8)


def _arrays() -> tuple[np.ndarray, np.ndarray]:
    """Image i: row 0 = [i+1, 0, 0, 0] (identity), row 1 = PATTERN (reveals flips)."""
    images = np.zeros((N, 2, 4, 1), np.uint8)
    images[:, 0, 0, 0] = np.arange(N) + 1
    images[:, 1, :, 0] = PATTERN
    return images, np.arange(N) % 3


def _pipeline(seed: int = 0, **kwargs) -> data.PipelineIterator:
    kwargs = {"batch_size": BATCH, "value_range": "unit", **kwargs}
    return data.make_array_pipeline(*_arrays(), seed=seed, **kwargs)


def _decode(batch: dict) -> tuple[np.ndarray, np.ndarray]:
    """(record index, flipped?) of every row of a unit-range batch."""
    pixels = np.round(batch["image"][..., 0] * 255).astype(int)
    flipped = (pixels[:, 1] == PATTERN[::-1]).all(axis=1)
    assert (flipped | (pixels[:, 1] == PATTERN).all(axis=1)).all()
    return pixels[:, 0].max(axis=1) - 1, flipped


def _take(iterator, steps: int) -> list[dict]:
    return [next(iterator) for _ in range(steps)]


def _assert_same(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for key in ("image", "label"):
            np.testing.assert_array_equal(x[key], y[key])


def test_same_seed_same_batches_other_seed_other_batches():
    first = _take(_pipeline(seed=5, random_flip=True), 12)
    _assert_same(first, _take(_pipeline(seed=5, random_flip=True), 12))
    other = _take(_pipeline(seed=6, random_flip=True), 12)
    assert not np.array_equal(_decode(first[0])[0], _decode(other[0])[0])
    assert first[0]["image"].dtype == np.float32 and first[0]["label"].dtype == np.int32
    np.testing.assert_array_equal(first[0]["label"], _decode(first[0])[0] % 3)


def test_every_epoch_is_a_fresh_permutation_without_its_remainder():
    indices = np.concatenate([_decode(b)[0] for b in _take(_pipeline(seed=1), 15)])
    epochs = indices.reshape(3, N // BATCH * BATCH)
    for epoch in epochs:
        assert len(np.unique(epoch)) == len(epoch) and set(epoch) <= set(range(N))
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])


def test_resume_mid_epoch_continues_the_exact_sequence():
    iterator = _pipeline(seed=2, random_flip=True)
    _take(iterator, 7)
    state = json.loads(json.dumps(iterator.get_state()))  # JSON-able
    expected = _take(iterator, 8)
    resumed = _pipeline(seed=2, random_flip=True)
    resumed.set_state(state)
    _assert_same(_take(resumed, 8), expected)


def test_orbax_checkpoint_through_grains_handler_resumes_exactly(tmp_path):
    iterator = _pipeline(seed=3)
    _take(iterator, 3)
    with ocp.CheckpointManager(tmp_path / "ckpt", item_names=("data",)) as manager:
        manager.save(3, args=ocp.args.Composite(data=grain.checkpoint.CheckpointSave(iterator)))
        manager.wait_until_finished()
    expected = _take(iterator, 4)
    resumed = _pipeline(seed=3)
    with ocp.CheckpointManager(tmp_path / "ckpt", item_names=("data",)) as manager:
        restore = grain.checkpoint.CheckpointRestore(resumed)
        manager.restore(3, args=ocp.args.Composite(data=restore))
    _assert_same(_take(resumed, 4), expected)


def test_a_state_saved_with_other_settings_is_refused():
    state = _pipeline(seed=2).get_state()
    with pytest.raises(ValueError, match=r"seed=2 \(now 3\); resume with the saved data"):
        _pipeline(seed=3).set_state(state)


def test_value_ranges_and_flips():
    images, _ = _arrays()
    images[0, 0, 1:, 0] = 255  # both endpoints occur
    for value_range, (low, high) in (("unit", (0.0, 1.0)), ("symmetric", (-1.0, 1.0))):
        batch = next(data.make_array_pipeline(images, np.arange(N), batch_size=N, seed=0,
                                              value_range=value_range))
        assert batch["image"].min() == low and batch["image"].max() == high
        expected = images[batch["label"]] / 255.0 * (high - low) + low
        np.testing.assert_allclose(batch["image"], expected, rtol=0, atol=1e-6)
    flips = np.concatenate([_decode(b)[1] for b in _take(_pipeline(random_flip=True), 20)])
    assert 0.35 < flips.mean() < 0.65
    assert not np.concatenate([_decode(b)[1] for b in _take(_pipeline(), 5)]).any()


def test_processes_read_their_slice_of_the_same_global_batch():
    single = _take(_pipeline(seed=4, batch_size=16, random_flip=True), 6)
    shards = [_take(_pipeline(seed=4, batch_size=16, random_flip=True, process_index=p,
                              process_count=4), 6) for p in range(4)]
    for step, batch in enumerate(single):
        assert all(len(shard[step]["label"]) == 4 for shard in shards)
        for key in ("image", "label"):
            np.testing.assert_array_equal(
                np.concatenate([shard[step][key] for shard in shards]), batch[key])


@pytest.mark.parametrize("kwargs, match", [
    ({"value_range": "zero_one"}, "value_range='zero_one'; use one of unit, symmetric"),
    ({"batch_size": 64}, "batch_size=64 exceeds the 42 examples"),
    ({"batch_size": 10, "process_count": 4, "process_index": 0},
     "positive multiple of the process"),
    ({"seed": -1}, "non-negative int"),
])
def test_bad_settings_are_one_line_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _pipeline(**kwargs)


def test_tfds_route_yields_what_the_array_route_yields(prepared):
    kwargs = {"batch_size": 8, "seed": 7, "value_range": "symmetric", "random_flip": True}
    from_tfds = data.make_train_pipeline("mnist", data_dir=prepared["data_dir"], **kwargs)
    from_arrays = data.make_array_pipeline(*prepared["mnist"]["train"], **kwargs)
    _assert_same(_take(from_tfds, 16), _take(from_arrays, 16))  # 2+ epochs of 7 batches
    celeba = next(data.make_train_pipeline("celeb_a_64", data_dir=prepared["data_dir"],
                                           batch_size=4, seed=0, value_range="unit"))
    assert celeba["image"].shape == (4, 64, 64, 3) and (celeba["label"] == -1).all()


_SHARDING_SCRIPT = textwrap.dedent("""
    import jax, numpy as np
    from wae_jax import data
    assert jax.device_count() == 8, jax.devices()
    images = np.arange(48 * 4, dtype=np.uint8).reshape(48, 2, 2, 1)
    iterator = data.make_array_pipeline(images, np.arange(48), batch_size=16, seed=0,
                                        value_range="unit")
    batch = next(iterator)
    mesh = jax.make_mesh((8,), ("data",))
    global_batch = data.to_global_batch(batch, mesh)
    for key, array in global_batch.items():
      assert array.shape == batch[key].shape and array.dtype == batch[key].dtype
      assert array.sharding.spec == jax.sharding.PartitionSpec("data")
      for shard in array.addressable_shards:
        rows = shard.index[0]
        assert shard.data.shape[0] == 2
        np.testing.assert_array_equal(np.asarray(shard.data), batch[key][rows])
    for bad, match in ((jax.make_mesh((8,), ("model",)), "lack 'data'"), (mesh, "not divisible")):
      try:
        data.to_global_batch({"label": batch["label"][:12]}, bad)
      except ValueError as e:
        assert match in str(e), e
      else:
        raise AssertionError("no error")
    print("ok")
""")


def test_to_global_batch_shards_over_8_forced_cpu_devices():
    env = {**os.environ, "XLA_FLAGS": xla_flags_with_devices(8),
           "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", _SHARDING_SCRIPT], env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
