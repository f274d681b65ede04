"""The jitted train step of each method against an independent float64 numpy reference.

A tiny MLP auto-encoder (4 pixels, 3 hidden units, 2-D codes, batch 4) is trained for
three steps by `make_train_step`; the reference writes out the forward pass, the loss
(costs, KL, W2, the IMQ U-statistic, the adversary's BCE terms with the log-prior
trick), its gradient by central finite differences and Adam (bias correction, eps, the
config's betas, the step-indexed learning-rate decay and lambda ramp). Only the random
draws are shared: they are recorded from the step itself (tests/training/random_calls).
"""

import math

import jax
import numpy as np
import pytest
import scipy.special
import scipy.stats

from wae_jax import models
from wae_jax.training import steps
from wae_jax.training.state import create_train_state
from tests.training.random_calls import RandomCalls
from tests.training.tiny import tiny_config

IMAGE_SHAPE = (2, 2, 1)
BATCH, LATENT, NUM_STEPS, STEPS_PER_EPOCH = 4, 2, 3, 2
ADAM_EPS, FD_STEP = 1e-8, 1e-6
# Per method: config overrides, and how many N(0, 1) draws one step makes (eps, then z_p).
SETTINGS = {
    "vae": (dict(lambda_=1.5), 1),
    "w2vae": (dict(lambda_=0.5, lambda_growth=2.0), 1),
    "wae_mmd": (dict(prior_std=1.5), 2),
    "wae_gan": (dict(prior_std=1.5, log_prior_trick=True, adversary_learning_rate=0.03), 2),
}


def _dense(p, h):
    return h @ p["kernel"] + p["bias"]


def _relu(a):
    return np.maximum(a, 0.0)


def forward(config, params, x, eps):
    """(mean, logvar or None, z, x_hat) of the MLP auto-encoder, written out."""
    h = _relu(_dense(params["encoder"]["Dense_0"], x.reshape(len(x), -1)))
    mean, logvar, z = _dense(params["head"]["mean"], h), None, None
    if "logvar" in params["head"]:
        clamp = config.model.logvar_clamp
        logvar = np.clip(_dense(params["head"]["logvar"], h), -clamp, clamp)
        z = mean + np.exp(0.5 * logvar) * eps
    z = mean if z is None else z
    out = _dense(params["decoder"]["Dense_1"], _relu(_dense(params["decoder"]["Dense_0"], z)))
    out = out.reshape(x.shape)
    x_hat = scipy.special.expit(out) if config.model.output_activation == "sigmoid" else out
    return mean, logvar, z, x_hat


def reconstruction(config, x, x_hat):
    if config.cost == "bernoulli":  # x_hat are logits
        per_pixel = np.logaddexp(0.0, x_hat) - x * x_hat
    else:
        assert config.cost == "l2sq"
        per_pixel = (x - x_hat) ** 2
    return per_pixel.reshape(len(x), -1).sum(1).mean()


