"""population.make_member_update: one member's population step as a program of its own.

Checked against the solo train step (an active member's update is that step's) and for
the population's divergence rule: a non-finite update is discarded, the member marked at
that step and frozen from then on, even when a later batch would be finite.
"""

import jax
import jax.numpy as jnp
import numpy as np

from tests.fast_compilation import jit as fast_jit
from tests.training.tiny import random_batch, setup_model
from wae_jax.training import population, steps

EPOCH = 4


def _copy(state):
    return jax.tree.map(jnp.copy, state)  # the update donates its input


def _leaves_equal(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_an_active_member_takes_the_solo_step():
    config, model, adversary, state = setup_model("wae_mmd")
    update = population.make_member_update(config, model, adversary)
    solo = fast_jit(steps.make_train_step(config, model, adversary, EPOCH))
    expected, _ = solo(state, random_batch(1))
    got, diverged_at = update(_copy(state), jnp.int32(0), random_batch(1), EPOCH, 10)
    assert int(diverged_at) == 0 and int(got.step) == 1
    jax.tree.map(lambda g, e: np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6),
                 got.params, expected.params)


def test_a_non_finite_update_is_discarded_and_the_member_frozen():
    config, model, adversary, state = setup_model("wae_mmd")
    update = population.make_member_update(config, model, adversary)
    state, _ = update(_copy(state), jnp.int32(0), random_batch(1), EPOCH, 10)
    after_one = _copy(state)
    poisoned = {**random_batch(2), "image": random_batch(2)["image"].at[0, 0, 0, 0].set(
        jnp.nan)}
    state, diverged_at = update(state, jnp.int32(0), poisoned, EPOCH, 10)
    assert int(diverged_at) == 2  # the update that would have been the member's 2nd
    assert _leaves_equal(state, after_one)
    state, diverged_at = update(state, diverged_at, random_batch(3), EPOCH, 10)
    assert int(diverged_at) == 2 and _leaves_equal(state, after_one)


def test_a_member_past_its_last_step_keeps_its_state():
    config, model, adversary, state = setup_model("wae_mmd")
    update = population.make_member_update(config, model, adversary)
    state, _ = update(_copy(state), jnp.int32(0), random_batch(1), EPOCH, 1)
    done = _copy(state)
    state, diverged_at = update(state, jnp.int32(0), random_batch(2), EPOCH, 1)
    assert int(diverged_at) == 0 and int(state.step) == 1 and _leaves_equal(state, done)
