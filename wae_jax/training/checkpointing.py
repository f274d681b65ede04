"""Orbax checkpoints of the train state plus the input iterator, and the run's config JSON.

A checkpoint holds two items: "state" (the whole TrainState pytree) and "data" (the
input pipeline's get_state(), as JSON), written together so that a resumed run
continues the exact batch sequence. Orbax writes each step into a temporary
directory and renames it when complete, so a run killed at any moment leaves
either the previous checkpoints or a complete new one; incomplete ones are
ignored on restore.
"""

import json
import os
from typing import Any, Optional

import jax
import ml_collections
import orbax.checkpoint as ocp

CONFIG_NAME = "config.json"
LATEST_DIR = "checkpoints"
BEST_DIR = "checkpoints_best"


def _manager(directory: str, keep: int, json_item: str) -> ocp.CheckpointManager:
    """Items "state" (the TrainState pytree) and `json_item` (a JSON dict)."""
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=True, cleanup_tmp_directories=True,
        # Synchronous: the next update donates the state's buffers.
        enable_async_checkpointing=False)
    return ocp.CheckpointManager(
        directory, options=options,
        item_handlers={"state": ocp.StandardCheckpointHandler(),
                       json_item: ocp.JsonCheckpointHandler()})


class Checkpointer:
    """Periodic and final saves under workdir/checkpoints, keeping the last `keep`."""

    def __init__(self, workdir: str, keep: int):
        self.directory = os.path.join(os.path.abspath(workdir), LATEST_DIR)
        self._manager = _manager(self.directory, keep, "data")

    def latest_step(self) -> Optional[int]:
        return self._manager.latest_step()

    def fits(self, abstract_state: Any) -> bool:
        """Whether the latest checkpoint holds arrays of the shapes and dtypes of `abstract_state`.

        Checked from the metadata, so that a changed architecture is reported before
        orbax starts reading arrays (its failed reads end in noisy asyncio tracebacks).
        """
        stored = self._manager.item_metadata(self._manager.latest_step())["state"].tree

        def signature(tree):
            return sorted((tuple(x.shape), str(x.dtype)) for x in jax.tree.leaves(tree))
        return signature(stored) == signature(abstract_state)

    def restore(self, abstract_state: Any) -> tuple[Any, Any, int]:
        """(state, data_state, step) from the latest checkpoint.

        `abstract_state` (jax.ShapeDtypeStruct leaves with shardings) fixes the
        structure, dtypes and the shardings the arrays come back with; None restores
        the tree as stored (nested dicts), for inspection.
        """
        step = self._manager.latest_step()
        if step is None:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state), data=ocp.args.JsonRestore()))
        return restored["state"], restored["data"], step

    def save(self, step: int, state: Any, data_state: Any) -> None:
        self._manager.save(step, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), data=ocp.args.JsonSave(data_state)),
            force=True)
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.close()


class BestCheckpoint:
    """workdir/checkpoints_best: the state with the lowest value of one sample metric.

    bigWAE reports each model at its best-FID checkpoint. A state is saved only when
    its value improves on the stored one, which a resumed run reads back, so the best
    is never replaced by a worse one; its "score" item records the metric, the value,
    the step, the reference split it was selected on and the evaluation's details.
    """

    def __init__(self, workdir: str, metric: Optional[str] = None):
        """`metric` None opens an existing best checkpoint for reading only."""
        self.directory = os.path.join(os.path.abspath(workdir), BEST_DIR)
        self._metric = metric
        self._manager = _manager(self.directory, 1, "score")
        step = self._manager.latest_step()
        self.score: Optional[dict] = None if step is None else self._manager.restore(
            step, args=ocp.args.Composite(score=ocp.args.JsonRestore()))["score"]
        if metric is not None and self.score is not None and self.score["metric"] != metric:
            raise ValueError(
                f"sample_eval.keep_best={metric!r}: {self.directory} keeps the best by "
                f"{self.score['metric']!r}; use that metric or another --workdir")

    def offer(self, step: int, state: Any, value: float, details: dict) -> bool:
        """Saves `state` if `value` is a new minimum; returns whether it did.

        Steps up to the stored best's are skipped: a resumed run repeats the exact
        trajectory that produced it (same data order and random draws).
        """
        if self._metric is None:
            raise ValueError("BestCheckpoint opened without a metric is read-only")
        best = self.score
        if best is not None and (step <= best["step"] or not value < best["value"]):
            return False
        score = {"metric": self._metric, "value": value, "step": step,
                 "reference_split": details["reference"]["split"], "details": details}
        self._manager.save(step, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), score=ocp.args.JsonSave(score)), force=True)
        self._manager.wait_until_finished()
        self.score = score
        return True

    def restore(self, abstract_state: Any) -> tuple[Any, dict]:
        """(state, score) of the best checkpoint, restored like Checkpointer.restore."""
        if self.score is None:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        restored = self._manager.restore(self.score["step"], args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state), score=ocp.args.JsonRestore()))
        return restored["state"], restored["score"]

    def close(self) -> None:
        self._manager.close()


def abstract_like(tree: Any) -> Any:
    """ShapeDtypeStructs (with shardings) of a pytree of arrays, for restoring into."""
    return jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), tree)


def _flatten(prefix: str, value: Any, out: dict) -> dict:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, sub, out)
    else:
        out[prefix] = value
    return out


def config_differences(saved: dict, current: dict) -> list[str]:
    """Human-readable 'field: old -> new' lines between two config dicts."""
    old, new = _flatten("", saved, {}), _flatten("", current, {})
    return [f"{key}: {old.get(key, '<absent>')!r} -> {new.get(key, '<absent>')!r}"
            for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]


def _config_dict(config: ml_collections.ConfigDict) -> dict:
    """A JSON round trip, so tuples compare equal to the lists read back from disk."""
    return json.loads(config.to_json_best_effort())


def read_config(workdir: str) -> Optional[dict]:
    path = os.path.join(workdir, CONFIG_NAME)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_config(workdir: str, config: ml_collections.ConfigDict) -> None:
    """Atomically (re)writes workdir/config.json."""
    path = os.path.join(workdir, CONFIG_NAME)
    with open(path + ".tmp", "w") as f:
        json.dump(_config_dict(config), f, indent=2, sort_keys=True)
    os.replace(path + ".tmp", path)


def changed_fields(workdir: str, config: ml_collections.ConfigDict) -> list[str]:
    """Differences between the config saved in workdir and `config` ([] if none saved)."""
    saved = read_config(workdir)
    return [] if saved is None else config_differences(saved, _config_dict(config))
