import jax
import numpy as np
import pytest

from wae_jax.models.autoencoder import OUTPUT_ACTIVATIONS, AutoEncoder
from wae_jax.models.heads import DeterministicHead, GaussianHead, NoiseHead
from wae_jax.models.mlp import MLPDecoder, MLPEncoder

SHAPE = (4, 4, 1)
X = jax.random.uniform(jax.random.key(3), (3, *SHAPE))


def _model(head, activation="sigmoid"):
    return AutoEncoder(MLPEncoder((8,)), head, MLPDecoder(SHAPE, (8,)), activation)


def test_gaussian_autoencoder_methods_agree(random_variables):
    model = _model(GaussianHead(2, logvar_clamp=5.0))
    variables = random_variables(model, X.shape, train=False)
    assert set(variables["params"]) == {"encoder", "head", "decoder"}
    mean, logvar, x_hat = model.apply(variables, X, False)
    enc_mean, enc_logvar = model.apply(variables, X, False, method="encode")
    assert mean.shape == logvar.shape == (3, 2) and x_hat.shape == X.shape
    np.testing.assert_array_equal(mean, enc_mean)
    np.testing.assert_array_equal(logvar, enc_logvar)
    np.testing.assert_array_equal(x_hat, model.apply(variables, mean, False, method="decode"))


@pytest.mark.parametrize("head", [DeterministicHead(2), NoiseHead(2, 2, 8)])
def test_code_only_encoders_return_no_logvar(head, random_variables):
    model = _model(head)
    variables = random_variables(model, X.shape, train=False)
    z, logvar = model.apply(variables, X, True, rngs={"noise": jax.random.key(5)},
                            method="encode")
    assert z.shape == (3, 2) and logvar is None


@pytest.mark.parametrize("activation,function", [("sigmoid", jax.nn.sigmoid),
                                                 ("tanh", np.tanh)])
def test_output_activation_is_applied_to_the_logits(activation, function,
                                                  random_variables):
    logits_model = _model(DeterministicHead(2), "identity")
    variables = random_variables(logits_model, X.shape, train=False)
    z = jax.random.normal(jax.random.key(4), (3, 2)) * 3.0
    logits = logits_model.apply(variables, z, False, method="decode")
    x_hat = _model(DeterministicHead(2), activation).apply(variables, z, False, method="decode")
    np.testing.assert_allclose(x_hat, function(np.asarray(logits)), rtol=1e-5, atol=1e-6)


def test_unknown_output_activation():
    with pytest.raises(ValueError, match="output_activation='relu'.*sigmoid"):
        _model(DeterministicHead(2), "relu")
    assert set(OUTPUT_ACTIVATIONS) == {"sigmoid", "tanh", "identity"}


def test_jit_matches_eager(random_variables):
    model = _model(NoiseHead(2, 2, 8))
    variables = random_variables(model, X.shape, train=False)
    rngs = {"noise": jax.random.key(6)}
    eager = model.apply(variables, X, True, rngs=rngs)
    jitted = jax.jit(lambda v, x, r: model.apply(v, x, True, rngs=r))(variables, X, rngs)
    for a, b in zip(eager, jitted):
        if a is None:
            assert b is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
