"""The pure train step: Adam at the scheduled rate, per-method pieces, vmap over a population."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from wae_jax.training import methods, steps
from tests.training.tiny import create_state, random_batch, setup_model, tiny_config

STEPS_PER_EPOCH = 2


@pytest.mark.parametrize("method, keys", [
    ("vae", {"kl"}), ("wae_gan", {"adversary", "adversary_loss", "adversary_grad_norm"})])
def test_update_is_adam_on_the_method_loss(method, keys):
    """New params = optax.adam applied to jax.grad of the method's loss (independent path)."""
    config, model, adversary, state = setup_model(method, lr_decay_epochs=(1,),
                                             lr_decay_factors=(4.0,))
    state = state.replace(step=jnp.int32(STEPS_PER_EPOCH))  # past the decay boundary
    batch = random_batch()
    train_step = jax.jit(steps.make_train_step(config, model, adversary, STEPS_PER_EPOCH))
    new_state, metrics = train_step(state, batch)
    assert keys | {"loss", "reconstruction", "penalty", "grad_norm"} <= set(metrics)
    lr = config.learning_rate / 4.0
    assert float(metrics["learning_rate"]) == pytest.approx(lr)

    step_rng = jax.random.fold_in(steps.stream_key(state.rng, steps.TRAIN_STREAM), state.step)
    ae_rng, _ = jax.random.split(step_rng)
    loss_fn = functools.partial(methods.autoencoder_loss, config, model, adversary)
    grads, _ = jax.jit(jax.grad(loss_fn, has_aux=True), static_argnums=6)(
        state.params, state.batch_stats, state.adversary_params, batch["image"], ae_rng,
        jnp.float32(config.lambda_), True)
    reference = optax.adam(lr, b1=config.adam_b1, b2=config.adam_b2)
    updates, _ = reference.update(grads, reference.init(state.params), state.params)
    expected = optax.apply_updates(state.params, updates)
    for a, b in zip(jax.tree.leaves(new_state.params), jax.tree.leaves(expected)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=1e-7)
    assert int(new_state.step) == STEPS_PER_EPOCH + 1
    if method == "wae_gan":
        changed = [not np.array_equal(a, b) for a, b in zip(
            jax.tree.leaves(new_state.adversary_params), jax.tree.leaves(state.adversary_params))]
        assert all(changed)
    else:
        assert new_state.adversary_params == {}


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
