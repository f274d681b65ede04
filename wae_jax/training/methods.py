"""The four methods as objectives on one auto-encoder pass, and the registry of them.

VAE, W2-VAE, WAE-MMD and WAE-GAN share the network, the forward pass and the
trainer; they differ only in the penalty on the codes (wae_jax.losses) and in
whether a latent adversary is trained. That difference is all this module holds:
`METHODS[config.method]` tells the one trainer what to do.
"""

import dataclasses
from typing import Any, Callable, Mapping, NamedTuple, Optional, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from wae_jax import losses

Params = Any
Aux = dict[str, jax.Array]
HParams = Mapping[str, jax.Array]  # TrainState.hparams: the per-model hyper-parameters
NoiseStd = Union[float, jax.Array]
Critic = Callable[[jax.Array], jax.Array]  # z [B, d] -> adversary logits [B]


class Forward(NamedTuple):
    """One encode-sample-decode pass."""
    mean: jax.Array  # encoder mean (the code itself for deterministic/noise encoders)
    logvar: Optional[jax.Array]  # None unless the encoder is Gaussian
    z: jax.Array  # the code the decoder saw
    x_hat: jax.Array  # decoder output after its output activation


def _encode(module: nn.Module, x: jax.Array, eps: jax.Array,
            train: bool) -> tuple[jax.Array, Optional[jax.Array], jax.Array]:
    mean, logvar = module.encode(x, train)
    z = mean if logvar is None else mean + jnp.exp(0.5 * logvar) * eps
    return mean, logvar, z


def _encode_decode(module: nn.Module, x: jax.Array, eps: jax.Array, train: bool) -> Forward:
    mean, logvar, z = _encode(module, x, eps, train)
    return Forward(mean, logvar, z, module.decode(z, train))


def _apply(fn: Callable[..., Any], model: nn.Module, params: Params, batch_stats: Params,
           x: jax.Array, rng: jax.Array, train: bool, input_noise_std: NoiseStd
           ) -> tuple[Any, Params]:
    """Runs `fn(module, x, eps, train)` with the randomness of one pass; returns new BN stats.

    In training the inputs get the WAE paper's truncated Gaussian noise (cut at two
    standard deviations, like tf.truncated_normal) and a Gaussian encoder is sampled
    by reparameterisation; in evaluation the code is the mean, so evaluation is
    deterministic. A Python 0 for `input_noise_std` leaves the noise out of the
    program; an array (per member of a population) is always applied.
    """
    eps_rng, noise_rng, input_rng = jax.random.split(rng, 3)
    if train and (isinstance(input_noise_std, jax.Array) or input_noise_std > 0):
        x = x + input_noise_std * jax.random.truncated_normal(input_rng, -2.0, 2.0, x.shape)
    latent_dim = model.head.latent_dim
    eps = (jax.random.normal(eps_rng, (x.shape[0], latent_dim)) if train
           else jnp.zeros((x.shape[0], latent_dim)))
    variables = {"params": params, "batch_stats": batch_stats}
    out, mutated = model.apply(variables, x, eps, train, method=fn,
                               rngs={"noise": noise_rng}, mutable=["batch_stats"])
    return out, (mutated.get("batch_stats", batch_stats) if train else batch_stats)


def autoencode(model: nn.Module, params: Params, batch_stats: Params, x: jax.Array,
               rng: jax.Array, train: bool, input_noise_std: NoiseStd = 0.0
               ) -> tuple[Forward, Params]:
    """Encode, sample, decode: the pass and the updated batch-norm statistics."""
    return _apply(_encode_decode, model, params, batch_stats, x, rng, train, input_noise_std)


def encode(model: nn.Module, params: Params, batch_stats: Params, x: jax.Array,
           rng: jax.Array, train: bool, input_noise_std: NoiseStd = 0.0
           ) -> tuple[jax.Array, Params]:
    """The codes z (sampled as in `autoencode`) without decoding, and the new BN stats."""
    (_, _, z), stats = _apply(_encode, model, params, batch_stats, x, rng, train,
                              input_noise_std)
    return z, stats


def sample_prior(rng: jax.Array, num: int, latent_dim: int,
                 prior_std: Union[float, jax.Array]) -> jax.Array:
    return prior_std * jax.random.normal(rng, (num, latent_dim))


