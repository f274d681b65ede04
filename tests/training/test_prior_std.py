"""Everything that depends on the prior N(0, prior_std^2 I), at prior_std = 3, where a
std / variance mix-up (3 vs 9) is plain. The IMQ base 2 d sigma^2 and the log-prior trick
inside a train step are checked at prior_std = 1.5 in test_step_reference.py; the
sample-evaluation noise in test_sample_quality.py."""

import itertools

import jax
import numpy as np
import pytest
import scipy.stats

from wae_jax import models
from wae_jax.training import encoder_pretraining, progress_report, methods, steps
from tests.training.tiny import SHAPE, create_state, tiny_config

PRIOR_STD = 3.0


def test_sample_prior_has_the_prior_std():
    z = np.asarray(methods.sample_prior(jax.random.PRNGKey(0), 20_000, 2, PRIOR_STD))
    assert z.shape == (20_000, 2)
    np.testing.assert_allclose(z.std(0), PRIOR_STD, rtol=0.03)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=0.1)


def test_log_prior_trick_adds_the_log_density_of_the_prior():
    config = tiny_config("wae_gan", "", latent_dim=3, prior_std=PRIOR_STD)
    config.model.arch = "mlp"
    adversary = models.build_adversary(config.model)
    z = 4.0 * np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    params = adversary.init(jax.random.PRNGKey(0), z)["params"]
    plain = methods.make_critic(adversary, params, config, PRIOR_STD)(z)
    config.log_prior_trick = True
    tricked = methods.make_critic(adversary, params, config, PRIOR_STD)(z)
    expected = scipy.stats.multivariate_normal(np.zeros(3), PRIOR_STD**2 * np.eye(3)).logpdf(z)
    np.testing.assert_allclose(np.asarray(tricked - plain), expected, rtol=1e-5)


def test_pretraining_drives_the_code_covariance_to_the_prior_variance():
    config = tiny_config("wae_mmd", "", latent_dim=2, prior_std=PRIOR_STD, learning_rate=0.01,
                         pretrain_max_steps=300, pretrain_loss_threshold=0.1)
    config.model.arch, config.model.hidden = "mlp", (32,)  # deeper tiny MLPs die here
    model = models.build_autoencoder(config.model, SHAPE)
    state = create_state(config, model, None, jax.random.PRNGKey(0))
    init_fn, step_fn = encoder_pretraining.make_pretrain_fns(config, model)
    images = np.random.default_rng(0).random((64, *SHAPE), np.float32)
    state, num_steps, _ = encoder_pretraining.pretrain_encoder(
        config, state, init_fn, jax.jit(step_fn), itertools.repeat(images))
    assert num_steps < config.pretrain_max_steps  # converged
    codes = np.asarray(model.apply({"params": state.params}, images, False,
                                   method=model.encode)[0], np.float64)
    np.testing.assert_allclose(np.cov(codes, rowvar=False), PRIOR_STD**2 * np.eye(2), atol=1.0)


def test_the_figure_samples_have_the_prior_std():
    config = tiny_config("wae_mmd", "", latent_dim=8, prior_std=PRIOR_STD)
    config.model.arch = "mlp"
    model = models.build_autoencoder(config.model, SHAPE)
    images = np.zeros((64, *SHAPE), np.float32)
    figures = progress_report.ProgressReport(config, model, None, steps.make_mesh(), images, 1)
    noise = np.asarray(figures._prior_noise)  # the latents of the "samples" grid
    assert noise.shape == (64, 8)
    assert noise.std() == pytest.approx(PRIOR_STD, rel=0.1)
