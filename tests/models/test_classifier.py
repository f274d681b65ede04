import flax
import jax
import ml_collections
import numpy as np
import pytest

from wae_jax.models import build_classifier
from wae_jax.models.classifier import Classifier

X = jax.random.uniform(jax.random.key(0), (4, 16, 16, 1))


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def conv(k: int, n_in: int, n_out: int) -> int:
    return k * k * n_in * n_out + n_out


def test_mnist_parameter_count_and_shapes(abstract_init, num_params, conv_output_sizes):
    model = build_classifier(ml_collections.ConfigDict())
    variables = abstract_init(model, (2, 28, 28, 1), train=False)
    expected = (conv(3, 1, 64) + conv(3, 64, 128) + 2 * conv(3, 128, 128)
                + dense(4 * 4 * 128, 128) + dense(128, 10))
    assert num_params(variables) == expected
    assert conv_output_sizes(model, (28, 28, 1)) == [
        (26, 26, 64), (24, 24, 128), (10, 10, 128), (8, 8, 128)]


def test_same_padding_is_the_official_codes_net(abstract_init, num_params,
                                                 conv_output_sizes):
    """The augmentation paper's Keras CNN with padding='same': 1,173,898 parameters,
    counted by hand from its layers (FC128 on 7 * 7 * 128 features)."""
    model = Classifier(num_classes=10, padding="SAME")
    assert num_params(abstract_init(model, (2, 28, 28, 1), train=False)) == 1_173_898
    assert conv_output_sizes(model, (28, 28, 1)) == [
        (28, 28, 64), (28, 28, 128), (14, 14, 128), (14, 14, 128)]


@pytest.fixture(scope="module")
def classifier(random_variables):
    """Variables and a jitted training-mode apply returning (logits, intermediates)."""
    model = Classifier(num_classes=10, lowering="xla")
    variables = random_variables(model, X.shape, train=False)

    @jax.jit
    def train_apply(rngs):
        logits, state = model.apply(variables, X, True, rngs=rngs, capture_intermediates=True,
                                    mutable=["intermediates"])
        return logits, state["intermediates"]

    return model, variables, train_apply


def test_dropout_follows_the_dropout_rng(classifier):
    model, variables, train_apply = classifier

    def logits(seed):
        return train_apply({"dropout": jax.random.key(seed)})[0]

    assert logits(3).shape == (4, 10)
    np.testing.assert_array_equal(logits(3), logits(3))
    assert not np.allclose(logits(3), logits(4))
    evaluate = jax.jit(lambda v: model.apply(v, X, False))
    np.testing.assert_array_equal(evaluate(variables), evaluate(variables))
    assert not np.allclose(evaluate(variables), logits(3))
    with pytest.raises(flax.errors.InvalidRngError):
        train_apply({})


def test_dropout_rate_is_one_half(classifier):
    """Each kept unit of the FC128 dropout is scaled by 2, about half are zeroed."""
    _, _, train_apply = classifier
    _, layers = train_apply({"dropout": jax.random.key(5)})
    before = np.maximum(np.asarray(layers["Dense_0"]["__call__"][0]), 0)  # ReLU(FC128)
    after = np.asarray(layers["Dropout_2"]["__call__"][0])
    active = before > 0
    kept = after[active] != 0
    np.testing.assert_allclose(after[active][kept], 2 * before[active][kept], rtol=1e-6)
    assert active.sum() > 100 and abs(kept.mean() - 0.5) < 0.15


def test_bad_dropout_rate():
    with pytest.raises(ValueError, match="dropout_rate"):
        build_classifier(ml_collections.ConfigDict({"dropout_rate": 1.0}))
