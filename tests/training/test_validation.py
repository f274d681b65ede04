"""Every bad-input case ends in a one-line ConfigError naming the field."""

import os

import ml_collections
import pytest

from wae_jax.training import experiment, validation
from tests.training.tiny import tiny_config



def _error(config, device_count=1) -> str:
    with pytest.raises(validation.ConfigError) as info:
        validation.validate_config(config, device_count)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("method", ["vae", "w2vae", "wae_mmd", "wae_gan"])
def test_paper_configs_pass(method):
    validation.validate_config(tiny_config(method, ""), 1)


@pytest.mark.parametrize("field, value, words", [
    ("learning_rate", 0.0, "learning_rate"),
    ("learning_rate", -1e-3, "learning_rate"),
    ("adversary_learning_rate", 0.0, "adversary_learning_rate"),
    ("latent_dim", 0, "latent_dim"),
    ("method", "wae_swd", "method"),
    ("dataset", "cifar10", "dataset"),
    ("batch_size", 0, "batch_size"),
    ("num_train_steps", -5, "num_train_steps"),
    ("adam_b1", 1.0, "adam_b1"),
    ("cost", "l3", "cost"),
    ("kernel", "laplace", "kernel"),
    ("kernel_scales", (1.0, -2.0), "kernel_scales"),
    ("lambda_", float("nan"), "lambda_"),
    ("keep_checkpoints", 0, "keep_checkpoints"),
    ("value_range", "bytes", "value_range"),
])
def test_impossible_values_name_the_field(field, value, words):
    config = tiny_config("wae_mmd", "")
    config[field] = value
    assert f"config.{words}" in _error(config)


@pytest.mark.parametrize("field, value, message", [
    ("metrics", ("fid", "inception_score"), "config.sample_eval.metrics=('fid', "
     "'inception_score'): entries ['inception_score']"),
    ("keep_best", "kid", "config.sample_eval.keep_best='kid': use '' or one of "
     "sample_eval.metrics=('fid',)"),
    ("num_samples", 1, "config.sample_eval.num_samples=1: use an integer >= 2"),
    ("reference_n", 1, "config.sample_eval.reference_n=1: use an integer >= 2"),
    ("every_steps", 0, "config.sample_eval.every_steps=0: use an integer >= 1"),
])
def test_sample_eval_fields_are_checked(field, value, message):
    config = tiny_config("wae_mmd", "")
    config.sample_eval.metrics, config.sample_eval.keep_best = ("fid",), "fid"
    config.sample_eval[field] = value
    assert message in _error(config)


def test_classifier_fd_needs_a_labelled_dataset():
    config = tiny_config("wae_mmd", "", name="celeba_mmd")
    config.sample_eval.metrics = ("classifier_fd",)
    assert "classifier_fd needs class labels, which celeb_a_64 lacks; use fid" in _error(config)


@pytest.mark.parametrize("name, split", [("mnist_mmd", "validation"),
                                         ("celeba_mmd", "holdout")])
def test_reference_split_must_exist(name, split):
    config = tiny_config("wae_mmd", "", name=name)
    config.sample_eval.reference_split = split
    assert f"config.sample_eval.reference_split={split!r}: " in _error(config)


def test_selecting_on_test_needs_select_on_test():
    config = tiny_config("wae_mmd", "")
    config.sample_eval.reference_split = "test"
    message = _error(config)
    assert message.startswith("config.sample_eval.reference_split='test': ")
    assert "set sample_eval.select_on_test=True to select on test anyway" in message
    config.sample_eval.select_on_test = True
    validation.validate_config(config, 1)


def test_selection_references_are_train_and_validation():
    """Paper configs select on the first 10,000 training images (MNIST, Fashion-MNIST)
    and on CelebA's official validation partition."""
    for name, split in (("mnist_mmd", "train"), ("fashion_mnist_gan", "train"),
                        ("celeba_gan", "validation")):
        options = tiny_config("wae_mmd", "", name=name).sample_eval
        assert (options.reference_split, options.select_on_test) == (split, False), name


