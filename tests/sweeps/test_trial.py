"""A trial's outcomes as records: bad config, every member diverged, errors after retries."""

import types

from configs import bigwae_mnist
from wae_jax.sweeps import trial
from wae_jax.training import experiment, trainer


def test_a_bad_config_is_recorded_failed_with_the_field(data_dir, tmp_path):
    config = bigwae_mnist.get_config("tiny")
    config.data_dir = data_dir
    config.latent_dim = 0
    record = trial.run_trial(config, str(tmp_path))
    assert record["status"] == "failed" and "config.latent_dim=0" in record["reason"]
    assert trial.read_record(str(tmp_path)) == record


def test_every_member_diverged_is_recorded_diverged(monkeypatch, tmp_path):
    def diverge(config, workdir):
        raise trainer.NonFiniteError("loss is nan in every member")

    monkeypatch.setattr(experiment, "train_and_evaluate", diverge)
    config = bigwae_mnist.get_config("tiny")
    record = trial.run_trial(config, str(tmp_path))
    assert record == {"status": "diverged", "members": [],
                      "reason": "NonFiniteError: loss is nan in every member"}
    assert "diverged" in trial.DONE and "failed" not in trial.DONE


def test_errors_after_rays_retries_are_recorded(tmp_path):
    from wae_jax.sweeps import runner  # Ray

    results = [types.SimpleNamespace(error=None, config={"trial": "000-a"}),
               types.SimpleNamespace(error=RuntimeError("Traceback ...\nWorker died: OOM"),
                                     config={"trial": "001-b"})]
    runner._record_errors(str(tmp_path), results)
    assert trial.read_record(str(tmp_path / "trials" / "000-a")) is None
    assert trial.read_record(str(tmp_path / "trials" / "001-b")) == {
        "status": "failed", "reason": "Worker died: OOM", "members": []}
