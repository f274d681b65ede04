"""Pure updates and evaluation functions, and their compilation over a ('data',) mesh.

`make_train_step` returns `train_step(state, batch) -> (state, metrics)`: no side
effects, randomness from `fold_in(stream_key(state.rng, "train"), state.step)`, so a
step is a function of the state and the batch alone (resumption is exact, and
`jax.vmap` over a stacked population of states works). `compile_train_step` jits it
with explicit NamedShardings: the batch split over the 'data' axis, the state
replicated, the input state donated.
"""

import functools
from typing import Any, Callable, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from wae_jax.training import methods, schedules
from wae_jax.training.random_streams import stream_key
from wae_jax.training.state import TrainState, make_optimizer, set_learning_rate

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]
TrainStep = Callable[[TrainState, Batch], tuple[TrainState, Metrics]]


def _adam_update(config, grads, opt_state, params, learning_rate):
    """One Adam step at the given (scheduled, per-model) learning rate."""
    tx = make_optimizer(config, 0.0)  # The rate lives in opt_state; 0.0 is never used.
    updates, opt_state = tx.update(grads, set_learning_rate(opt_state, learning_rate), params)
    return optax.apply_updates(params, updates), opt_state


def _adversary_update(config, adversary, state, z_q, rng, lambda_, learning_rate):
    """WAE-GAN's adversary step on the codes of this step's auto-encoder pass.

    The codes come from the encoder before its update (the official code re-encodes
    after it): one forward pass fewer, and the adversary still sees every batch once.
    """
    (_, aux), grads = jax.value_and_grad(methods.adversary_loss, argnums=2, has_aux=True)(
        config, adversary, state.adversary_params, z_q, rng, state.hparams, lambda_)
    params, opt_state = _adam_update(config, grads, state.adversary_opt_state,
                                     state.adversary_params, learning_rate)
    return params, opt_state, {"adversary_loss": aux["loss"],
                               "adversary_grad_norm": optax.tree.norm(grads)}


def make_train_step(config: ml_collections.ConfigDict, model: nn.Module,
                    adversary: Optional[nn.Module],
                    steps_per_epoch: schedules.StepsPerEpoch) -> TrainStep:
    """One auto-encoder update, then (WAE-GAN) one adversary update on the same codes.

    steps_per_epoch (the schedules' epoch length) may be traced: a population with
    per-member data vmaps the step over each member's own value.
    """
    method = methods.METHODS[config.method]
    lr_multiplier = schedules.learning_rate_multiplier(
        config.lr_decay_epochs, config.lr_decay_factors, steps_per_epoch)
    loss_fn = functools.partial(methods.autoencoder_loss, config, model, adversary)

    def train_step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        step_rng = jax.random.fold_in(stream_key(state.rng, "train"), state.step)
        ae_rng, adversary_rng = jax.random.split(step_rng)
        lambda_ = schedules.penalty_weight(state.hparams["lambda_"],
                                           state.hparams["lambda_growth"], state.step,
                                           steps_per_epoch)
        multiplier = lr_multiplier(state.step)
        learning_rate = state.hparams["learning_rate"] * multiplier
        (_, (aux, fwd, batch_stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params, state.batch_stats, state.adversary_params, batch["image"], ae_rng,
            state.hparams, lambda_, True)
        params, opt_state = _adam_update(config, grads, state.opt_state, state.params,
                                         learning_rate)
        metrics = {**aux, "grad_norm": optax.tree.norm(grads), "learning_rate": learning_rate,
                   "lambda": lambda_}
        adversary_params, adversary_opt_state = state.adversary_params, state.adversary_opt_state
        if method.adversary:
            adversary_params, adversary_opt_state, adversary_metrics = _adversary_update(
                config, adversary, state, fwd.z, adversary_rng, lambda_,
                state.hparams["adversary_learning_rate"] * multiplier)
            metrics.update(adversary_metrics)
        new_state = state.replace(step=state.step + 1, params=params, batch_stats=batch_stats,
                                  opt_state=opt_state, adversary_params=adversary_params,
                                  adversary_opt_state=adversary_opt_state)
        return new_state, metrics

    return train_step


def make_eval_step(config: ml_collections.ConfigDict, model: nn.Module,
                   adversary: Optional[nn.Module], steps_per_epoch: int
                   ) -> Callable[[TrainState, jax.Array], Metrics]:
    """The training objective on held-out images, in inference mode (running BN stats)."""
    def eval_step(state: TrainState, images: jax.Array) -> Metrics:
        lambda_ = schedules.penalty_weight(state.hparams["lambda_"],
                                           state.hparams["lambda_growth"], state.step,
                                           steps_per_epoch)
        rng = stream_key(state.rng, "eval")  # fixed: eval noise is the same every time
        _, (aux, _, _) = methods.autoencoder_loss(
            config, model, adversary, state.params, state.batch_stats, state.adversary_params,
            images, rng, state.hparams, lambda_, False)
        return aux
    return eval_step


def to_unit_range(config: ml_collections.ConfigDict, x_hat: jax.Array) -> jax.Array:
    """Decoder output -> displayable [0, 1] images (logits under the Bernoulli cost)."""
    images = jax.nn.sigmoid(x_hat) if config.cost == "bernoulli" else x_hat
    if config.value_range == "symmetric":
        images = (images + 1.0) / 2.0
    return jnp.clip(images, 0.0, 1.0)


def make_figure_fns(config: ml_collections.ConfigDict, model: nn.Module
                    ) -> dict[str, Callable[..., jax.Array]]:
    """Inference-mode encode (codes), decode (images in [0, 1]) and reconstruct."""
    def variables(state):
        return {"params": state.params, "batch_stats": state.batch_stats}

    def encode(state: TrainState, images: jax.Array) -> jax.Array:
        mean, _ = model.apply(variables(state), images, False, method=model.encode,
                              rngs={"noise": stream_key(state.rng, "figure_codes")})
        return mean

    def decode(state: TrainState, z: jax.Array) -> jax.Array:
        return to_unit_range(config, model.apply(variables(state), z, False,
                                                 method=model.decode))

    def reconstruct(state: TrainState, images: jax.Array) -> jax.Array:
        return decode(state, encode(state, images))

    return {"encode": encode, "decode": decode, "reconstruct": reconstruct}


def make_mesh(devices: Optional[Sequence[jax.Device]] = None) -> Mesh:
    """All devices of all processes (or the given ones) on one 'data' axis (pure data
    parallelism).

    The axis is Auto (sharding propagated by XLA), not Explicit (jax.make_mesh's
    default), so model code needs no sharding annotations on its reshapes.
    """
    devices = jax.devices() if devices is None else list(devices)
    return jax.make_mesh((len(devices),), ("data",), devices=devices,
                         axis_types=(jax.sharding.AxisType.Auto,))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def data_sharded(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P("data"))


def compile_train_step(train_step: TrainStep, mesh: Mesh) -> TrainStep:
    """jit with the batch split over 'data', the state replicated and donated.

    Gradients of a loss over a data-sharded batch are all-reduced by XLA's SPMD
    partitioner; batch norm sees the global batch, as on one device.
    """
    return jax.jit(train_step,
                   in_shardings=(replicated(mesh), data_sharded(mesh)),
                   out_shardings=(replicated(mesh), replicated(mesh)),
                   donate_argnums=(0,))


def compile_replicated(fn: Callable[..., Any], mesh: Mesh) -> Callable[..., Any]:
    """jit for evaluation and figures: small replicated inputs and outputs, nothing donated."""
    return jax.jit(fn, out_shardings=replicated(mesh))