def test_unknown_sample_eval_field_is_rejected():
    config = ml_collections.ConfigDict(tiny_config("wae_mmd", "").to_dict())
    config.sample_eval.fid_every = 5
    assert "config.sample_eval.fid_every: unknown field" in _error(config)


def test_model_latent_dim_is_tied_to_the_top_level_one():
    config = tiny_config("wae_mmd", "")
    config.model.latent_dim = 4  # a shared reference: both change
    assert config.latent_dim == 4
    validation.validate_config(config, 1)
    plain = config.to_dict()
    plain["model"]["latent_dim"] = 5  # a plain dict can make them disagree
    assert "config.model.latent_dim=5" in _error(ml_collections.ConfigDict(plain))


def test_wrong_type_is_rejected():
    # A config built from a plain dict (as a notebook might) has no type safety to lean on.
    config = ml_collections.ConfigDict({**tiny_config("wae_mmd", "").to_dict(),
                                        "batch_size": "100"})
    assert "config.batch_size='100'" in _error(config)


def test_unknown_field_is_rejected():
    config = tiny_config("wae_mmd", "")
    with config.unlocked():
        config.lamda = 3.0
    assert "config.lamda: unknown field" in _error(config)


def test_missing_field_is_rejected():
    config = tiny_config("wae_mmd", "")
    del config["seed"]
    assert "config.seed is missing" in _error(config)


def test_batch_size_must_divide_over_devices():
    config = tiny_config("wae_mmd", "")
    assert "config.batch_size=8: use a multiple of the device count (3)" in _error(config, 3)


def test_vae_needs_a_gaussian_encoder():
    config = tiny_config("vae", "")
    config.model.encoder = "deterministic"
    assert "config.model.encoder" in _error(config)


def test_bernoulli_cost_needs_logits():
    config = tiny_config("vae", "")
    config.model.output_activation = "sigmoid"
    assert "config.model.output_activation" in _error(config)


def test_model_fields_are_checked_by_building_the_model():
    config = tiny_config("wae_mmd", "")
    config.model.arch = "transformer"
    assert "config.model.arch" in _error(config)


def test_decay_lists_must_match():
    config = tiny_config("wae_mmd", "")
    config.lr_decay_epochs = (3, 5)
    config.lr_decay_factors = (2.0,)
    assert "config.lr_decay_factors" in _error(config)


def test_checkpoints_must_fall_on_log_steps():
    config = tiny_config("wae_mmd", "")
    config.checkpoint_every_steps = 3
    assert "config.checkpoint_every_steps" in _error(config)


def test_unwritable_workdir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(validation.ConfigError, match="--workdir="):
        validation.check_workdir(str(blocker / "run"))
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(validation.ConfigError, match="not writable"):
            validation.check_workdir(str(locked))
    validation.check_workdir(str(tmp_path / "fresh" / "run"))
    assert (tmp_path / "fresh" / "run").is_dir()


@pytest.mark.parametrize("field, value", [("dataset", "cifar10"), ("method", "wae_swd"),
                                          ("learning_rate", -1.0)])
def test_train_and_evaluate_rejects_before_any_work(tmp_path, field, value):
    config = tiny_config("wae_mmd", str(tmp_path / "data"))
    config[field] = value
    with pytest.raises(validation.ConfigError, match=f"config.{field}="):
        experiment.train_and_evaluate(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists() and not (tmp_path / "data").exists()


def test_missing_celeba_is_a_config_error(tmp_path):
    config = tiny_config("wae_mmd", str(tmp_path / "data"), name="celeba_mmd")
    with pytest.raises(validation.ConfigError, match="config.dataset='celeb_a_64'"):
        experiment.train_and_evaluate(config, str(tmp_path / "run"))
