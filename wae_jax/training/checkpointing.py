"""Orbax checkpoints of the train state plus the input iterator, and the run's config JSON.

A checkpoint holds two items: "state" (the whole TrainState pytree) and "data" (the
input pipeline's get_state(), as JSON), written together so that a resumed run
continues the exact batch sequence. Orbax writes each step into a temporary
directory and renames it when complete, so a run killed at any moment leaves
either the previous checkpoints or a complete new one; incomplete ones are
ignored on restore. A complete one that later became unreadable (a truncated or
garbled file) is skipped on restore for the next older one, and set aside, never
deleted, in checkpoints_unreadable/.
"""

import json
import os
import shutil
from typing import Any, Optional

import jax
from jax.experimental import multihost_utils
import ml_collections
import orbax.checkpoint as ocp
from absl import logging

from wae_jax.files import json_file

CONFIG_NAME = "config.json"
LATEST_DIR = "checkpoints"
BEST_DIR = "checkpoints_best"
UNREADABLE_DIR = "checkpoints_unreadable"


class CheckpointMismatch(ValueError):
    """The stored state's arrays have other shapes or dtypes than the ones asked for."""


class NoReadableCheckpoint(RuntimeError):
    """Every checkpoint in the directory failed to restore; the message lists why."""


def _manager(directory: str, keep: int, json_item: str,
             read_only: bool = False) -> ocp.CheckpointManager:
    """Items "state" (the TrainState pytree) and `json_item` (a JSON dict).

    `read_only` (evaluation, possibly beside a running training) neither creates the
    directory nor cleans up temporary directories, which may be a save in progress.
    """
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=not read_only, cleanup_tmp_directories=not read_only,
        # Synchronous: the next update donates the state's buffers.
        enable_async_checkpointing=False)
    return ocp.CheckpointManager(
        directory, options=options,
        item_handlers={"state": ocp.StandardCheckpointHandler(),
                       json_item: ocp.JsonCheckpointHandler()})


