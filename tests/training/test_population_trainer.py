"""End-to-end populations on fabricated MNIST: each member written out as its solo run,
one diverging member contained, the stacked state resumed."""

import json
import os

import jax
import numpy as np
import pytest
from PIL import Image

from wae_jax import workdir_evaluation
from wae_jax.training import (checkpointing, experiment, metrics_writer, population, trainer,
                              validation)
from tests.fast_compilation import xla_flags_with_devices
from tests.training.tiny import run_main, tiny_config

SEEDS, LAMBDAS = (0, 1), (10.0, 3.0)


def _population_config(data_dir, **values):
    config = tiny_config("wae_gan", data_dir)
    config.model.arch = "mlp"  # no batch norm: exact comparisons (see test_population_step)
    config.population.size = len(values["seed"])
    for field, value in values.items():
        config.population[field] = value
    return config


def _member_params(state, index):
    return population.member_state(state, index).params


def _assert_close(a, b, rtol=1e-4, atol=1e-6):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("population"))
    config = _population_config(data_dir, seed=SEEDS, lambda_=LAMBDAS)
    return workdir, experiment.train_and_evaluate(config, workdir)


def test_members_are_written_out_as_solo_runs(trained, tmp_path):
    workdir, state = trained
    summary = json.load(open(os.path.join(workdir, "population.json")))
    assert [m["status"] for m in summary["members"]] == ["finished", "finished"]
    assert summary["members"][1]["values"] == {"seed": 1, "lambda_": 3.0}
    for i in range(2):
        member = os.path.join(workdir, "members", str(i))
        assert checkpointing.Checkpointer(member, 3, read_only=True).latest_step() == 8
        assert os.listdir(os.path.join(member, "tensorboard"))
        assert any(name.startswith("samples_") for name in os.listdir(
            os.path.join(member, "figures")))
        assert metrics_writer.read_jsonl(member)[-1]["step"] == 8
    # Member 1 retrained alone from its config.json: the same model and the same log.
    member = os.path.join(workdir, "members", "1")
    solo_config = workdir_evaluation.load_config(member)
    assert solo_config.seed == 1 and solo_config.lambda_ == 3.0
    assert solo_config.population.size == 1
    alone = experiment.train_and_evaluate(solo_config, str(tmp_path / "solo"))
    _assert_close(_member_params(state, 1), alone.params)
    logged, solo_logged = metrics_writer.read_jsonl(member), metrics_writer.read_jsonl(
        str(tmp_path / "solo"))
    assert [r["step"] for r in logged] == [r["step"] for r in solo_logged]
    for row, solo_row in zip(logged, solo_logged):
        for key in ("train/loss", "eval/loss"):
            if key in solo_row:
                np.testing.assert_allclose(row[key], solo_row[key], rtol=1e-4)
    for name in ("samples", "reconstructions"):  # its own prior draws and test images
        grids = [np.asarray(Image.open(os.path.join(d, "figures", f"{name}_00000008.png")),
                            np.int32) for d in (member, str(tmp_path / "solo"))]
        assert np.abs(grids[0] - grids[1]).max() <= 1


def test_a_member_evaluates_like_a_solo_run(trained, tmp_path):
    workdir, _ = trained
    result = workdir_evaluation.evaluate_workdir(
        os.path.join(workdir, "members", "0"), num_samples=8, metrics=(), batch_size=8,
        output_dir=str(tmp_path))
    assert result["checkpoint_step"] == 8


