"""WAE-GAN's label semantics in one train step: which samples the adversary learns to call
"prior", and that the encoder is pushed the other way (towards what D calls prior)."""

import jax
import jax.numpy as jnp
import numpy as np

from wae_jax import models
from wae_jax.training import steps
from tests.training.random_calls import RandomCalls
from tests.training.tiny import SHAPE, create_state, random_batch, tiny_config

PRIOR_STD = 1.5


def _setup(output_kernel: np.ndarray):
    """A tiny WAE-GAN whose adversary's last layer is `output_kernel` (bias 0), and its step.

    recon_scale 0: only the adversarial term moves the encoder.
    """
    config = tiny_config("wae_gan", "", latent_dim=2, prior_std=PRIOR_STD, recon_scale=0.0,
                         input_noise_std=0.0)
    config.model.arch, config.model.adversary_hidden = "mlp", (8,)
    model = models.build_autoencoder(config.model, SHAPE)
    adversary = models.build_adversary(config.model)
    state = create_state(config, model, adversary, jax.random.PRNGKey(0))
    last = {"kernel": jnp.asarray(output_kernel, jnp.float32), "bias": jnp.zeros(1)}
    state = state.replace(adversary_params={**state.adversary_params, "Dense_1": last})
    train_step = jax.jit(steps.make_train_step(config, model, adversary, 1))

    def codes(params, images):
        return model.apply({"params": params}, images, False, method=model.encode)[0]

    def logits(adversary_params, z):
        return np.asarray(adversary.apply({"params": adversary_params}, z))
    return state, train_step, codes, logits


def test_the_adversary_learns_to_call_prior_samples_prior(monkeypatch):
    """D = 0 before the step: its first Adam step then raises mean D(z_p) - mean D(z_q) by
    lr * sum |mean h(z_p) - mean h(z_q)| > 0; with z_p and z_q swapped it would drop by as much."""
    state, train_step, codes, logits = _setup(np.zeros((8, 1)))
    images = random_batch()["image"]
    recorder = RandomCalls(monkeypatch)
    with recorder.recording("step"):
        new_state, _ = train_step(state, {"image": images})
    _, prior_draw = recorder.draws("step", "normal")  # the encoder's eps, then z_p
    z_p, z_q = PRIOR_STD * prior_draw, codes(state.params, images)
    assert np.all(logits(state.adversary_params, z_p) == 0)
    separation = (logits(new_state.adversary_params, z_p).mean()
                  - logits(new_state.adversary_params, z_q).mean())
    assert separation > 1e-4


def test_the_encoder_is_pushed_towards_what_the_adversary_calls_prior():
    """With small logits, the encoder's step raises D on its codes (BCE(D(z_q), 1));
    an encoder trained with the adversary's label 0 would lower it."""
    kernel = 0.1 * np.random.default_rng(0).normal(size=(8, 1))
    state, train_step, codes, logits = _setup(kernel)
    images = random_batch()["image"]
    new_state, _ = train_step(state, {"image": images})
    before = logits(state.adversary_params, codes(state.params, images)).mean()
    after = logits(state.adversary_params, codes(new_state.params, images)).mean()
    assert after > before + 1e-4
