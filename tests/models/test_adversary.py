import jax
import ml_collections
import numpy as np
import pytest

from wae_jax.models import build_adversary
from wae_jax.models.adversary import LatentAdversary


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


@pytest.mark.parametrize("latent_dim,width", [(8, 512), (64, 1024)])  # WAE MNIST, CelebA
def test_parameter_count(latent_dim, width, abstract_init, num_params):
    config = ml_collections.ConfigDict({"adversary_hidden": (width,) * 4})
    variables = abstract_init(build_adversary(config), (2, latent_dim))
    expected = dense(latent_dim, width) + 3 * dense(width, width) + dense(width, 1)
    assert num_params(variables) == expected


def test_default_hidden_is_wae_mnist():
    assert build_adversary(ml_collections.ConfigDict()).hidden == (512,) * 4


def test_logits_match_numpy(random_variables):
    adversary = LatentAdversary(hidden=(6, 5))
    z = jax.random.normal(jax.random.key(0), (4, 3))
    params = random_variables(adversary, z.shape)["params"]
    h = np.asarray(z)
    for name in ("Dense_0", "Dense_1"):
        h = np.maximum(h @ np.asarray(params[name]["kernel"]) + np.asarray(params[name]["bias"]),
                       0)
    logits = h @ np.asarray(params["Dense_2"]["kernel"]) + np.asarray(params["Dense_2"]["bias"])
    out = adversary.apply({"params": params}, z)
    assert out.shape == (4,)
    np.testing.assert_allclose(out, logits[:, 0], rtol=1e-5, atol=1e-6)
