"""The WAE paper's encoder pre-training: match Q_Z's batch mean and covariance to the prior's.

A freshly initialised encoder can put all codes in a tiny region far from P_Z, where
the MMD (or adversary) gives weak gradients. The official WAE code therefore first
trains the encoder alone, for up to 200 steps, until
    mean((mean_q - mean_p)^2) + mean((cov_q - cov_p)^2) < 0.1.
Here the prior's moments are the exact ones (0 and prior_std^2 I) rather than the
moments of a prior sample as in that code: the same target, without sampling noise.
"""

from typing import Callable, Iterator, Optional

import jax
import jax.numpy as jnp
import ml_collections
import optax

from wae_jax.training import methods
from wae_jax.training.random_streams import stream_key
from wae_jax.training.state import TrainState, make_optimizer


def moment_matching_loss(z: jax.Array, prior_std: float) -> jax.Array:
    """Mean squared error of the batch mean and unbiased batch covariance of z to the prior's."""
    n, d = z.shape
    mean = jnp.mean(z, axis=0)
    centred = z - mean
    cov = centred.T @ centred / (n - 1)
    return jnp.mean(jnp.square(mean)) + jnp.mean(jnp.square(cov - prior_std**2 * jnp.eye(d)))


PretrainStep = Callable[..., tuple]


def make_pretrain_fns(config: ml_collections.ConfigDict, model
                      ) -> tuple[Callable[..., optax.OptState], PretrainStep]:
    """Pure `init(params) -> opt_state` and
    `step(params, batch_stats, opt_state, images, rng) -> (params, batch_stats, opt_state, loss)`.

    Only the encoder enters the loss, so the decoder's gradients are exactly zero
    and Adam leaves its parameters unchanged. Pre-training has its own Adam state;
    the main optimizer state is untouched.
    """
    tx = make_optimizer(config, config.learning_rate)

    def loss_fn(params, batch_stats, images, rng):
        z, new_stats = methods.encode(model, params, batch_stats, images, rng, True,
                                      config.input_noise_std)
        return moment_matching_loss(z, config.prior_std), new_stats

    def pretrain_step(params, batch_stats, opt_state, images, rng):
        (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, batch_stats, images, rng)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), batch_stats, opt_state, loss

    return tx.init, pretrain_step


def pretrain_encoder(config: ml_collections.ConfigDict, state: TrainState,
                     init_fn: Callable[..., optax.OptState], step_fn: PretrainStep,
                     batches: Iterator[jax.Array],
                     log: Optional[Callable[[str], None]] = None) -> tuple[TrainState, int, float]:
    """Runs (compiled) pre-training steps until the loss is below the threshold or the
    budget is spent; returns the state with the pre-trained encoder and its batch-norm
    statistics, the number of steps taken and the last loss."""
    params, batch_stats = state.params, state.batch_stats
    opt_state = init_fn(params)
    rng = stream_key(state.rng, "pretrain")
    loss, steps = float("inf"), 0
    for steps in range(1, config.pretrain_max_steps + 1):
        params, batch_stats, opt_state, loss_array = step_fn(
            params, batch_stats, opt_state, next(batches), jax.random.fold_in(rng, steps))
        loss = float(loss_array)
        if log is not None and (steps == 1 or steps % 50 == 0):
            log(f"encoder pre-training step {steps}: moment-matching loss {loss:.4f}")
        if loss < config.pretrain_loss_threshold:
            break
    return state.replace(params=params, batch_stats=batch_stats), steps, loss
