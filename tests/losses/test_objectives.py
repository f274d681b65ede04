"""Objectives = recon_scale * mean(cost) + lambda_ * penalty, checked against numpy references."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.losses import vae, w2vae, wae_gan, wae_gan_adversary, wae_mmd

RNG = np.random.default_rng(9)
X = RNG.uniform(size=(4, 3, 3, 1))
X_HAT = RNG.normal(size=X.shape)  # logits for 'bernoulli', images for 'l2sq'
MEAN = RNG.normal(size=(4, 2))
LOGVAR = RNG.uniform(-1.5, 0.5, size=(4, 2))
Z_Q = RNG.normal(size=(4, 2)) + 0.3
Z_P = RNG.normal(size=(5, 2))
LOGITS_PRIOR = RNG.normal(size=5)
LOGITS_ENCODED = RNG.normal(size=4)


def _f32(a):
    return jnp.asarray(a, jnp.float32)


def bernoulli_ref(x, logits):
    """Log-sum-exp form of the Bernoulli NLL, summed over pixels."""
    nll = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    return nll.reshape(len(x), -1).sum(1)


def l2sq_ref(x, y):
    return ((x - y) ** 2).reshape(len(x), -1).sum(1)


def kl_ref(m, lv):
    return 0.5 * np.sum(m**2 + np.exp(lv) - 1 - lv, axis=1)


def w2_ref(m, lv):
    return np.sum(m**2, axis=1) + np.sum((np.exp(lv / 2) - 1) ** 2, axis=1)


def mmd_ref(q, p, prior_std=1.0, scales=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)):
    base = 2 * q.shape[1] * prior_std**2
    k = lambda a, b: sum(base * s / (base * s + np.sum((a - b) ** 2)) for s in scales)
    n, m = len(q), len(p)
    qq = sum(k(q[i], q[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    pp = sum(k(p[i], p[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    return qq + pp - 2 * sum(k(a, b) for a in q for b in p) / (n * m)


def bce_ref(logits, label):
    p = 1 / (1 + np.exp(-logits))
    return -np.mean(label * np.log(p) + (1 - label) * np.log(1 - p))


# name -> (objective with arrays bound; lambda_ is its only argument, reconstruction, penalty)
CASES = {
    "vae": (lambda lam: vae(_f32(X), _f32(X_HAT), _f32(MEAN), _f32(LOGVAR), recon_scale=0.5,
                            lambda_=lam),
            bernoulli_ref(X, X_HAT).mean(), kl_ref(MEAN, LOGVAR).mean(), 0.5),
    "w2vae": (lambda lam: w2vae(_f32(X), _f32(X_HAT), _f32(MEAN), _f32(LOGVAR), lambda_=lam),
              bernoulli_ref(X, X_HAT).mean(), w2_ref(MEAN, LOGVAR).mean(), 1.0),
    "wae_mmd": (lambda lam: wae_mmd(_f32(X), _f32(X_HAT), _f32(Z_Q), _f32(Z_P), lambda_=lam,
                                    prior_std=1.3),
                l2sq_ref(X, X_HAT).mean(), mmd_ref(Z_Q, Z_P, prior_std=1.3), 0.05),
    "wae_gan": (lambda lam: wae_gan(_f32(X), _f32(X_HAT), _f32(LOGITS_ENCODED), lambda_=lam),
                l2sq_ref(X, X_HAT).mean(), bce_ref(LOGITS_ENCODED, 1.0), 0.05),
}
METHOD_KEYS = {"vae": {"kl"}, "w2vae": {"w2", "kl", "T"}, "wae_mmd": {"mmd"},
               "wae_gan": {"adversary"}}


class ObjectivesTest(chex.TestCase):

    @chex.variants(with_jit=True, without_jit=True)
    def test_composition_matches_references(self):
        for name, (objective, recon, penalty, recon_scale) in CASES.items():
            loss, aux = self.variant(objective)(jnp.float32(3.0))  # lambda_ traced under jit
            want = recon_scale * recon + 3.0 * penalty
            self.assertEqual(set(aux), {"loss", "reconstruction", "penalty"} | METHOD_KEYS[name])
            np.testing.assert_allclose([loss, aux["loss"]], want, rtol=1e-5, err_msg=name)
            np.testing.assert_allclose(aux["reconstruction"], recon, rtol=1e-5, err_msg=name)
            np.testing.assert_allclose(aux["penalty"], penalty, rtol=1e-5, atol=1e-6,
                                       err_msg=name)

    @chex.variants(with_jit=True, without_jit=True)
    def test_w2vae_monitors_t_equals_w2_minus_kl(self):
        _, aux = self.variant(CASES["w2vae"][0])(jnp.float32(1.0))
        w2, kl = w2_ref(MEAN, LOGVAR).mean(), kl_ref(MEAN, LOGVAR).mean()
        np.testing.assert_allclose([aux["w2"], aux["kl"], aux["T"]], [w2, kl, w2 - kl], rtol=1e-5)

    @chex.variants(with_jit=True, without_jit=True)
    def test_adversary_objective(self):
        fn = self.variant(lambda lam: wae_gan_adversary(_f32(LOGITS_PRIOR), _f32(LOGITS_ENCODED),
                                                        lambda_=lam))
        loss, aux = fn(jnp.float32(2.5))
        unweighted = bce_ref(LOGITS_PRIOR, 1.0) + bce_ref(LOGITS_ENCODED, 0.0)
        self.assertEqual(set(aux), {"loss", "adversary"})
        np.testing.assert_allclose([loss, aux["adversary"]], [2.5 * unweighted, unweighted],
                                   rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_lambda_is_traceable_and_its_gradient_is_the_penalty(name):
    objective, recon, penalty, recon_scale = CASES[name]
    lambdas = jnp.asarray([0.0, 1.0, 7.5])
    losses = jax.jit(jax.vmap(lambda lam: objective(lam)[0]))(lambdas)
    np.testing.assert_allclose(losses, recon_scale * recon + np.asarray(lambdas) * penalty,
                               rtol=1e-5)
    np.testing.assert_allclose(jax.jit(jax.grad(lambda lam: objective(lam)[0]))(2.0), penalty,
                               rtol=1e-5, atol=1e-6)


def _grads(objective, *arrays):
    grad_fn = jax.jit(jax.grad(lambda *a: objective(*a)[0], argnums=tuple(range(len(arrays)))))
    return grad_fn(*[_f32(a) for a in arrays])


@pytest.mark.parametrize("objective, arrays", [
    (functools.partial(vae, _f32(X)), (X_HAT, MEAN, LOGVAR)),
    (functools.partial(w2vae, _f32(X)), (X_HAT, MEAN, LOGVAR)),
    (functools.partial(wae_mmd, _f32(X), kernel="rbf"), (X_HAT, Z_Q, _f32(Z_P))),
    (functools.partial(wae_gan, _f32(X), cost="l2"), (X_HAT, LOGITS_ENCODED)),
    (wae_gan_adversary, (LOGITS_PRIOR, LOGITS_ENCODED)),
], ids=["vae", "w2vae", "wae_mmd_rbf", "wae_gan_l2", "wae_gan_adversary"])
def test_gradients_are_finite_and_nonzero(objective, arrays):
    for grad in _grads(objective, *arrays):
        assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_unknown_cost_raises():
    with pytest.raises(ValueError, match="cost="):
        vae(_f32(X), _f32(X_HAT), _f32(MEAN), _f32(LOGVAR), cost="mse")
