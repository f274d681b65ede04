"""max_pool_2x2 against a numpy loop over windows and against flax's nn.max_pool."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.fast_compilation import jit as fast_jit
from wae_jax.models import classifier
from wae_jax.models.classifier import Classifier
from wae_jax.models.pooling import max_pool_2x2


def numpy_max_pool(x: np.ndarray) -> np.ndarray:
    b, h, w, c = x.shape
    out = np.empty((b, h // 2, w // 2, c), x.dtype)
    for i in range(h // 2):
        for j in range(w // 2):
            out[:, i, j] = x[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max(axis=(1, 2))
    return out


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (3, 7, 9, 2), (1, 2, 2, 1), (2, 5, 4, 4)])
def test_values_and_gradients_equal_the_window_maxima(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)  # no ties
    np.testing.assert_array_equal(max_pool_2x2(jnp.asarray(x)), numpy_max_pool(x))
    np.testing.assert_array_equal(max_pool_2x2(jnp.asarray(x)),
                                  nn.max_pool(jnp.asarray(x), (2, 2), strides=(2, 2)))
    weights = np.random.default_rng(1).standard_normal(numpy_max_pool(x).shape)
    grad = jax.grad(lambda v: jnp.sum(weights * max_pool_2x2(v)))(jnp.asarray(x))
    expected = np.zeros_like(x)  # each window's weight lands on its maximum
    b, i, j, c = np.indices(weights.shape)
    h, w = shape[1] // 2 * 2, shape[2] // 2 * 2
    window = x[:, :h, :w].reshape(shape[0], h // 2, 2, w // 2, 2, shape[3])
    flat = window.transpose(0, 1, 3, 5, 2, 4).reshape(*weights.shape, 4).argmax(-1)
    np.add.at(expected, (b, 2 * i + flat // 2, 2 * j + flat % 2, c), weights)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


def test_the_networks_gradients_equal_those_with_flax_pooling(monkeypatch, random_variables):
    """Ties behind the ReLUs (zeros) split the gradient differently; the ReLUs discard it."""
    model = Classifier(widths=(4, 8, 8, 8), hidden=16, padding="SAME")
    x = jax.random.uniform(jax.random.key(0), (6, 28, 28, 1))
    labels = jnp.arange(6) % 10
    params = random_variables(model, x.shape, train=False)["params"]

    def grads():  # traced afresh: after the monkeypatch, with flax's pooling
        def loss(p):
            logits = model.apply({"params": p}, x, train=True,
                                 rngs={"dropout": jax.random.key(2)})
            return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(6), labels])
        return fast_jit(jax.grad(loss))(params)

    ours = grads()
    monkeypatch.setattr(classifier, "max_pool_2x2",
                        lambda v: nn.max_pool(v, (2, 2), strides=(2, 2)))
    theirs = grads()
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
