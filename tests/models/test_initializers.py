"""model.initializer and model.batch_norm reach every layer of every architecture.

Real initialisation of even tiny conv nets costs XLA:CPU seconds of compiling, so the
wiring is checked on traced inits (jax.eval_shape with every layer intercepted) and the
distributions on the initialisers' own draws.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from scipy import stats

from wae_jax.models import build_adversary, build_autoencoder
from wae_jax.models.conv import Conv, ConvTranspose
from wae_jax.models.initializers import WAE

MNIST, CELEBA = (28, 28, 1), (64, 64, 3)
TINY = {"mlp": dict(hidden=(6, 5)), "dcgan_mnist": dict(widths=(2, 3, 4, 5)),
        "dcgan_celeba": dict(widths=(2, 3, 4, 5)), "pythae_mnist": dict(widths=(2, 3, 4, 5)),
        "resnet_v2": dict(stage_sizes=(1, 1), resnet_width=2),
        "augmentation_vae": dict(augmentation_width=2, augmentation_hidden=4)}
STD = 0.01  # the official code's init_std
BATCH_NORM_ARCHS = ("dcgan_mnist", "dcgan_celeba", "pythae_mnist", "resnet_v2")


def _config(arch, **fields) -> ml_collections.ConfigDict:
    base = dict(arch=arch, encoder="gaussian", latent_dim=3, output_activation="sigmoid",
                logvar_clamp=6.0, **TINY[arch])
    return ml_collections.ConfigDict({**base, **fields})


def _shape(arch):
    return CELEBA if arch == "dcgan_celeba" else MNIST


def _layers(model, *inputs, **kwargs) -> list[tuple[str, nn.Module]]:
    """(kind, module) of every Dense, Conv and ConvTranspose that `model.init` calls."""
    layers = []

    def record(next_fun, args, kw, context):
        for kind in (nn.Dense, Conv, ConvTranspose):
            if type(context.module) is kind and context.method_name == "__call__":
                layers.append((kind.__name__, context.module))
        return next_fun(*args, **kw)

    with nn.intercept_methods(record):
        variables = jax.eval_shape(lambda *x: model.init(
            {"params": jax.random.key(0), "noise": jax.random.key(1)}, *x, **kwargs),
            *inputs)
    kernels = [p for p, _ in jax.tree_util.tree_leaves_with_path(variables)
               if p[-1].key == "kernel"]
    assert len(layers) == len(kernels) > 0  # every layer with a kernel was seen once
    return layers


def _all_layers(**fields) -> list[tuple[str, nn.Module]]:
    """Every layer of every architecture (gaussian and noise heads) and the adversary."""
    layers = []
    for arch in sorted(TINY):
        for encoder in ("gaussian", "noise"):
            model = build_autoencoder(_config(arch, encoder=encoder, **fields), _shape(arch))
            x = jax.ShapeDtypeStruct((2, *_shape(arch)), jnp.float32)
            layers += _layers(model, x, train=False)
    adversary = build_adversary(ml_collections.ConfigDict(dict(adversary_hidden=(7,),
                                                               **fields)))
    return layers + _layers(adversary, jax.ShapeDtypeStruct((2, 3), jnp.float32))


@pytest.mark.parametrize("fields", [{}, dict(initializer="flax")])
def test_flax_default_is_lecun_normal_everywhere(fields):
    """As before model.initializer existed (`:small`/`:tiny` unchanged): every kernel
    draws exactly what flax's lecun_normal draws."""
    key, shape = jax.random.key(7), (3, 3, 4, 5)
    expected = np.asarray(nn.initializers.lecun_normal()(key, shape))
    for kind, layer in _all_layers(**fields):
        np.testing.assert_array_equal(np.asarray(layer.kernel_init(key, shape)), expected,
                                      err_msg=kind)


def test_wae_initializer_reaches_every_layer():
    expected = {"Dense": WAE.dense, "Conv": WAE.conv, "ConvTranspose": WAE.conv_transpose}
    layers = _all_layers(initializer="wae")
    assert {kind for kind, _ in layers} == set(expected)
    for kind, layer in layers:
        assert layer.kernel_init is expected[kind], kind


def test_wae_initializer_statistics():
    """Empirical std against N(0, 0.01^2) and scipy's truncnorm(-2, 2) * 0.01."""
    shape = (4, 4, 128, 128)  # 262k draws: std within ~0.3%
    conv = np.asarray(WAE.conv(jax.random.key(0), shape))
    transposed = np.asarray(WAE.conv_transpose(jax.random.key(1), shape))
    dense = np.asarray(WAE.dense(jax.random.key(2), (512, 512)))
    assert conv.std() == pytest.approx(STD * stats.truncnorm(-2, 2).std(), rel=0.02)
    assert np.abs(conv).max() <= 2 * STD
    assert stats.kurtosis(conv.ravel()) == pytest.approx(stats.truncnorm(-2, 2).stats(
        moments="k"), abs=0.05)
    for untruncated in (transposed, dense):
        assert untruncated.std() == pytest.approx(STD, rel=0.02)
        assert abs(untruncated.mean()) < 1e-4
        assert np.mean(np.abs(untruncated) > 2 * STD) == pytest.approx(
            2 * stats.norm.sf(2), abs=0.005)  # not truncated: ~4.6% beyond 2 std


@pytest.mark.parametrize("arch", BATCH_NORM_ARCHS)
def test_batch_norm_false_removes_every_batch_norm(arch):
    def collections(**fields):
        model = build_autoencoder(_config(arch, **fields), _shape(arch))
        x = jax.ShapeDtypeStruct((2, *_shape(arch)), jnp.float32)
        return jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=True), x)

    with_bn, without = collections(), collections(batch_norm=False)
    assert "batch_stats" in with_bn
    assert "batch_stats" not in without
    assert not any("BatchNorm" in jax.tree_util.keystr(p)
                   for p, _ in jax.tree_util.tree_leaves_with_path(without))


@pytest.mark.parametrize("arch", BATCH_NORM_ARCHS)
def test_batch_norm_false_trains_without_mutable_state(arch):
    """With batch norm, a training-mode apply must update batch_stats; without, nothing."""
    x = jax.ShapeDtypeStruct((2, *_shape(arch)), jnp.float32)

    def train_apply(**fields):
        model = build_autoencoder(_config(arch, **fields), _shape(arch))
        variables = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
        return jax.eval_shape(lambda v, x: model.apply(v, x, True), variables, x)

    with pytest.raises(Exception, match="batch_stats"):
        train_apply()
    assert train_apply(batch_norm=False)[2].shape == x.shape


@pytest.mark.parametrize("fields,message", [
    (dict(initializer="xavier"), "model_config.initializer='xavier': use one of"),
    (dict(batch_norm="no"), "model_config.batch_norm='no': use True or False"),
])
def test_bad_fields(fields, message):
    with pytest.raises(ValueError, match=message):
        build_autoencoder(_config("mlp", **fields), MNIST)
