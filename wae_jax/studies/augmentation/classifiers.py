"""The paper's CNN trained on one or more training sets at once (a population of K >= 1).

Member k trains on its own training set (real, or real + generated), optionally with
conventional augmentation drawn anew for every batch, and is early-stopped on the
shared real validation set after each of its own epochs (Keras' fit with
EarlyStopping(patience=10, restore_best_weights=True)). Adam with Keras' defaults
(1e-3, epsilon 1e-7); dropout 0.5. A member that is done stops changing, but the
population keeps computing it until the longest member ends, and on a CPU its vmapped
convolutions are slower than solo ones: both studies train their CNNs one at a time
(K = 1; benchmarks/augment_cell.py measured the per-class population 0.69x as fast,
benchmarks/classifier_step.py the W2 protocol's). Nothing here sees test images:
`predict` runs after the selection is done.
"""

from typing import Any, Sequence

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from wae_jax.data.affine_augmentation import random_affine
from wae_jax.models.classifier import Classifier
from wae_jax.studies.augmentation import early_stopping, member_batches
from wae_jax.training import population, validation

Arrays = tuple[np.ndarray, np.ndarray]


def _four_widths(value: Any) -> str | None:
    problem = validation.sequence_of(validation.integer(1))(value)
    return problem or (None if len(value) == 4 else "use four conv widths")


# config.classifier of both studies (configs/augment_*.py: classifier_config).
SETTINGS_FIELDS: dict[str, validation.Check] = {
    "num_classes": validation.integer(2),
    "widths": _four_widths,
    "hidden": validation.integer(1),
    "dropout_rate": validation.unit_interval,
    "learning_rate": validation.number(0.0, strict=True),
    "padding": validation.one_of(("SAME", "VALID")),
    "batch_size": validation.integer(1),
    "min_steps_per_epoch": validation.integer(1),
    "generated_per_epoch": validation.integer(0),
    "max_epochs": validation.integer(1),
    "patience": validation.integer(1),  # 0 would stop every member at its first check
    "max_rotation_degrees": validation.number(0.0, strict=False),
    "max_shift_fraction": validation.unit_interval,
    "data_seed": validation.integer(0),
}


def check_settings(settings: ml_collections.ConfigDict) -> None:
    """Raises validation.ConfigError naming config.classifier's first bad or unknown field."""
    validation.check_fields(settings, SETTINGS_FIELDS, prefix="classifier.")


class ClassifierState(flax.struct.PyTreeNode):
    step: jax.Array
    params: Any
    opt_state: optax.OptState
    rng: jax.Array


def build(settings: ml_collections.ConfigDict, num_members: int) -> Classifier:
    """The CNN; a population on a CPU uses the matmul lowering (no grouped convs under vmap)."""
    lowering = "matmul" if num_members > 1 and jax.default_backend() == "cpu" else "auto"
    return Classifier(settings.num_classes, settings.dropout_rate, lowering,
                      tuple(settings.widths), settings.hidden, settings.padding)


def _optimizer(settings: ml_collections.ConfigDict) -> optax.GradientTransformation:
    return optax.adam(settings.learning_rate, eps=1e-7)


def init_state(settings, model: nn.Module, image_shape, seed: jax.Array) -> ClassifierState:
    """A member's initial state from its seed (pure: vmapped over the members' seeds)."""
    rng = jax.random.PRNGKey(seed)
    params = model.init(jax.random.fold_in(rng, 0), jnp.zeros((1, *image_shape)),
                        train=False)["params"]
    return ClassifierState(jnp.zeros((), jnp.int32), params,
                           _optimizer(settings).init(params), rng)


def make_train_step(settings: ml_collections.ConfigDict, model: nn.Module):
    """(state, images, labels, augment) -> state: one Adam step, a solo model's."""
    def loss_fn(params, images, labels, dropout_rng):
        logits = model.apply({"params": params}, images, train=True,
                             rngs={"dropout": dropout_rng})
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    def train_step(state: ClassifierState, images, labels, augment) -> ClassifierState:
        step_rng = jax.random.fold_in(jax.random.fold_in(state.rng, 1), state.step)
        augment_rng, dropout_rng = jax.random.split(step_rng)
        warped = random_affine(augment_rng, images, settings.max_rotation_degrees,
                               settings.max_shift_fraction)
        images = jnp.where(augment, warped, images)
        grads = jax.grad(loss_fn)(state.params, images, labels, dropout_rng)
        updates, opt_state = _optimizer(settings).update(grads, state.opt_state, state.params)
        return state.replace(step=state.step + 1, params=optax.apply_updates(state.params,
                                                                            updates),
                             opt_state=opt_state)
    return train_step


def make_loss_fn(model: nn.Module):
    """(params, images, labels) -> mean cross-entropy in inference mode (no dropout)."""
    def loss(params, images, labels):
        logits = model.apply({"params": params}, images, train=False)
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return loss