def test_a_diverging_member_is_frozen_and_the_others_unchanged(trained, data_dir, tmp_path):
    """Member 1's adversary learning rate of 1e30 overflows its adversary at the first
    update (the encoder pre-training before it does not use the adversary)."""
    workdir, reference = trained
    config = _population_config(data_dir, seed=(SEEDS[0], 7, SEEDS[1]),
                                lambda_=(LAMBDAS[0], 10.0, LAMBDAS[1]),
                                adversary_learning_rate=(5e-4, 1e30, 5e-4))
    state = experiment.train_and_evaluate(config, str(tmp_path))
    _assert_close(_member_params(state, 0), _member_params(reference, 0))
    _assert_close(_member_params(state, 2), _member_params(reference, 1))
    summary = json.load(open(tmp_path / "population.json"))["members"]
    assert [m["status"] for m in summary] == ["finished", "diverged", "finished"]
    diverged_at = summary[1]["diverged_at_step"]
    assert diverged_at == int(state.diverged_at[1]) >= 1
    assert all(np.isfinite(np.asarray(leaf)).all()
               for leaf in jax.tree.leaves(population.member_state(state, 1)))
    rows = metrics_writer.read_jsonl(str(tmp_path / "members" / "1"))
    assert {"step": diverged_at, "train/diverged": 1.0} in rows
    saved = checkpointing.Checkpointer(str(tmp_path / "members" / "1"), 3, read_only=True)
    assert (saved.latest_step() or 0) < diverged_at


def test_every_member_diverging_stops_the_run(data_dir, tmp_path):
    """Here in the encoder pre-training (its learning rate), before the first update."""
    config = _population_config(data_dir, seed=(0, 1), learning_rate=(1e30, 1e30))
    with pytest.raises(trainer.NonFiniteError, match="every member"):
        experiment.train_and_evaluate(config, str(tmp_path))
    summary = json.load(open(tmp_path / "population.json"))["members"]
    assert [m["diverged_at_step"] for m in summary] == [population.PRETRAINING] * 2


def test_resume_continues_the_stacked_state(trained, data_dir, tmp_path):
    """4 steps, then the same population resumed to 8: the uninterrupted run's members,
    bit for bit (the stacked state, its diverged_at and the input position restore)."""
    workdir, reference = trained
    config = _population_config(data_dir, seed=SEEDS, lambda_=LAMBDAS)
    config.num_train_steps = 4
    experiment.train_and_evaluate(config, str(tmp_path))
    config.num_train_steps = 8
    resumed = experiment.train_and_evaluate(config, str(tmp_path))
    _assert_close(resumed, reference, rtol=0, atol=0)


