"""Learning-rate decay and lambda ramp against direct step-by-step references."""

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