def _batch_schedule(settings: ml_collections.ConfigDict, train_sets: Sequence[Arrays],
                    generated: Sequence[Arrays | None], data_seeds: Sequence[int]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Each member's epoch length in steps, and the rows of its batches for up to
    max_epochs of the longest epoch (pages of generated images after the real ones)."""
    sizes = [len(x) for x, _ in train_sets]
    pools = [0 if g is None else len(g[0]) for g in generated]
    pages = [min(settings.generated_per_epoch, pool) for pool in pools]
    batch_size = min(settings.batch_size, min(sizes))
    epoch_steps = np.array(member_batches.steps_per_epoch(
        [n + page for n, page in zip(sizes, pages)], batch_size, settings.min_steps_per_epoch))
    indices = member_batches.population_indices(
        sizes, batch_size, settings.max_epochs * int(epoch_steps.max()), data_seeds,
        pools=pools, pages=pages, min_steps=settings.min_steps_per_epoch)
    return epoch_steps, indices


def _member_arrays(train_sets: Sequence[Arrays], generated: Sequence[Arrays | None]
                   ) -> tuple[jax.Array, jax.Array]:
    """Images and labels [members, rows, ...]: each member's real images, then its pool of
    generated ones, padded to the longest member."""
    with_pools = [(x, y) if g is None else (np.concatenate([x, g[0]]), np.concatenate([y, g[1]]))
                  for (x, y), g in zip(train_sets, generated)]
    images, _ = member_batches.pad_members([x for x, _ in with_pools])
    labels, _ = member_batches.pad_members([y for _, y in with_pools])
    return jnp.asarray(images), jnp.asarray(labels)


def train(settings: ml_collections.ConfigDict, train_sets: Sequence[Arrays],
          augment: Sequence[bool], validation: Arrays, seeds: Sequence[int],
          generated: Sequence[Arrays | None] = (), data_seeds: Sequence[int] = ()
          ) -> tuple[Classifier, early_stopping.EarlyStopping, Any]:
    """Member k trains on train_sets[k] (float32 images [n, H, W, C] in [0, 1], int labels),
    plus, if generated[k] is given, a fresh page of settings.generated_per_epoch of its
    generated images each epoch; conventional augmentation if augment[k]; from seed
    seeds[k], its batches drawn from data_seeds[k] (default settings.data_seed * 1000 + k).
    A member stops after `patience` epochs without a better validation loss or
    after max_epochs of its own epochs, whatever the others' lengths. Returns the model,
    the early-stopping record (best_params: the restored best epoch of each member) and
    each member's parameters when it stopped (for fixed-length training: patience =
    max_epochs)."""
    num = len(train_sets)
    generated = list(generated) or [None] * num
    image_shape = train_sets[0][0].shape[1:]
    model = build(settings, num)
    state = jax.jit(jax.vmap(lambda seed: init_state(settings, model, image_shape, seed)))(
        jnp.asarray(seeds))
    epoch_steps, indices = _batch_schedule(
        settings, train_sets, generated,
        list(data_seeds) or [settings.data_seed * 1000 + k for k in range(num)])
    step = jax.vmap(make_train_step(settings, model))
    loss = jax.jit(jax.vmap(make_loss_fn(model), in_axes=(0, None, None)))
    images, labels = _member_arrays(train_sets, generated)
    flags = jnp.asarray(augment)
    val_images, val_labels = map(jnp.asarray, validation)

    @jax.jit  # the data are arguments: closed over, they would be constants in the program
    def train_step(state, images, labels, flags, indices, training):
        batch_images = member_batches.gather(images, indices)
        batch_labels = member_batches.gather(labels, indices)
        return population.where_members(
            training, step(state, batch_images, batch_labels, flags), state)

    stopping = early_stopping.start(state.params)
    training = jnp.ones(num, bool)  # a member that is done no longer changes
    for t in range(len(indices)):
        state = train_step(state, images, labels, flags, jnp.asarray(indices[t]), training)
        epoch_ends = (t + 1) % epoch_steps == 0
        if not epoch_ends.any():
            continue
        stopping = early_stopping.update(stopping, state.params,
                                         loss(state.params, val_images, val_labels),
                                         jnp.asarray(epoch_ends), settings.patience)
        done = np.asarray(stopping.stopped) | (np.asarray(stopping.checks) >= settings.max_epochs)
        training = jnp.asarray(~done)
        if done.all():
            break
    return model, stopping, state.params


def predict(model: nn.Module, params: Any, images: np.ndarray, batch_size: int = 1000
            ) -> np.ndarray:
    """int [K, N]: each member's predicted classes, in inference mode."""
    apply = jax.jit(jax.vmap(lambda p, x: jnp.argmax(model.apply({"params": p}, x,
                                                                  train=False), -1),
                             in_axes=(0, None)))
    return np.concatenate([np.asarray(apply(params, jnp.asarray(images[i:i + batch_size])))
                           for i in range(0, len(images), batch_size)], axis=1)