class Checkpointer:
    """Periodic and final saves under workdir/checkpoints, keeping the last `keep`."""

    def __init__(self, workdir: str, keep: int, read_only: bool = False):
        self.directory = os.path.join(os.path.abspath(workdir), LATEST_DIR)
        self._manager = _manager(self.directory, keep, "data", read_only)

    def latest_step(self) -> Optional[int]:
        return self._manager.latest_step()

    def restore(self, abstract_state: Any, step: Optional[int] = None
                ) -> tuple[Any, Any, int]:
        """(state, data_state, step) from the newest checkpoint that restores (or `step`).

        `abstract_state` (jax.ShapeDtypeStruct leaves with shardings) fixes the
        structure, dtypes and the shardings the arrays come back with; None restores
        the tree as stored (nested dicts), for inspection. `step` restores that step
        only (evaluation of an older checkpoint). A checkpoint that fails to
        read is logged (step and error) and the next older one is tried; state and
        input position always come from the same step. Raises FileNotFoundError
        when there is no checkpoint, NoReadableCheckpoint when none restores and
        CheckpointMismatch when the newest readable one has other shapes.
        """
        available = sorted(self._manager.all_steps(), reverse=True)
        candidates = available if step is None else [s for s in available if s == step]
        if not candidates:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        failures = []
        for candidate in candidates:
            try:
                state, data_state = self._restore_step(candidate, abstract_state)
            except CheckpointMismatch:
                raise
            except Exception as error:  # json, tensorstore and orbax each raise their own
                reason = _one_line(error)
                logging.warning("Skipping the checkpoint of step %d in %s, which does not "
                                "restore: %s", candidate, self.directory, reason)
                failures.append(f"step {candidate}: {reason}")
                continue
            return state, data_state, candidate
        raise NoReadableCheckpoint(
            f"no checkpoint in {self.directory} restores ({'; '.join(failures)}); move it "
            f"away or use another --workdir")

    def _restore_step(self, step: int, abstract_state: Any) -> tuple[Any, Any]:
        """One step's items; its shapes are compared from the metadata first, so that a
        changed architecture is reported before orbax starts reading arrays (its failed
        reads end in noisy asyncio tracebacks)."""
        if abstract_state is not None:
            stored = self._manager.item_metadata(step)["state"].tree
            if _signature(stored) != _signature(abstract_state):
                raise CheckpointMismatch(
                    f"the checkpoint of step {step} in {self.directory} holds arrays of "
                    f"other shapes or dtypes")
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state), data=ocp.args.JsonRestore()))
        return restored["state"], restored["data"]

    def set_aside_newer(self, step: int) -> None:
        """Moves the checkpoints after `step`, which did not restore, to checkpoints_unreadable/.

        They are kept for inspection, but out of the way: the resumed run saves those
        steps again, and keep_checkpoints counts only readable ones. Process 0 moves.
        """
        newer = sorted(s for s in self._manager.all_steps() if s > step)
        if not newer:
            return
        if jax.process_index() == 0:
            aside = os.path.join(os.path.dirname(self.directory), UNREADABLE_DIR)
            os.makedirs(aside, exist_ok=True)
            for unreadable in newer:
                target = _unused_path(os.path.join(aside, str(unreadable)))
                shutil.move(os.path.join(self.directory, str(unreadable)), target)
                logging.warning("Moved the unreadable checkpoint of step %d to %s",
                                unreadable, target)
        if jax.process_count() > 1:
            multihost_utils.sync_global_devices("wae_jax: unreadable checkpoints set aside")
        self._manager.reload()

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
        self._manager = _manager(self.directory, 1, "score", read_only=metric is None)
        self.score: Optional[dict] = self._read_score()
        if metric is not None and self.score is not None and self.score["metric"] != metric:
            raise ValueError(
                f"sample_eval.keep_best={metric!r}: {self.directory} keeps the best by "
                f"{self.score['metric']!r}; use that metric or another --workdir")

    def _read_score(self) -> Optional[dict]:
        """The stored score; an unreadable best is set aside for a training run (which then
        keeps a new best, with a warning) and NoReadableCheckpoint for a reader."""
        step = self._manager.latest_step()
        if step is None:
            return None
        try:
            return self._manager.restore(step, args=ocp.args.Composite(
                score=ocp.args.JsonRestore()))["score"]
        except Exception as error:  # json, tensorstore and orbax each raise their own
            reason = _one_line(error)
            if self._metric is None:
                raise NoReadableCheckpoint(f"the best checkpoint (step {step}) in "
                                           f"{self.directory} does not restore: {reason}")
            if jax.process_index() == 0:
                aside = os.path.join(os.path.dirname(self.directory), UNREADABLE_DIR)
                target = _unused_path(os.path.join(aside, f"best_{step}"))
                os.makedirs(aside, exist_ok=True)
                shutil.move(os.path.join(self.directory, str(step)), target)
                logging.warning("The best checkpoint (step %d) does not restore (%s): moved "
                                "to %s; keeping a new best from here", step, reason, target)
            if jax.process_count() > 1:
                multihost_utils.sync_global_devices("wae_jax: unreadable best set aside")
            self._manager.reload()
            return None

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


def _signature(tree: Any) -> list[tuple[tuple[int, ...], str]]:
    return sorted((tuple(x.shape), str(x.dtype)) for x in jax.tree.leaves(tree))


def _one_line(error: Exception, limit: int = 300) -> str:
    """The error's type and first line, shortened: tensorstore's messages run to pages."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0] if lines else ''}"
    return text if len(text) <= limit else text[:limit] + "..."


def _unused_path(path: str) -> str:
    """`path`, or path.1, path.2, ... when an earlier run already set that step aside."""
    candidate, number = path, 0
    while os.path.exists(candidate):
        number += 1
        candidate = f"{path}.{number}"
    return candidate


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
    return json_file.read(os.path.join(workdir, CONFIG_NAME))


def write_config(workdir: str, config: ml_collections.ConfigDict) -> None:
    """Atomically (re)writes workdir/config.json."""
    json_file.write(os.path.join(workdir, CONFIG_NAME), _config_dict(config), sort_keys=True)


def changed_fields(workdir: str, config: ml_collections.ConfigDict) -> list[str]:
    """Differences between the config saved in workdir and `config` ([] if none saved)."""
    saved = read_config(workdir)
    return [] if saved is None else config_differences(saved, _config_dict(config))
