"""The train state: one pytree with everything a step reads and writes.

Per-model hyper-parameters (learning rates, lambda and its growth) are arrays in
the state rather than Python constants in the step, so that a population of
models of one architecture can be trained at once by `jax.vmap` over stacked
states with one compiled step, and so that a checkpoint records them.
"""

from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import ml_collections
import optax

from wae_jax.training import methods
from wae_jax.training.random_streams import stream_key

Params = Any


class TrainState(flax.struct.PyTreeNode):
    step: jax.Array  # int32 scalar: updates done so far
    params: Params  # auto-encoder parameters
    batch_stats: Params  # batch-norm running statistics ({} for nets without batch norm)
    opt_state: optax.OptState  # auto-encoder Adam state, learning rate injected
    adversary_params: Params  # WAE-GAN latent adversary ({} for other methods)
    adversary_opt_state: optax.OptState  # its own Adam state (EmptyState for other methods)
    hparams: dict[str, jax.Array]  # per-model float32 values, see HPARAMS
    rng: jax.Array  # root key PRNGKey(seed) (raw uint32[2]) of the named random_streams


# Config fields copied into TrainState.hparams (the per-model hyper-parameters):
# float32 scalars, and kernel_scales float32 [num_scales].
HPARAMS = ("learning_rate", "adversary_learning_rate", "lambda_", "lambda_growth",
           "prior_std", "kernel_scales", "input_noise_std")


def hparams_of(config: ml_collections.ConfigDict) -> dict[str, jax.Array]:
    return {name: jnp.asarray(config[name], jnp.float32) for name in HPARAMS}


OPTIMIZERS = ("adam", "rmsprop")


def make_optimizer(config: ml_collections.ConfigDict,
                   learning_rate: float) -> optax.GradientTransformation:
    """Adam (or RMSprop) with its learning rate held in the optimizer state.

    inject_hyperparams stores it as an array, so the step can set the scheduled
    learning rate per model and the optimizer object itself stays shape-only.
    RMSprop has Keras' defaults (rho 0.9, epsilon 1e-7): the augmentation paper's VAE.
    """
    if config.optimizer == "rmsprop":
        return optax.inject_hyperparams(optax.rmsprop)(learning_rate=learning_rate,
                                                       decay=0.9, eps=1e-7)
    return optax.inject_hyperparams(optax.adam)(
        learning_rate=learning_rate, b1=config.adam_b1, b2=config.adam_b2)


def set_learning_rate(opt_state: optax.OptState, learning_rate: jax.Array) -> optax.OptState:
    return opt_state._replace(
        hyperparams={**opt_state.hyperparams, "learning_rate": learning_rate})


def create_train_state(config: ml_collections.ConfigDict, model: nn.Module,
                       adversary: nn.Module | None, image_shape: tuple[int, int, int],
                       rng: jax.Array) -> TrainState:
    """Initial parameters and optimizer states; pure, so it can be jitted with shardings.

    `rng` = PRNGKey(seed) is kept as the state's root key; each use derives its own stream.
    """
    x = jnp.zeros((2, *image_shape), jnp.float32)
    variables = model.init({"params": stream_key(rng, "params"),
                            "noise": stream_key(rng, "init_noise")}, x, train=False)
    params = variables["params"]
    adversary_params, adversary_opt_state = {}, optax.EmptyState()
    if methods.METHODS[config.method].adversary:
        adversary_params = adversary.init(stream_key(rng, "adversary_params"),
                                          jnp.zeros((2, config.latent_dim)))
        adversary_params = adversary_params["params"]
        adversary_opt_state = make_optimizer(
            config, config.adversary_learning_rate).init(adversary_params)
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        batch_stats=variables.get("batch_stats", {}),
        opt_state=make_optimizer(config, config.learning_rate).init(params),
        adversary_params=adversary_params,
        adversary_opt_state=adversary_opt_state,
        hparams=hparams_of(config),
        rng=rng)


def abstract_train_state(config: ml_collections.ConfigDict, model: nn.Module,
                         adversary: nn.Module | None, image_shape: tuple[int, int, int],
                         sharding: jax.sharding.Sharding) -> TrainState:
    """The TrainState's structure as ShapeDtypeStructs with `sharding`: what a checkpoint
    is checked against and restored into, computed without allocating anything."""
    shapes = jax.eval_shape(lambda key: create_train_state(config, model, adversary,
                                                           image_shape, key),
                            jax.random.PRNGKey(config.seed))
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding),
                        shapes)
