"""The training input pipeline: grain over a tfds data source (or in-memory arrays).

Every random choice is a pure function of (seed, epoch) or (seed, step): the epoch's
permutation and the flips of a global batch. Hence the iterator state is just the next
step (plus the settings, checked on restore), a resumed run continues the exact batch
sequence, and the global batch is the same for any process count: process p reads only
rows [p*b, (p+1)*b) of it, b = batch_size / process_count. Each epoch drops its last
incomplete global batch.

Checkpointing: the iterator is a `grain.DatasetIterator` whose `get_state()` is a
JSON-able dict, so with orbax save it beside the train state as
`grain.checkpoint.CheckpointSave(iterator)` and restore into a freshly made pipeline
with `grain.checkpoint.CheckpointRestore(iterator)` (both inside `ocp.args.Composite`).
"""

import dataclasses
import functools
import os
from typing import Any, Callable

import grain
import jax
import numpy as np

from wae_jax.data import arrays
from wae_jax.data import catalog

Batch = dict[str, np.ndarray]
Reader = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
VALUE_RANGES = {"unit": (255.0, 0.0), "symmetric": (127.5, -1.0)}  # x / divisor + shift
_SHUFFLE_STREAM, _FLIP_STREAM = 0, 1
DEFAULT_READ_OPTIONS = grain.ReadOptions(num_threads=2, prefetch_buffer_size=4)


@functools.lru_cache(maxsize=4)  # shared by the reader threads; an epoch is reused ~1000x
def _epoch_order(seed: int, epoch: int, num_records: int) -> np.ndarray:
    order = np.random.default_rng([seed, _SHUFFLE_STREAM, epoch]).permutation(num_records)
    order.setflags(write=False)
    return order


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Maps a global step to this process's record indices and flip flags."""
    num_records: int
    batch_size: int
    seed: int
    random_flip: bool
    process_index: int
    process_count: int

    @property
    def steps_per_epoch(self) -> int:
        return self.num_records // self.batch_size

    def __call__(self, step: int, _: Any) -> tuple[np.ndarray, np.ndarray]:
        epoch, step_in_epoch = divmod(step, self.steps_per_epoch)
        local = self.batch_size // self.process_count
        rows = slice(self.process_index * local, (self.process_index + 1) * local)
        global_indices = _epoch_order(self.seed, epoch, self.num_records)[
            step_in_epoch * self.batch_size:(step_in_epoch + 1) * self.batch_size]
        if self.random_flip:
            rng = np.random.default_rng([self.seed, _FLIP_STREAM, step])
            flips = rng.random(self.batch_size) < 0.5
        else:
            flips = np.zeros(self.batch_size, bool)
        return global_indices[rows], flips[rows]


def _finish(images: np.ndarray, labels: np.ndarray, flips: np.ndarray,
            value_range: str) -> Batch:
    """Flips along W and rescales. `images` is a fresh array (both readers copy), so it
    is flipped in place, as uint8 (4x fewer bytes than after the float conversion)."""
    images[flips] = images[flips][:, :, ::-1]
    return {"image": scale_images(images, value_range), "label": labels.astype(np.int32)}


def scale_images(images: np.ndarray, value_range: str) -> np.ndarray:
    """uint8 -> float32 in the value range ("unit" [0, 1], "symmetric" [-1, 1]): the one
    scaling, so training, evaluation and test pixels agree bit for bit."""
    divisor, shift = VALUE_RANGES[value_range]
    floats = images.astype(np.float32)
    floats /= np.float32(divisor)  # division keeps 255 -> 1.0 exact
    floats += np.float32(shift)
    return floats


