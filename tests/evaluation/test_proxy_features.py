"""classifier_fd's features are the Classifier's penultimate activations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.evaluation import frechet, proxy_features
from wae_jax.models import Classifier


@pytest.fixture(scope="module")
def classifier():
    model = Classifier(num_classes=10)
    variables = jax.jit(lambda: model.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)),
                                           train=False))()
    return model, variables


def test_features_reproduce_the_logits_through_the_last_layer(classifier):
    model, variables = classifier
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28, 1), np.uint8)
    feats = proxy_features.classifier_features(model, variables, images, batch_size=3)
    assert feats.shape == (7, 128) and feats.min() >= 0.0
    last = variables["params"]["Dense_1"]
    logits = model.apply(variables, jnp.asarray(images / 255.0, jnp.float32), train=False)
    np.testing.assert_allclose(feats @ last["kernel"] + last["bias"], logits,
                               rtol=1e-4, atol=1e-4)


def test_classifier_fd_is_the_frechet_distance_of_those_features(classifier):
    model, variables = classifier
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (20, 28, 28, 1))
    y = rng.uniform(0, 0.5, (20, 28, 28, 1))
    fx = frechet.feature_statistics(proxy_features.classifier_features(model, variables, x))
    fy = frechet.feature_statistics(proxy_features.classifier_features(model, variables, y))
    expected = frechet.frechet_distance(fx.mu, fx.sigma, fy.mu, fy.sigma)
    assert expected > 0
    np.testing.assert_allclose(proxy_features.classifier_fd(model, variables, x, y), expected)
    assert abs(proxy_features.classifier_fd(model, variables, x, x)) < 1e-8
