"""Learning-rate decay and lambda ramp against direct step-by-step references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.training import schedules


def test_paper_learning_rate_schedule_compounds_at_epoch_boundaries():
    steps_per_epoch = 7
    multiplier = schedules.learning_rate_multiplier((30, 50, 100), (2.0, 5.0, 10.0),
                                                    steps_per_epoch)
    for step in range(0, 120 * steps_per_epoch, 3):
        epoch = step // steps_per_epoch
        # The official loop: decay /= 2 at epoch 30, /= 5 at 50, /= 10 at 100.
        expected = 1.0
        for boundary, factor in ((30, 2.0), (50, 5.0), (100, 10.0)):
            if epoch >= boundary:
                expected /= factor
        assert float(multiplier(step)) == pytest.approx(expected, rel=1e-6), step


def test_no_decay_is_constant():
    multiplier = schedules.learning_rate_multiplier((), (), 10)
    assert [float(multiplier(s)) for s in (0, 5, 10_000)] == [1.0, 1.0, 1.0]


def test_penalty_weight_grows_once_per_completed_epoch():
    steps = jnp.arange(0, 50)
    weights = schedules.penalty_weight(jnp.float32(0.5), jnp.float32(0.05), steps, 10)
    expected = 0.5 + 0.05 * (np.arange(50) // 10)
    np.testing.assert_allclose(np.asarray(weights), expected, rtol=1e-6)


def test_schedules_take_a_traced_epoch_length_per_member():
    """Under vmap each member's own steps_per_epoch, as a Python int would give."""
    lengths, steps = np.array([7, 3, 11]), jnp.arange(0, 400, 13)

    def both(length):
        multiplier = schedules.learning_rate_multiplier((30, 50), (2.0, 5.0), length)
        return (jax.vmap(multiplier)(steps),
                schedules.penalty_weight(jnp.float32(0.5), jnp.float32(0.05), steps, length))

    traced = jax.jit(jax.vmap(both))(jnp.asarray(lengths))
    for i, length in enumerate(lengths):
        epochs = np.arange(0, 400, 13) // length
        expected_lr = np.where(epochs >= 50, 0.1, np.where(epochs >= 30, 0.5, 1.0))
        np.testing.assert_allclose(np.asarray(traced[0][i]), expected_lr, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(traced[1][i]), 0.5 + 0.05 * epochs, rtol=1e-6)
