"""The class generators of one cell: K models (one per class) trained as one population.

Each member trains on its own class (per-member data), is checked on its class's
validation images after every epoch, and keeps its best parameters (early
stopping, wae_jax.studies.augmentation.early_stopping). Member k is exactly the solo
run of `population.member_config(config, k)` on class k with the same batch order.
"""

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from wae_jax import losses, models
from wae_jax.training import methods, population, steps
from wae_jax.training.random_streams import stream_key
from wae_jax.training.state import TrainState, create_train_state
from wae_jax.studies.augmentation import early_stopping, member_batches


def make_validation_fn(config: ml_collections.ConfigDict, model, adversary):
    """(members, images [K, L, H, W, C], mask [K, L]) -> mean criterion per member [K].

    The criterion of one validation image: the objective for VAE and W2-VAE (a per-image
    sum); the weighted reconstruction cost for WAE-MMD and WAE-GAN, whose penalty is a
    statistic of a batch of codes, undefined for the one validation image a class of the
    smallest sets has. Inference mode (the code is the encoder mean).
    """
    eval_step = steps.make_eval_step(config, model, adversary, steps_per_epoch=1)
    gaussian = methods.METHODS[config.method].gaussian_encoder

    def per_image(state: TrainState, image: jax.Array) -> jax.Array:
        x = image[None]
        if gaussian:
            return eval_step(state, x)["loss"]
        fwd, _ = methods.autoencode(model, state.params, state.batch_stats, x,
                                    stream_key(state.rng, "eval"), False)
        return config.recon_scale * losses.reconstruction_cost(x, fwd.x_hat, config.cost)[0]

    def per_member(state, images, mask):
        values = jax.vmap(per_image, in_axes=(None, 0))(state, images)
        return jnp.sum(jnp.where(mask, values, 0.0)) / jnp.sum(mask)

    return jax.jit(jax.vmap(per_member))


def build(config: ml_collections.ConfigDict, image_shape: tuple[int, int, int]):
    """(model, adversary or None) of the population (CPU: the matmul conv lowering)."""
    model = models.build_autoencoder(population.model_config(config), image_shape)
    adversary = (models.build_adversary(config.model)
                 if methods.METHODS[config.method].adversary else None)
    return model, adversary


def train(config: ml_collections.ConfigDict, train_images: Sequence[np.ndarray],
          validation_images: Sequence[np.ndarray], *, max_epochs: int, patience: int,
          check_every: int = 1) -> tuple[Any, TrainState, early_stopping.EarlyStopping]:
    """Trains member k on train_images[k] (float32 [n_k, H, W, C] in [0, 1]) and checks it
    on validation_images[k] after every check_every epochs; a member stops after
    `patience` checks without a better loss, and is no longer trained (the loop that
    runs the members on a CPU skips it). Returns (model, each member's state when it
    stopped, their early stopping record, whose best_params are the members' selected
    parameters)."""
    image_shape = tuple(train_images[0].shape[1:])
    model, adversary = build(config, image_shape)
    create = jax.jit(lambda key: create_train_state(config, model, adversary, image_shape, key))
    state = population.stack(population.initial_member_states(config, create))
    sizes = [len(x) for x in train_images]
    batch_size = min(config.batch_size, min(sizes))
    epoch_steps = member_batches.steps_per_epoch(sizes, batch_size)
    epoch_length = max(epoch_steps)
    step = population.make_population_step(config, model, adversary, epoch_steps,
                                           [max_epochs * epoch_length] * len(sizes),
                                           per_member_data=True,
                                           vectorize=population.vectorize(config))

    @jax.jit
    def train_step(state, data, indices, enabled):
        return step(state, {"image": member_batches.gather(data, indices)}, enabled)[0]

    validate = make_validation_fn(config, model, adversary)
    data = jnp.asarray(member_batches.pad_members(train_images)[0])
    val_data, val_mask = map(jnp.asarray, member_batches.pad_members(validation_images))
    data_seeds = [population.data_seed(m) for m in population.member_configs(config)]
    indices = member_batches.population_indices(sizes, batch_size, max_epochs * epoch_length,
                                                data_seeds)
    stopping = early_stopping.start(state.members.params)
    everyone = jnp.ones(len(sizes), bool)
    for epoch in range(1, max_epochs + 1):
        for t in range((epoch - 1) * epoch_length, epoch * epoch_length):
            state = train_step(state, data, jnp.asarray(indices[t]), ~stopping.stopped)
        if epoch % check_every:
            continue
        loss = validate(state.members, val_data, val_mask)
        stopping = early_stopping.update(stopping, state.members.params, loss, everyone,
                                         patience)
        if bool(stopping.stopped.all()):
            break
    return model, state.members, stopping


def sample(config: ml_collections.ConfigDict, model, members: TrainState, params: Any,
           num_per_member: int, seed: int) -> np.ndarray:
    """[K, num, H, W, C] images in [0, 1]: each member's decoded prior samples, z ~
    N(0, prior_std^2 I) (not the U(-1.5, 1.5) of the paper's code)."""
    decode = steps.make_figure_fns(config, model)["decode"]

    def one(state: TrainState, member_params, key):
        z = state.hparams["prior_std"] * jax.random.normal(key, (num_per_member,
                                                                 config.latent_dim))
        return decode(state.replace(params=member_params), z)

    keys = jax.random.split(jax.random.PRNGKey(seed), len(members.step))
    return np.asarray(jax.jit(jax.vmap(one))(members, params, keys))