def test_command_line_population_over_four_devices(trained, data_dir, tmp_path):
    """--config.population.* from the command line, K=4 members split over 4 CPU devices:
    members 0 and 1 are the in-process one-device population's (seeds 0, 1)."""
    _, reference = trained
    lambdas = (LAMBDAS[0], LAMBDAS[1], 1.0, 1.0)
    result = run_main(tmp_path, "mnist_gan.py:tiny", f"--config.data_dir={data_dir}",
                      "--config.model.arch=mlp", "--config.population.size=4",
                      f"--config.population.lambda_={lambdas}", "--config.eval_every_steps=8",
                      env={"XLA_FLAGS": xla_flags_with_devices(4)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "population of 4" in result.stderr and "on 4 device(s)" in result.stderr
    for i in range(2):
        saved = checkpointing.Checkpointer(str(tmp_path / "members" / str(i)), 3,
                                           read_only=True)
        expected = population.member_state(reference, i)
        state, _, step = saved.restore(checkpointing.abstract_like(expected))
        assert step == 8
        _assert_close(state.params, expected.params)


def test_members_keep_their_own_best_checkpoint(data_dir, tmp_path):
    """Sample evaluation per member, on its own prior draws: the scores of member 1
    (prior_std 2) are those of its solo run, and each member keeps its best."""
    config = _population_config(data_dir, seed=(0, 1), prior_std=(1.0, 2.0))
    config.pretrain_encoder = False
    config.num_train_steps = 4
    config.sample_eval.metrics, config.sample_eval.keep_best = ("classifier_fd",), "classifier_fd"
    experiment.train_and_evaluate(config, str(tmp_path / "population"))
    summary = json.load(open(tmp_path / "population" / "population.json"))["members"]
    member = str(tmp_path / "population" / "members" / "1")
    alone = experiment.train_and_evaluate(workdir_evaluation.load_config(member),
                                       str(tmp_path / "solo"))
    del alone
    scores = [r["sample/classifier_fd"] for r in metrics_writer.read_jsonl(member)
              if "sample/classifier_fd" in r]
    solo_scores = [r["sample/classifier_fd"] for r in metrics_writer.read_jsonl(
        str(tmp_path / "solo")) if "sample/classifier_fd" in r]
    assert len(scores) == 1 and scores == pytest.approx(solo_scores, rel=1e-4)
    for i, entry in enumerate(summary):
        best = checkpointing.BestCheckpoint(str(tmp_path / "population" / "members" / str(i)))
        assert entry["best"] == {k: best.score[k] for k in ("metric", "value", "step")}
        best.close()


CLASSES = ((0, 1), (2, 3, 4, 5, 6, 7, 8, 9))  # 14 and 50 of the 64 fabricated images


def _per_member_config(data_dir):
    config = _population_config(data_dir, seed=SEEDS, train_classes=CLASSES)
    config.population.data = "per_member"
    config.num_train_steps, config.num_epochs, config.batch_size = -1, 2, 4
    config.lr_decay_epochs, config.lr_decay_factors = (1,), (2.0,)  # per-member epochs
    return config


def test_per_member_data_members_are_their_solo_runs(data_dir, tmp_path):
    """Each member reads only its classes, in its own order, for its own number of
    epochs (2 x 3 and 2 x 12 steps): members equal solo runs of their config.json."""
    config = _per_member_config(data_dir)
    state = experiment.train_and_evaluate(config, str(tmp_path / "population"))
    summary = json.load(open(tmp_path / "population" / "population.json"))["members"]
    assert [(m["status"], m["step"]) for m in summary] == [("finished", 6), ("finished", 24)]
    assert np.asarray(state.members.step).tolist() == [6, 24]
    for i in range(2):
        member = str(tmp_path / "population" / "members" / str(i))
        solo_config = workdir_evaluation.load_config(member)
        assert tuple(solo_config.train_classes) == CLASSES[i] and solo_config.data_seed == -1
        alone = experiment.train_and_evaluate(solo_config, str(tmp_path / f"solo{i}"))
        _assert_close(_member_params(state, i), alone.params)
        assert (metrics_writer.read_jsonl(member)[-1]["step"]
                == metrics_writer.read_jsonl(str(tmp_path / f"solo{i}"))[-1]["step"])
        saved = checkpointing.Checkpointer(member, 3, read_only=True)
        assert saved.latest_step() == (6, 24)[i]


def test_train_classes_need_per_member_data(data_dir, tmp_path):
    config = _per_member_config(data_dir)
    config.population.data = "shared"
    with pytest.raises(validation.ConfigError, match="population.data='per_member'"):
        experiment.train_and_evaluate(config, str(tmp_path))


def test_a_population_too_big_for_memory_is_refused_before_training(data_dir, tmp_path,
                                                                    monkeypatch):
    """The compiled step's memory analysis against the device's memory (here pretended
    to be 64 KiB): a ConfigError naming population.size and a size that fits."""
    monkeypatch.setattr(population, "available_memory", lambda device: 64 * 1024)
    config = _population_config(data_dir, seed=(0, 1, 2, 3))
    with pytest.raises(validation.ConfigError,
                       match=r"config.population.size=4: one population step needs .* GiB "
                             r"per device, more than the 0.00 GiB available; lower "
                             r"population.size to about 1"):
        experiment.train_and_evaluate(config, str(tmp_path))
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "members").exists()


def test_available_memory_is_the_hosts_share_on_cpu():
    """On a CPU device: MemAvailable of /proc/meminfo, split over the local devices."""
    with open("/proc/meminfo") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
    got = population.available_memory(jax.local_devices()[0])
    assert got == pytest.approx(kib * 1024 // jax.local_device_count(), rel=0.2)