def imq_mmd(z_q, z_p, prior_std, scales):
    """The U-statistic by loops over pairs, base 2 d sigma^2."""
    n, d = z_q.shape
    base = 2.0 * d * prior_std**2

    def k(a, b):
        return sum(base * s / (base * s + np.sum((a - b) ** 2)) for s in scales)
    qq = sum(k(z_q[i], z_q[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    pp = sum(k(z_p[i], z_p[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    qp = sum(k(z_q[i], z_p[j]) for i in range(n) for j in range(n)) / n**2
    return qq + pp - 2.0 * qp


def critic(config, adversary_params, z):
    """Adversary logit ("z is a prior sample"), plus log N(z; 0, prior_std^2 I) if tricked."""
    logits = _dense(adversary_params["Dense_1"], _relu(_dense(adversary_params["Dense_0"], z)))
    logits = logits[:, 0]
    if config.log_prior_trick:
        logits = logits + scipy.stats.norm.logpdf(z, scale=config.prior_std).sum(1)
    return logits


def _bce(logits, label):
    return -np.mean(label * -np.logaddexp(0.0, -logits)
                    + (1 - label) * -np.logaddexp(0.0, logits))


def autoencoder_loss(config, lambda_, params, adversary_params, x, draws):
    """(loss, reconstruction, penalty) of the method."""
    mean, logvar, z, x_hat = forward(config, params, x, draws[0])
    recon = reconstruction(config, x, x_hat)
    if config.method == "vae":
        penalty = np.mean(np.sum(0.5 * (mean**2 + np.exp(logvar) - logvar - 1.0), 1))
    elif config.method == "w2vae":
        penalty = np.mean(np.sum(mean**2 + (np.exp(0.5 * logvar) - 1.0) ** 2, 1))
    elif config.method == "wae_mmd":
        penalty = imq_mmd(z, config.prior_std * draws[1], config.prior_std,
                          config.kernel_scales)
    else:
        penalty = _bce(critic(config, adversary_params, z), 1.0)
    return config.recon_scale * recon + lambda_ * penalty, recon, penalty


def adversary_loss(config, lambda_, adversary_params, z_q, z_p):
    return lambda_ * (_bce(critic(config, adversary_params, z_p), 1.0)
                      + _bce(critic(config, adversary_params, z_q), 0.0))


def _leaves(tree, path=()):
    for name in sorted(tree):
        if isinstance(tree[name], dict):
            yield from _leaves(tree[name], path + (name,))
        else:
            yield path + (name,), tree[name]


def fd_gradient(fn, tree):
    """Central finite differences of the scalar fn(tree) for every entry of every leaf."""
    grads = jax.tree.map(np.zeros_like, tree)
    for path, leaf in _leaves(tree):
        grad = _leaves_get(grads, path)
        for i in np.ndindex(leaf.shape):
            saved = leaf[i]
            leaf[i] = saved + FD_STEP
            plus = fn(tree)
            leaf[i] = saved - FD_STEP
            minus = fn(tree)
            leaf[i] = saved
            grad[i] = (plus - minus) / (2 * FD_STEP)
    return grads


def _leaves_get(tree, path):
    for name in path:
        tree = tree[name]
    return tree


class Adam:
    """Adam (Kingma & Ba) with bias correction, in place on a dict of float64 arrays."""

    def __init__(self, params, b1, b2):
        self.b1, self.b2, self.t = b1, b2, 0
        self.m = jax.tree.map(np.zeros_like, params)
        self.v = jax.tree.map(np.zeros_like, params)

    def step(self, params, grads, learning_rate):
        self.t += 1
        for path, p in _leaves(params):
            g, m, v = (_leaves_get(t, path) for t in (grads, self.m, self.v))
            m[...] = self.b1 * m + (1 - self.b1) * g
            v[...] = self.b2 * v + (1 - self.b2) * g**2
            m_hat, v_hat = m / (1 - self.b1**self.t), v / (1 - self.b2**self.t)
            p -= learning_rate * m_hat / (np.sqrt(v_hat) + ADAM_EPS)


def _grad_norm(grads):
    return math.sqrt(sum(np.sum(g**2) for _, g in _leaves(grads)))


def _float64(tree):
    return jax.tree.map(lambda a: np.array(a, np.float64), jax.device_get(tree))


def _setup(method):
    overrides, num_draws = SETTINGS[method]
    config = tiny_config(method, "", latent_dim=LATENT, batch_size=BATCH, input_noise_std=0.0,
                         learning_rate=0.02, lr_decay_epochs=(1,), lr_decay_factors=(4.0,),
                         **overrides)
    config.model.arch, config.model.hidden, config.model.adversary_hidden = "mlp", (3,), (3,)
    model = models.build_autoencoder(config.model, IMAGE_SHAPE)
    adversary = models.build_adversary(config.model) if method == "wae_gan" else None
    state = jax.jit(lambda key: create_train_state(config, model, adversary, IMAGE_SHAPE, key)
                    )(jax.random.PRNGKey(0))
    return config, model, adversary, state, num_draws


@pytest.mark.parametrize("method", list(SETTINGS))
def test_train_steps_match_the_numpy_reference(monkeypatch, method):
    config, model, adversary, state, num_draws = _setup(method)
    recorder = RandomCalls(monkeypatch)
    with recorder.recording("train"):
        train_step = jax.jit(steps.make_train_step(config, model, adversary, STEPS_PER_EPOCH))
        params, adversary_params = _float64(state.params), _float64(state.adversary_params)
        adam = Adam(params, config.adam_b1, config.adam_b2)
        adversary_adam = Adam(adversary_params, config.adam_b1, config.adam_b2)
        images = np.random.default_rng(0).random((NUM_STEPS, BATCH, *IMAGE_SHAPE), np.float32)
        for step, x in enumerate(images):
            state, metrics = train_step(state, {"image": x})
            draws = recorder.draws("train", "normal")
            assert len(draws) == num_draws * (step + 1)  # nothing else drawn (no input noise)
            draws = [d.astype(np.float64) for d in draws[-num_draws:]]
            epoch = step // STEPS_PER_EPOCH
            multiplier = 0.25 ** epoch
            lambda_ = config.lambda_ + config.lambda_growth * epoch
            x = x.astype(np.float64)
            loss, recon, penalty = autoencoder_loss(config, lambda_, params, adversary_params,
                                                    x, draws)
            grads = fd_gradient(lambda p: autoencoder_loss(
                config, lambda_, p, adversary_params, x, draws)[0], params)
            expected = {"loss": loss, "reconstruction": recon, "penalty": penalty,
                        "grad_norm": _grad_norm(grads), "lambda": lambda_,
                        "learning_rate": config.learning_rate * multiplier}
            if method == "wae_gan":  # on the codes of this step, before the encoder's update
                z_q = forward(config, params, x, draws[0])[2]
                z_p = config.prior_std * draws[1]
                expected["adversary_loss"] = adversary_loss(config, lambda_, adversary_params,
                                                            z_q, z_p)
                adversary_grads = fd_gradient(
                    lambda a: adversary_loss(config, lambda_, a, z_q, z_p), adversary_params)
                expected["adversary_grad_norm"] = _grad_norm(adversary_grads)
                adversary_adam.step(adversary_params, adversary_grads,
                                    config.adversary_learning_rate * multiplier)
            adam.step(params, grads, config.learning_rate * multiplier)
            for name, value in expected.items():
                assert float(metrics[name]) == pytest.approx(value, rel=2e-4, abs=1e-6), name
            for tree, reference in ((state.params, params),
                                    (state.adversary_params, adversary_params)):
                for (path, got), (_, want) in zip(_leaves(jax.device_get(tree)),
                                                  _leaves(reference)):
                    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                                               err_msg=f"step {step} {path}")