class PipelineIterator(grain.DatasetIterator):
    """Yields host-local batches forever. `get_state()` is JSON-able:
    {"settings": ..., "grain": ...}; `set_state` refuses a state saved with other settings."""

    def __init__(self, dataset: grain.MapDataset, settings: dict[str, Any],
                 read_options: grain.ReadOptions):
        super().__init__(dataset.to_iter_dataset(read_options).__iter__())
        self._settings = settings

    def __next__(self) -> Batch:
        return next(self._parent)

    def get_state(self) -> dict[str, Any]:
        return {"settings": dict(self._settings), "grain": self._parent.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        saved = state.get("settings", {})
        if diff := {k: (saved.get(k), v) for k, v in self._settings.items() if saved.get(k) != v}:
            raise ValueError(
                "data pipeline state was saved with other settings "
                + ", ".join(f"{k}={a!r} (now {b!r})" for k, (a, b) in diff.items())
                + "; resume with the saved data settings")
        self._parent.set_state(state["grain"])


def _make(reader: Reader, num_records: int, settings: dict[str, Any], *, batch_size: int,
          seed: int, value_range: str, random_flip: bool, process_index: int | None,
          process_count: int | None, read_options: grain.ReadOptions | None
          ) -> PipelineIterator:
    process_index = jax.process_index() if process_index is None else process_index
    process_count = jax.process_count() if process_count is None else process_count
    if value_range not in VALUE_RANGES:
        raise ValueError(f"value_range={value_range!r}; use one of {', '.join(VALUE_RANGES)}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r}; use a non-negative int")
    if batch_size < 1 or batch_size % process_count:
        raise ValueError(f"batch_size={batch_size} (global) must be a positive multiple of the "
                         f"process count {process_count}")
    if batch_size > num_records:
        raise ValueError(f"batch_size={batch_size} exceeds the {num_records} examples; lower it")
    plan = _Plan(num_records, batch_size, int(seed), random_flip, process_index, process_count)
    dataset = (grain.MapDataset.range(plan.steps_per_epoch).repeat()
               .map_with_index(plan)
               .map(lambda plan_out: _finish(*reader(plan_out[0]), plan_out[1], value_range)))
    settings = {**settings, "num_records": num_records, "batch_size": batch_size,
                "seed": int(seed), "value_range": value_range, "random_flip": random_flip}
    return PipelineIterator(dataset, settings, read_options or DEFAULT_READ_OPTIONS)


def make_train_pipeline(name: str, *, batch_size: int, seed: int, value_range: str,
                        random_flip: bool = False, data_dir: str | os.PathLike | None = None,
                        split: str = "train", classes: tuple[int, ...] = (),
                        process_index: int | None = None,
                        process_count: int | None = None,
                        read_options: grain.ReadOptions | None = None) -> PipelineIterator:
    """Batches {"image": float32 [b,H,W,C], "label": int32 [b]} of a split, forever.

    `batch_size` is global; b = batch_size / process_count. Reads through the tfds
    array_record data source, so memory stays flat at CelebA scale. `classes` keeps
    the examples of those labels only (an epoch is a pass over them). `process_index/count`
    default to jax's (override only to simulate other processes).
    """
    source = arrays.data_source(name, split, data_dir)
    read = functools.partial(arrays.read, source, labelled=catalog.get(name).labelled)
    records = arrays.record_indices(name, split, tuple(classes), data_dir)
    settings = {"dataset": name, "split": split}
    if classes:  # absent otherwise, so that earlier checkpoints' settings still match
        settings["classes"] = list(classes)
    return _make(lambda idx: read(records[idx]), len(records), settings,
                 batch_size=batch_size, seed=seed, value_range=value_range,
                 random_flip=random_flip, process_index=process_index,
                 process_count=process_count, read_options=read_options)


def make_array_pipeline(images: np.ndarray, labels: np.ndarray, *, batch_size: int, seed: int,
                        value_range: str, random_flip: bool = False,
                        process_index: int | None = None, process_count: int | None = None,
                        read_options: grain.ReadOptions | None = None) -> PipelineIterator:
    """The same pipeline over in-memory arrays, e.g. the small subsets of subsets.py."""
    if images.dtype != np.uint8 or images.ndim != 4 or len(images) != len(labels):
        raise ValueError(f"images must be uint8 [N,H,W,C] matching labels [N]; got "
                         f"{images.dtype} {images.shape} and labels {np.shape(labels)}")
    labels = np.asarray(labels)
    return _make(lambda idx: (images[idx], labels[idx]), len(images),
                 {"dataset": "arrays", "split": ""}, batch_size=batch_size, seed=seed,
                 value_range=value_range, random_flip=random_flip,
                 process_index=process_index, process_count=process_count,
                 read_options=read_options)


def to_global_batch(batch: Batch, mesh: jax.sharding.Mesh) -> dict[str, jax.Array]:
    """Assembles every process's local batch into global arrays sharded over "data"."""
    if "data" not in mesh.axis_names:
        raise ValueError(f"mesh axes {mesh.axis_names} lack 'data'; build the mesh with a "
                         "'data' axis")
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
    for key, value in batch.items():
        if (len(value) * jax.process_count()) % mesh.shape["data"]:
            raise ValueError(f"batch[{key!r}] has {len(value)} rows per process, not divisible "
                             f"over the {mesh.shape['data']} 'data' shards; change batch_size")
    return {k: jax.make_array_from_process_local_data(sharding, v) for k, v in batch.items()}
