import flax
import jax
import numpy as np
import pytest

from wae_jax.models.heads import DeterministicHead, GaussianHead, NoiseHead

FEATURES = jax.random.normal(jax.random.key(3), (5, 6))


def _affine(params, features):
    return np.asarray(features) @ np.asarray(params["kernel"]) + np.asarray(params["bias"])


def test_deterministic_head_is_affine(random_variables):
    head = DeterministicHead(latent_dim=3)
    variables = random_variables(head, FEATURES.shape)
    z, logvar = head.apply(variables, FEATURES)
    assert logvar is None
    np.testing.assert_allclose(z, _affine(variables["params"]["mean"], FEATURES),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("clamp", [0.5, 3.0])
def test_gaussian_logvar_is_clamped(clamp, random_variables):
    head = GaussianHead(latent_dim=4, logvar_clamp=clamp)
    variables = random_variables(head, FEATURES.shape)
    big = 50.0 * FEATURES  # raw log-variances far outside [-clamp, clamp]
    mean, logvar = head.apply(variables, big)
    raw = _affine(variables["params"]["logvar"], big)
    assert np.abs(raw).max() > clamp and raw.min() < -clamp and raw.max() > clamp
    np.testing.assert_allclose(logvar, np.clip(raw, -clamp, clamp), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mean, _affine(variables["params"]["mean"], big), rtol=1e-5,
                               atol=1e-4)


def test_gaussian_nonpositive_heads(random_variables):
    head = GaussianHead(latent_dim=4, logvar_clamp=10.0, nonpositive=True)
    variables = random_variables(head, FEATURES.shape)
    mean, logvar = head.apply(variables, FEATURES)
    raw_mean = _affine(variables["params"]["mean"], FEATURES)
    raw_logvar = _affine(variables["params"]["logvar"], FEATURES)
    assert raw_mean.max() > 0 and raw_logvar.max() > 0  # the activation has work to do
    np.testing.assert_allclose(mean, np.minimum(raw_mean, 0.0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logvar, np.minimum(raw_logvar, 0.0), rtol=1e-5, atol=1e-6)


def test_noise_head_depends_on_the_noise_rng_only(random_variables):
    head = NoiseHead(latent_dim=3, noise_dim=2, hidden=16)
    variables = random_variables(head, FEATURES.shape)

    def encode(seed):
        return head.apply(variables, FEATURES, rngs={"noise": jax.random.key(seed)})[0]

    np.testing.assert_array_equal(encode(7), encode(7))
    assert np.abs(encode(7) - encode(8)).min() > 0  # every coordinate moves
    assert head.apply(variables, FEATURES, rngs={"noise": jax.random.key(7)})[1] is None


def test_noise_head_needs_a_noise_rng(random_variables):
    head = NoiseHead(latent_dim=3, noise_dim=2, hidden=16)
    variables = random_variables(head, FEATURES.shape)
    with pytest.raises(flax.errors.InvalidRngError):
        head.apply(variables, FEATURES)


def test_noise_head_matches_reference_and_is_nonlinear_in_the_noise(random_variables):
    """z = m + W2 relu(W1 [m, eps] + b1) + b2, checked against numpy with the drawn eps."""
    head = NoiseHead(latent_dim=3, noise_dim=2, hidden=16)
    variables = random_variables(head, FEATURES.shape)
    params = variables["params"]
    mixed_inputs = []

    def record_mix_input(next_fun, args, kwargs, context):
        if context.module.name == "mix":
            mixed_inputs.append(np.asarray(args[0]))
        return next_fun(*args, **kwargs)

    with flax.linen.intercept_methods(record_mix_input):
        z, _ = head.apply(variables, FEATURES, rngs={"noise": jax.random.key(5)})
    eps = mixed_inputs[0][:, 3:]

    def reference(noise):
        code = _affine(params["mean"], FEATURES)
        h = np.maximum(_affine(params["mix"], np.concatenate([code, noise], -1)), 0.0)
        return code + _affine(params["perturbation"], h)

    np.testing.assert_allclose(z, reference(eps), rtol=1e-5, atol=1e-5)
    # Zero for any encoder that is affine in eps (plain additive Gaussian noise).
    curvature = reference(eps) + reference(-eps) - 2 * reference(np.zeros_like(eps))
    assert np.abs(curvature).max() > 1e-3
