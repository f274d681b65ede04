"""Checkpoint round trips, retention, unreadable checkpoints, the saved-config comparison."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

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


def test_restore_refuses_other_shapes_and_dtypes(tmp_path):
    checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=1)
    checkpointer.save(1, _state(1.0), {})
    wider = {**_state(0.0), "w": jnp.zeros((2, 4))}
    halfs = {**_state(0.0), "w": jnp.zeros((2, 3), jnp.float16)}
    for other in (wider, halfs):
        with pytest.raises(checkpointing.CheckpointMismatch, match="step 1 .* other shapes"):
            checkpointer.restore(checkpointing.abstract_like(other))
    checkpointer.close()


def _truncate(path) -> None:
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


# Each damages one item of a checkpoint: the input position (JSON), the state's tree
# metadata (read before any array), the state's array data.
DAMAGES = {
    "data json": lambda step_dir: _truncate(step_dir / "data" / "metadata"),
    "state metadata": lambda step_dir: (step_dir / "state" / "_METADATA").write_text("{tr"),
    "state arrays": lambda step_dir: [_truncate(p) for p in (step_dir / "state" / "d").iterdir()],
}


# When an array read fails, orbax's restore closes its asyncio loop while tensorstore still
# completes the other reads, whose callbacks then find the loop closed; Python reports them
# as unraisable (in about half the runs of "state arrays"). That is orbax's failure path
# cleaning up, not ours: what the restore returns and keeps is asserted below.
@pytest.mark.filterwarnings("ignore:Exception ignored in:pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("damage", DAMAGES)
def test_an_unreadable_newest_checkpoint_falls_back_to_the_older_one(tmp_path, damage, caplog):
    checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=3)
    for step in (1, 2, 3):
        checkpointer.save(step, _state(step), {"position": step})
    checkpointer.close()
    DAMAGES[damage](tmp_path / "checkpoints" / "3")
    checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=3)
    with caplog.at_level(logging.WARNING):
        state, data_state, step = checkpointer.restore(checkpointing.abstract_like(_state(0.0)))
    assert step == 2 and data_state == {"position": 2}  # state and position of one step
    np.testing.assert_array_equal(np.asarray(state["w"]), np.asarray(_state(2)["w"]))
    assert "checkpoint of step 3" in caplog.text and "does not restore" in caplog.text
    checkpointer.set_aside_newer(step)  # kept for inspection, not deleted
    assert (tmp_path / checkpointing.UNREADABLE_DIR / "3" / "state").is_dir()
    checkpointer.save(3, _state(30), {"position": 30})  # the step can be saved again
    assert checkpointer.restore(checkpointing.abstract_like(_state(0.0)))[1:] == (
        {"position": 30}, 3)
    checkpointer.close()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["1", "2", "3"]


def test_no_readable_checkpoint_names_the_directory_and_every_step(tmp_path):
    checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=2)
    for step in (1, 2):
        checkpointer.save(step, _state(step), {"position": step})
    checkpointer.close()
    for step in ("1", "2"):
        DAMAGES["data json"](tmp_path / "checkpoints" / step)
    checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=2)
    with pytest.raises(checkpointing.NoReadableCheckpoint) as info:
        checkpointer.restore(checkpointing.abstract_like(_state(0.0)))
    checkpointer.close()
    message = str(info.value)
    assert message.startswith(f"no checkpoint in {tmp_path / 'checkpoints'} restores (step 2: ")
    assert "; step 1: " in message and "\n" not in message
    assert message.endswith("move it away or use another --workdir")
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["1", "2"]


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


DETAILS = {"reference": {"split": "train"}}  # what SampleScorer's results carry


def _saved_steps(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.isdigit())


def test_best_checkpoint_keeps_the_lowest_value(tmp_path):
    best = checkpointing.BestCheckpoint(str(tmp_path), "fid")
    offers = [(2, 30.0), (4, 20.0), (6, 25.0), (8, 20.0), (10, 12.5)]
    saved = [best.offer(step, _state(step), value, {**DETAILS, "num_samples": 9})
             for step, value in offers]
    assert saved == [True, True, False, False, True]  # ties do not replace the best
    assert _saved_steps(tmp_path / checkpointing.BEST_DIR) == ["10"]
    state, score = best.restore(checkpointing.abstract_like(_state(0.0)))
    best.close()
    assert score == {"metric": "fid", "value": 12.5, "step": 10, "reference_split": "train",
                     "details": {**DETAILS, "num_samples": 9}}
    np.testing.assert_array_equal(np.asarray(state["w"]), np.asarray(_state(10)["w"]))


def test_a_resumed_run_continues_from_the_stored_best(tmp_path):
    best = checkpointing.BestCheckpoint(str(tmp_path), "fid")
    best.offer(6, _state(6), 20.0, DETAILS)
    best.close()
    resumed = checkpointing.BestCheckpoint(str(tmp_path), "fid")
    assert resumed.score["value"] == 20.0 and resumed.score["step"] == 6
    # Steps up to 6 repeat the stored best's trajectory; later ones must beat its value.
    assert not resumed.offer(4, _state(4), 1.0, DETAILS)
    assert not resumed.offer(8, _state(8), 21.0, DETAILS)
    assert resumed.offer(10, _state(10), 19.0, DETAILS)
    resumed.close()
    assert _saved_steps(tmp_path / checkpointing.BEST_DIR) == ["10"]


def test_an_unreadable_best_is_set_aside_for_training_and_refused_for_reading(tmp_path,
                                                                              caplog):
    best = checkpointing.BestCheckpoint(str(tmp_path), "fid")
    best.offer(6, _state(6), 20.0, DETAILS)
    best.close()
    _truncate(tmp_path / checkpointing.BEST_DIR / "6" / "score" / "metadata")
    with pytest.raises(checkpointing.NoReadableCheckpoint, match="best checkpoint .step 6."):
        checkpointing.BestCheckpoint(str(tmp_path))  # a reader (evaluate) is told, not served
    with caplog.at_level(logging.WARNING):
        resumed = checkpointing.BestCheckpoint(str(tmp_path), "fid")
    assert resumed.score is None and "does not restore" in caplog.text
    assert (tmp_path / checkpointing.UNREADABLE_DIR / "best_6" / "state").is_dir()  # kept
    assert resumed.offer(8, _state(8), 30.0, DETAILS)  # a new best from here
    resumed.close()
    assert _saved_steps(tmp_path / checkpointing.BEST_DIR) == ["8"]


def test_best_checkpoint_of_another_metric_is_refused(tmp_path):
    best = checkpointing.BestCheckpoint(str(tmp_path), "fid")
    best.offer(2, _state(2), 20.0, DETAILS)
    best.close()
    with pytest.raises(ValueError, match="keeps the best by 'fid'; use that metric"):
        checkpointing.BestCheckpoint(str(tmp_path), "classifier_fd")
    reader = checkpointing.BestCheckpoint(str(tmp_path))  # no metric: read-only
    assert reader.score["metric"] == "fid"
    with pytest.raises(ValueError, match="read-only"):
        reader.offer(4, _state(4), 1.0, DETAILS)
    reader.close()
