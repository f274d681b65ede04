"""The ten class generators trained as one population equal ten solo trainings."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import augment_mnist
from wae_jax import models
from wae_jax.studies.augmentation import generators, member_batches, per_class
from wae_jax.training import population, steps
from wae_jax.training.state import create_train_state
from tests.fast_compilation import jit as fast_jit

MAX_EPOCHS, CHECK_EVERY, PATIENCE = 6, 2, 2


def class_images(seed: int):
    """Ten classes of 4 training and 1-2 validation images of different brightness."""
    rng = np.random.default_rng(seed)
    train = [rng.random((4, 28, 28, 1), dtype=np.float32) * (0.2 + 0.08 * c)
             for c in range(10)]
    validation = [rng.random((1 + (c % 2), 28, 28, 1), dtype=np.float32) for c in range(10)]
    return train, validation


def make_solo_training(member_config, batch_size, epoch_steps):
    """A solo member's training: steps.make_train_step on its class alone, the
    population's batch order, its own early stopping in plain Python. Compiled once:
    members differ only in their seed, which lives in the state."""
    model = models.build_autoencoder(member_config.model, (28, 28, 1))
    create = fast_jit(lambda key: create_train_state(member_config, model, None, (28, 28, 1), key))
    step = fast_jit(steps.make_train_step(member_config, model, None, epoch_steps))
    eval_step = fast_jit(steps.make_eval_step(member_config, model, None, 1))

    def train(seed, data_seed, train_images, validation_images):
        state = create(jax.random.PRNGKey(seed))
        indices = member_batches.member_indices(len(train_images), batch_size,
                                                MAX_EPOCHS * epoch_steps, data_seed)
        best, best_params, best_check, waited = np.inf, None, 0, 0
        for check in range(1, MAX_EPOCHS // CHECK_EVERY + 1):
            for t in range((check - 1) * CHECK_EVERY * epoch_steps,
                           check * CHECK_EVERY * epoch_steps):
                state, _ = step(state, {"image": jnp.asarray(train_images[indices[t]])})
            loss = np.mean([float(eval_step(state, jnp.asarray(image[None]))["loss"])
                            for image in validation_images])
            if loss < best:
                best, best_params, best_check, waited = loss, state.params, check, 0
            else:
                waited += 1
                if waited >= PATIENCE:
                    break
        return best_params, best_check

    return train


@pytest.mark.parametrize("one_by_one", [True, False])  # host loop (CPU default), population step
@pytest.mark.parametrize("generator", ["vae"])
def test_population_of_class_generators_equals_solo_trainings(generator, one_by_one):
    config = augment_mnist.get_config("tiny")
    gen = per_class.generator_config(config, generator, latent_dim=2, seed=3)
    train, validation = class_images(0)
    _, _, stopping = generators.train(gen, train, validation, max_epochs=MAX_EPOCHS,
                                      patience=PATIENCE, check_every=CHECK_EVERY,
                                      one_by_one=one_by_one)
    batch_size = min(gen.batch_size, min(len(x) for x in train))
    assert {len(x) // batch_size for x in train} == {1}  # one epoch length for all
    solo = make_solo_training(population.member_config(gen, 0), batch_size, 1)
    for k in range(10):
        member = population.member_config(gen, k)
        assert tuple(member.train_classes) == (k,)  # a solo run of class k alone
        params, epoch = solo(member.seed, population.data_seed(member), train[k],
                             validation[k])
        assert int(stopping.best_epoch[k]) == epoch
        jax.tree.map(lambda pop, solo: np.testing.assert_allclose(
            pop[k], solo, rtol=2e-3, atol=2e-5), stopping.best_params, params)
