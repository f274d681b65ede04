import jax
import ml_collections
import numpy as np
import pytest

from wae_jax.models import build_autoencoder
from wae_jax.models.mlp import MLPDecoder, MLPEncoder


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def _config(encoder: str) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(dict(arch="mlp", encoder=encoder, latent_dim=8,
                                          output_activation="sigmoid", logvar_clamp=10.0))


@pytest.mark.parametrize("encoder,heads", [("deterministic", 1), ("gaussian", 2)])
def test_default_parameter_count(encoder, heads, abstract_init, num_params):
    """784-512-256-z encoder, z-256-512-784 decoder (the 3-layer nets, default sizes)."""
    model = build_autoencoder(_config(encoder), (28, 28, 1))
    variables = abstract_init(model, (1, 28, 28, 1), train=False)
    expected = (dense(784, 512) + dense(512, 256) + heads * dense(256, 8)
                + dense(8, 256) + dense(256, 512) + dense(512, 784))
    assert num_params(variables["params"]) == expected
    assert "batch_stats" not in variables


def test_forward_matches_numpy(random_variables):
    encoder, decoder = MLPEncoder((5, 4)), MLPDecoder((2, 3, 1), (4,))
    x = jax.random.normal(jax.random.key(0), (3, 2, 3, 1))
    z = jax.random.normal(jax.random.key(1), (3, 2))
    enc_params = random_variables(encoder, x.shape, train=False)["params"]
    dec_params = random_variables(decoder, z.shape, seed=1, train=False)["params"]

    def layer(p, h, relu=True):
        y = h @ np.asarray(p["kernel"]) + np.asarray(p["bias"])
        return np.maximum(y, 0) if relu else y

    h = layer(enc_params["Dense_1"], layer(enc_params["Dense_0"], np.asarray(x).reshape(3, 6)))
    np.testing.assert_allclose(encoder.apply({"params": enc_params}, x, True), h, rtol=1e-5,
                               atol=1e-6)
    out = layer(dec_params["Dense_1"], layer(dec_params["Dense_0"], np.asarray(z)), relu=False)
    np.testing.assert_allclose(decoder.apply({"params": dec_params}, z, True),
                               out.reshape(3, 2, 3, 1), rtol=1e-5, atol=1e-6)
