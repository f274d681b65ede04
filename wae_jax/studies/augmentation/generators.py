"""The class generators of one cell: K models (one per class) trained as one population.

Each member trains on its own class (per-member data), is checked on its class's
validation images every few epochs, and keeps its best parameters (early stopping,
wae_jax.studies.augmentation.early_stopping). Member k is exactly the solo run of
`population.member_config(config, k)` on class k with the same batch order. The
members advance step by step together: by the population step (`AllAtOnce`), or on a
CPU by each member's own solo program in turn (`MemberByMember`), which XLA:CPU runs
faster (population.make_member_update).
"""

from typing import Any, Optional, Sequence

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
    """(model, adversary or None) of the population step, validation and sampling (CPU:
    the matmul conv lowering)."""
    model = models.build_autoencoder(population.model_config(config), image_shape)
    adversary = (models.build_adversary(config.model)
                 if methods.METHODS[config.method].adversary else None)
    return model, adversary


def train(config: ml_collections.ConfigDict, train_images: Sequence[np.ndarray],
          validation_images: Sequence[np.ndarray], *, max_epochs: int, patience: int,
          check_every: int = 1, one_by_one: Optional[bool] = None
          ) -> tuple[Any, TrainState, early_stopping.EarlyStopping]:
    """Trains member k on train_images[k] (float32 [n_k, H, W, C] in [0, 1]) and checks it
    on validation_images[k] after every check_every epochs; a member stops after
    `patience` checks without a better loss, and is no longer trained. Returns (model,
    each member's state when it stopped, their early stopping record, whose best_params
    are the members' selected parameters).

    one_by_one (default: on a CPU) steps the members one after another from the host,
    each with the solo lowering (population.make_member_update says why: 1.7x the
    population step's in-program loop here), skipping those that stopped; otherwise
    the population step runs them (vmapped on accelerators). Validation and sampling
    are vmapped either way.
    """
    image_shape = tuple(train_images[0].shape[1:])
    model, adversary = build(config, image_shape)
    create = jax.jit(lambda key: create_train_state(config, model, adversary, image_shape, key))
    sizes = [len(x) for x in train_images]
    batch_size = min(config.batch_size, min(sizes))
    epoch_steps = member_batches.steps_per_epoch(sizes, batch_size)
    epoch_length = max(epoch_steps)
    last_steps = [max_epochs * epoch_length] * len(sizes)
    data = jnp.asarray(member_batches.pad_members(train_images)[0])
    data_seeds = [population.data_seed(m) for m in population.member_configs(config)]
    indices = member_batches.population_indices(sizes, batch_size, last_steps[0], data_seeds)
    if jax.default_backend() == "cpu" if one_by_one is None else one_by_one:
        solo_model = models.build_autoencoder(config.model, image_shape)
        members = MemberByMember(config, solo_model, adversary, epoch_steps, last_steps, data)
    else:
        members = AllAtOnce(config, model, adversary, epoch_steps, last_steps, data)
    state = members.start(population.initial_member_states(config, create))
    validate = make_validation_fn(config, model, adversary)
    val_data, val_mask = map(jnp.asarray, member_batches.pad_members(validation_images))
    stopping = early_stopping.start(members.stacked(state).params)
    everyone = jnp.ones(len(sizes), bool)
    for epoch in range(1, max_epochs + 1):
        enabled = np.asarray(~stopping.stopped)
        for t in range((epoch - 1) * epoch_length, epoch * epoch_length):
            state = members.advance(state, indices[t], enabled)
        if epoch % check_every:
            continue
        stacked = members.stacked(state)
        loss = validate(stacked, val_data, val_mask)
        stopping = early_stopping.update(stopping, stacked.params, loss, everyone, patience)
        if bool(stopping.stopped.all()):
            break
    return model, members.stacked(state), stopping


class AllAtOnce:
    """The members as one population state, advanced by the population step."""

    def __init__(self, config, model, adversary, epoch_steps, last_steps, data):
        step = population.make_population_step(config, model, adversary, epoch_steps,
                                               last_steps, per_member_data=True,
                                               vectorize=population.vectorize(config))
        self._step = jax.jit(lambda state, indices, enabled: step(
            state, {"image": member_batches.gather(data, indices)}, enabled)[0])

    def start(self, states: list[TrainState]) -> population.PopulationState:
        return population.stack(states)

    def advance(self, state, indices: np.ndarray, enabled: np.ndarray):
        """One step of every enabled member; indices [K, B] into each member's data."""
        return self._step(state, jnp.asarray(indices), jnp.asarray(enabled))

    def stacked(self, state) -> TrainState:
        return state.members


class MemberByMember:
    """The members as K solo states, each advanced by its own update from the host
    (population.make_member_update), the stopped ones skipped."""

    def __init__(self, config, model, adversary, epoch_steps, last_steps, data):
        self._update = population.make_member_update(config, model, adversary)
        self._batch = jax.jit(lambda k, indices: {
            "image": member_batches.gather(data[k][None], indices[None])[0]})
        self._epoch_steps, self._last_steps = epoch_steps, last_steps

    def start(self, states: list[TrainState]) -> list[tuple[TrainState, jax.Array]]:
        """Each state copied: its update donates every leaf, and a solo state may hold
        one array in two leaves (the learning rate, in hparams and the optimizer)."""
        return [(jax.tree.map(jnp.copy, state), jnp.zeros((), jnp.int32)) for state in states]

    def advance(self, state, indices: np.ndarray, enabled: np.ndarray):
        state = list(state)
        for k in np.flatnonzero(enabled):
            state[k] = self._update(*state[k], self._batch(k, indices[k]),
                                    self._epoch_steps[k], self._last_steps[k])
        return state

    def stacked(self, state) -> TrainState:
        return population.stack([member for member, _ in state]).members


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
