"""Step-indexed schedules: the WAE paper's learning-rate decay and W2-VAE's lambda ramp.

Both are pure functions of the (traced) step so that they live inside the jitted
update and a resumed run recomputes exactly the values an uninterrupted run used.
Base values come from the per-model hyper-parameters in the train state; the
boundaries and factors are static config, and steps_per_epoch may be traced (the
members of a population with per-member data each have their own epoch length).
"""

from typing import Callable, Sequence

import jax
import jax.numpy as jnp

StepsPerEpoch = int | jax.Array


def learning_rate_multiplier(decay_epochs: Sequence[int], decay_factors: Sequence[float],
                             steps_per_epoch: StepsPerEpoch
                             ) -> Callable[[jax.Array], jax.Array]:
    """Piecewise-constant multiplier: divided by decay_factors[i] from epoch decay_epochs[i] on.

    The divisions compound, as in the official WAE code (`decay /= 2` at epoch 30,
    `/= 5` at 50, `/= 10` at 100), so the paper's schedule reaches 1/100 at epoch 100.
    Empty sequences give a constant 1.
    """
    def multiplier(step: jax.Array) -> jax.Array:
        epoch = jnp.asarray(step) // steps_per_epoch
        value = jnp.float32(1.0)
        for boundary, factor in zip(decay_epochs, decay_factors):
            value = jnp.where(epoch >= int(boundary), value / float(factor), value)
        return value
    return multiplier


def penalty_weight(lambda_: jax.Array, lambda_growth: jax.Array, step: jax.Array,
                   steps_per_epoch: StepsPerEpoch) -> jax.Array:
    """lambda_ + lambda_growth * epoch, the W2-VAE paper's ramp (growth 0 = constant).

    The epoch is the integer number of completed epochs, so the weight changes at
    epoch boundaries only, as in an epoch loop.
    """
    epoch = (step // steps_per_epoch).astype(jnp.float32)
    return lambda_ + lambda_growth * epoch