def make_critic(adversary: nn.Module, adversary_params: Params,
                config: ml_collections.ConfigDict, prior_std: Union[float, jax.Array]
                ) -> Critic:
    """z -> adversary logits, plus log p_z(z) when the log-prior trick is on."""
    def critic(z: jax.Array) -> jax.Array:
        logits = adversary.apply({"params": adversary_params}, z)
        if config.log_prior_trick:
            logits = losses.add_log_prior(logits, z, prior_std)
        return logits
    return critic


def _vae(config, hparams, x, fwd, lambda_, rng, critic):
    del hparams, rng, critic
    return losses.vae(x, fwd.x_hat, fwd.mean, fwd.logvar, cost=config.cost,
                      recon_scale=config.recon_scale, lambda_=lambda_)


def _w2vae(config, hparams, x, fwd, lambda_, rng, critic):
    del hparams, rng, critic
    return losses.w2vae(x, fwd.x_hat, fwd.mean, fwd.logvar, cost=config.cost,
                        recon_scale=config.recon_scale, lambda_=lambda_)


def _wae_mmd(config, hparams, x, fwd, lambda_, rng, critic):
    del critic
    z_p = sample_prior(rng, fwd.z.shape[0], fwd.z.shape[1], hparams["prior_std"])
    return losses.wae_mmd(x, fwd.x_hat, fwd.z, z_p, cost=config.cost,
                          recon_scale=config.recon_scale, lambda_=lambda_,
                          kernel=config.kernel, scales=hparams["kernel_scales"],
                          prior_std=hparams["prior_std"])


def _wae_gan(config, hparams, x, fwd, lambda_, rng, critic):
    del hparams, rng
    return losses.wae_gan(x, fwd.x_hat, critic(fwd.z), cost=config.cost,
                          recon_scale=config.recon_scale, lambda_=lambda_)


Objective = Callable[[ml_collections.ConfigDict, HParams, jax.Array, Forward, jax.Array,
                      jax.Array, Optional[Critic]], tuple[jax.Array, Aux]]


@dataclasses.dataclass(frozen=True)
class Method:
    """What the trainer needs to know about a method."""
    objective: Objective  # (config, hparams, x, forward, lambda_, rng, critic) -> (loss, aux)
    gaussian_encoder: bool  # the penalty needs (mean, logvar): VAE and W2-VAE
    adversary: bool  # trains a latent adversary with its own optimizer: WAE-GAN


METHODS: dict[str, Method] = {
    "vae": Method(_vae, gaussian_encoder=True, adversary=False),
    "w2vae": Method(_w2vae, gaussian_encoder=True, adversary=False),
    "wae_mmd": Method(_wae_mmd, gaussian_encoder=False, adversary=False),
    "wae_gan": Method(_wae_gan, gaussian_encoder=False, adversary=True),
}


def has_input_noise(config: ml_collections.ConfigDict) -> bool:
    """Whether any model of the config (any member of a population) noises its inputs."""
    return config.input_noise_std > 0 or any(v > 0 for v in config.population.input_noise_std)


def autoencoder_loss(config: ml_collections.ConfigDict, model: nn.Module,
                     adversary: Optional[nn.Module], params: Params, batch_stats: Params,
                     adversary_params: Params, x: jax.Array, rng: jax.Array,
                     hparams: HParams, lambda_: jax.Array, train: bool
                     ) -> tuple[jax.Array, tuple[Aux, Forward, Params]]:
    """The method's loss for the auto-encoder parameters; aux, the pass and new BN stats."""
    pass_rng, objective_rng = jax.random.split(rng)
    input_noise_std = hparams["input_noise_std"] if has_input_noise(config) else 0.0
    fwd, new_stats = autoencode(model, params, batch_stats, x, pass_rng, train, input_noise_std)
    method = METHODS[config.method]
    critic = (make_critic(adversary, adversary_params, config, hparams["prior_std"])
              if method.adversary else None)
    loss, aux = method.objective(config, hparams, x, fwd, lambda_, objective_rng, critic)
    return loss, (aux, fwd, new_stats)


def adversary_loss(config: ml_collections.ConfigDict, adversary: nn.Module,
                   adversary_params: Params, z_q: jax.Array, rng: jax.Array,
                   hparams: HParams, lambda_: jax.Array) -> tuple[jax.Array, Aux]:
    """WAE-GAN's adversary objective on prior samples vs (constant) encoded codes."""
    z_p = sample_prior(rng, z_q.shape[0], z_q.shape[1], hparams["prior_std"])
    critic = make_critic(adversary, adversary_params, config, hparams["prior_std"])
    return losses.wae_gan_adversary(critic(z_p), critic(jax.lax.stop_gradient(z_q)),
                                    lambda_=lambda_)
