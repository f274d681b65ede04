"""Early stopping of each member of a population on its own validation loss.

Keras' EarlyStopping(patience, restore_best_weights=True), per member: a member
stops after `patience` checks without a new best loss (no min_delta); its best
parameters are kept and no longer change once it has stopped.
"""

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from wae_jax.training import population


class EarlyStopping(flax.struct.PyTreeNode):
    best_params: Any  # pytree, leaves [K, ...]
    best_loss: jax.Array  # float32 [K]
    best_epoch: jax.Array  # int32 [K]: the member's check count at its best (1 = first)
    checks: jax.Array  # int32 [K]: validation checks done
    waited: jax.Array  # int32 [K]: checks since the best
    stopped: jax.Array  # bool [K]


def start(params: Any) -> EarlyStopping:
    """No check yet; best_params a copy of `params` (whose arrays the training step may
    donate)."""
    num = jax.tree.leaves(params)[0].shape[0]
    zeros = jnp.zeros(num, jnp.int32)
    return EarlyStopping(jax.tree.map(jnp.copy, params), jnp.full(num, jnp.inf, jnp.float32),
                         zeros, zeros, zeros, jnp.zeros(num, bool))


@jax.jit
def update(state: EarlyStopping, params: Any, loss: jax.Array, checked: jax.Array,
           patience: int) -> EarlyStopping:
    """One validation check of the members in `checked` (bool [K]) with `loss` [K].

    A non-finite loss never counts as an improvement."""
    active = checked & ~state.stopped
    improved = active & (loss < state.best_loss)
    checks = state.checks + active
    waited = jnp.where(improved, 0, state.waited + active)
    return EarlyStopping(
        best_params=population.where_members(improved, params, state.best_params),
        best_loss=jnp.where(improved, loss, state.best_loss),
        best_epoch=jnp.where(improved, checks, state.best_epoch),
        checks=checks, waited=waited, stopped=state.stopped | (waited >= patience))
