"""The WAE paper's input noise: std config.input_noise_std, truncated at 2 sigma, training
only, and the reconstruction target stays the clean image.

The auto-encoder is set to the identity on 2x2 images (4 pixels, 4 hidden units, 4-D codes,
positive pixels + 1 stay in ReLU's linear part), so its codes and its output are the
encoder's input: the noisy image.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from wae_jax import models
from wae_jax.training import methods
from wae_jax.training.state import hparams_of
from tests.training.tiny import tiny_config

IMAGE_SHAPE, PIXELS = (2, 2, 1), 4


def _identity(bias: float) -> dict:
    return {"kernel": jnp.eye(PIXELS), "bias": jnp.full(PIXELS, bias)}


@pytest.fixture(scope="module")
def identity_autoencoder():
    config = tiny_config("wae_mmd", "", latent_dim=PIXELS, input_noise_std=0.01)
    config.model.arch, config.model.hidden = "mlp", (PIXELS,)
    config.model.output_activation = "identity"
    model = models.build_autoencoder(config.model, IMAGE_SHAPE)
    params = {"encoder": {"Dense_0": _identity(1.0)}, "head": {"mean": _identity(-1.0)},
              "decoder": {"Dense_0": _identity(1.0), "Dense_1": _identity(-1.0)}}
    shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.zeros((1, *IMAGE_SHAPE)),
                            False)["params"]
    assert jax.tree.structure(shapes) == jax.tree.structure(params)
    images = jax.random.uniform(jax.random.PRNGKey(1), (1024, *IMAGE_SHAPE))
    return config, model, params, images


def _noise(identity_autoencoder, train):
    config, model, params, images = identity_autoencoder
    fwd, _ = methods.autoencode(model, params, {}, images, jax.random.PRNGKey(2), train,
                                config.input_noise_std)
    return np.asarray(fwd.z, np.float64) - np.asarray(images, np.float64).reshape(-1, PIXELS)


def test_training_noise_is_a_gaussian_of_the_config_std_truncated_at_two_sigma(
        identity_autoencoder):
    std = identity_autoencoder[0].input_noise_std
    noise = _noise(identity_autoencoder, train=True).ravel() / std
    assert np.abs(noise).max() <= 2.0 + 1e-3
    assert np.abs(noise).max() > 1.9
    truncated = scipy.stats.truncnorm(-2.0, 2.0)
    assert noise.std() == pytest.approx(truncated.std(), rel=0.05)
    assert scipy.stats.kstest(noise, truncated.cdf).pvalue > 1e-3


def test_no_noise_in_evaluation(identity_autoencoder):
    np.testing.assert_allclose(_noise(identity_autoencoder, train=False), 0.0, atol=1e-6)


def test_the_reconstruction_target_is_the_clean_image(identity_autoencoder):
    """The output is the noisy input: its cost is the noise's energy, not 0."""
    config, model, params, images = identity_autoencoder
    _, (aux, fwd, _) = methods.autoencoder_loss(config, model, None, params, {}, {}, images,
                                                jax.random.PRNGKey(2), hparams_of(config), 1.0,
                                                True)
    x, x_hat = np.asarray(images, np.float64), np.asarray(fwd.x_hat, np.float64)
    expected = np.mean(np.sum((x_hat - x).reshape(len(x), -1) ** 2, axis=1))
    assert expected > 1e-4
    assert float(aux["reconstruction"]) == pytest.approx(expected, rel=1e-3)
