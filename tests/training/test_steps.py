"""The pure train step: vmap over a population; its arithmetic is in test_step_reference.py."""

import jax
import jax.numpy as jnp
import numpy as np

from wae_jax.training import steps
from tests.training.tiny import create_state, random_batch, setup_model, tiny_config

STEPS_PER_EPOCH = 2


def test_population_vmap_matches_separate_models():
    """Two models with different lambda and learning rate in one vmapped step."""
    config, model, adversary, state = setup_model("wae_mmd")
    other = create_state(config, model, adversary, jax.random.PRNGKey(1))
    other = other.replace(hparams={**other.hparams, "lambda_": jnp.float32(3.0),
                                   "learning_rate": jnp.float32(1e-2)})
    train_step = steps.make_train_step(config, model, adversary, STEPS_PER_EPOCH)
    batch = random_batch()
    population = jax.tree.map(lambda a, b: jnp.stack([a, b]), state, other)
    together, metrics = jax.jit(jax.vmap(train_step, in_axes=(0, None)))(population, batch)
    for i, single in enumerate((state, other)):
        alone, alone_metrics = jax.jit(train_step)(single, batch)
        np.testing.assert_allclose(metrics["loss"][i], alone_metrics["loss"], rtol=1e-5)
        for a, b in zip(jax.tree.leaves(together.params), jax.tree.leaves(alone.params)):
            np.testing.assert_allclose(np.asarray(a[i]), np.asarray(b), rtol=1e-4, atol=1e-6)
    assert float(metrics["lambda"][1]) == 3.0


def test_to_unit_range():
    config = tiny_config("vae", "")
    np.testing.assert_allclose(steps.to_unit_range(config, jnp.array([0.0])), [0.5])
    config = tiny_config("wae_mmd", "", value_range="symmetric")
    np.testing.assert_allclose(steps.to_unit_range(config, jnp.array([-1.0, 0.0, 3.0])),
                               [0.0, 0.5, 1.0])
