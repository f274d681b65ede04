"""Every config file loads at every size, validates, and carries the papers' values."""

import importlib
import inspect

import pytest

from configs import common
from wae_jax.training import validation
from tests.training.tiny import ROOT

NAMES = sorted(p.stem for p in (ROOT / "configs").glob("*.py")
               if p.stem not in ("__init__", "common"))


def _load(name, arg=None):
    return importlib.import_module(f"configs.{name}").get_config(arg)


def test_all_issue_configs_exist():
    expected = {f"{d}_{m}" for d in ("mnist", "fashion_mnist") for m in
                ("vae", "w2vae", "mmd", "gan")}
    expected |= {"celeba_vae", "celeba_mmd", "celeba_gan", "mnist_mlp_vae", "mnist_mlp_w2vae"}
    assert set(NAMES) == expected


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("arg", [None, "small", "tiny"])
def test_config_validates(name, arg):
    config = _load(name, arg)
    validation.validate_config(config, 1)
    doc = importlib.import_module(f"configs.{name}").__doc__
    assert f"--config=configs/{name}.py" in doc  # the run command is in the docstring


def test_unknown_size_argument():
    with pytest.raises(ValueError, match="config argument 'huge'"):
        _load("mnist_mmd", "huge")


def test_every_base_field_is_commented():
    for function in (common.get_config, common.model_config, common.sample_eval_config):
        for line in inspect.getsource(function).splitlines():
            line = line.strip()
            if line.startswith(("config.", "model.", "sample_eval.")) and " = " in line:
                assert "#" in line or line.startswith(
                    ("config.model =", "config.sample_eval =")), line


def test_sample_eval_is_the_bigwae_protocol_and_small_uses_the_cpu_proxy():
    paper = _load("celeba_mmd").sample_eval
    assert (tuple(paper.metrics), paper.keep_best, paper.num_samples) == (("fid",), "fid", 10_000)
    small = _load("mnist_mmd", "small").sample_eval
    assert (tuple(small.metrics), small.keep_best) == (("classifier_fd",), "classifier_fd")
    assert tuple(_load("celeba_mmd", "small").sample_eval.metrics) == ()  # no labels


def test_wae_mnist_paper_values():
    for name in ("mnist_mmd", "mnist_gan"):
        c = _load(name)
        assert (c.latent_dim, c.lambda_, c.batch_size, c.num_epochs) == (8, 10.0, 100, 100)
        assert (c.learning_rate, c.adam_b1, c.cost, c.recon_scale) == (1e-3, 0.5, "l2sq", 0.05)
        assert (tuple(c.lr_decay_epochs), tuple(c.lr_decay_factors)) == ((30, 50, 100),
                                                                         (2.0, 5.0, 10.0))
        assert (c.model.arch, c.model.encoder, c.model.widths) == (
            "dcgan_mnist", "deterministic", (128, 256, 512, 1024))
        assert c.pretrain_encoder and c.input_noise_std == 0.01
        assert c.pretrain_max_steps == 200 and c.pretrain_loss_threshold == 0.1
    assert _load("mnist_gan").adversary_learning_rate == 5e-4


def test_celeba_paper_values():
    mmd, gan = _load("celeba_mmd"), _load("celeba_gan")
    for c in (mmd, gan):
        assert (c.dataset, c.latent_dim, c.num_epochs, c.batch_size) == ("celeb_a_64", 64, 55, 100)
        assert (c.value_range, c.model.output_activation, c.model.arch) == (
            "symmetric", "tanh", "dcgan_celeba")
        assert c.learning_rate == 3e-4
    assert mmd.lambda_ == 100.0 and gan.lambda_ == 1.0
    assert gan.adversary_learning_rate == 1e-3 and gan.log_prior_trick
    assert gan.model.adversary_hidden == (1024,) * 4


def test_w2vae_mlp_setting():
    c = _load("mnist_mlp_w2vae")
    assert (c.method, c.model.arch, c.num_epochs, c.batch_size) == ("w2vae", "mlp", 15, 100)
    assert (c.lambda_, c.lambda_growth) == (0.5, 0.05)
    assert _load("fashion_mnist_mmd").dataset == "fashion_mnist"


def test_latent_dim_override_reaches_the_model():
    config = _load("mnist_mmd")
    config.latent_dim = 16
    assert config.model.latent_dim == 16 and config.model.noise_dim == 16
