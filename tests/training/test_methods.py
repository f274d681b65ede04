"""Per-method pieces: the adversary's gradient path, the log-prior trick, input noise."""

import functools

import jax
import numpy as np

from wae_jax.training import methods
from tests.training.tiny import random_batch, setup_model


def test_adversary_loss_does_not_train_the_encoder():
    config, _, adversary, state = setup_model("wae_gan")
    z_q = jax.random.normal(jax.random.PRNGKey(1), (8, config.latent_dim))
    grad_z = jax.grad(lambda z: methods.adversary_loss(
        config, adversary, state.adversary_params, z, jax.random.PRNGKey(2), state.hparams,
        1.0)[0])(z_q)
    assert np.all(np.asarray(grad_z) == 0)


def test_log_prior_trick_adds_the_gaussian_log_density():
    config, _, adversary, state = setup_model("wae_gan")
    z = jax.random.normal(jax.random.PRNGKey(3), (5, config.latent_dim))
    plain = methods.make_critic(adversary, state.adversary_params, config, 1.0)(z)
    config.log_prior_trick = True
    tricked = methods.make_critic(adversary, state.adversary_params, config, 1.0)(z)
    d = config.latent_dim
    log_density = -0.5 * np.sum(np.asarray(z) ** 2, 1) - 0.5 * d * np.log(2 * np.pi)
    np.testing.assert_allclose(np.asarray(tricked - plain), log_density, rtol=1e-5)


def test_input_noise_only_in_training_and_eval_is_deterministic():
    config, model, _, state = setup_model("wae_mmd", arch="dcgan_mnist", input_noise_std=0.01)
    x = random_batch()["image"]
    run = jax.jit(functools.partial(methods.autoencode, model, state.params, state.batch_stats,
                                    x), static_argnums=(1, 2))
    clean, _ = run(jax.random.PRNGKey(0), True, 0.0)
    noisy, _ = run(jax.random.PRNGKey(0), True, 0.01)
    assert not np.allclose(clean.z, noisy.z)
    eval_a, stats = run(jax.random.PRNGKey(0), False, 0.01)
    eval_b, _ = run(jax.random.PRNGKey(9), False, 0.01)
    np.testing.assert_array_equal(eval_a.x_hat, eval_b.x_hat)
    for a, b in zip(jax.tree.leaves(stats), jax.tree.leaves(state.batch_stats)):
        np.testing.assert_array_equal(a, b)
    _, train_stats = run(jax.random.PRNGKey(0), True, 0.0)  # training moves the BN averages
    assert not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(train_stats),
                                                        jax.tree.leaves(state.batch_stats)))
