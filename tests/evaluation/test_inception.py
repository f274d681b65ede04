"""FIDInception's structure (via eval_shape) and its layers against numpy references."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from tests.fast_compilation import jit as fast_jit
from wae_jax.evaluation import inception

# Parameter count of default_1.pt (kernels + beta/mean/var), counted from the file.
TORCHSCRIPT_NUM_VALUES = 21_802_784


@pytest.mark.parametrize("size", [75, 299])
def test_output_shape(size):
    x = jax.ShapeDtypeStruct((2, size, size, 3), jnp.float32)
    out = jax.eval_shape(lambda x: inception.FIDInception().init_with_output(
        jax.random.key(0), x)[0], x)
    assert out.shape == (2, inception.FEATURE_DIM)


def test_block_output_shapes_at_299():
    x = jax.ShapeDtypeStruct((1, 299, 299, 3), jnp.float32)
    model = inception.FIDInception()

    def run(x):
        variables = model.init(jax.random.key(0), x)
        return model.apply(variables, x, capture_intermediates=True, mutable=["intermediates"])

    _, state = jax.eval_shape(run, x)
    shapes = {k: v["__call__"][0].shape for k, v in state["intermediates"].items()
              if k.startswith("mixed") or k.startswith("conv")}
    assert shapes["conv_4"] == (1, 71, 71, 192)
    assert shapes["mixed_2"] == (1, 35, 35, 288)
    assert shapes["mixed_3"] == (1, 17, 17, 768)
    assert shapes["mixed_7"] == (1, 17, 17, 768)
    assert shapes["mixed_8"] == (1, 8, 8, 1280)
    assert shapes["mixed_10"] == (1, 8, 8, 2048)


def test_parameter_count_matches_the_torchscript_file():
    shapes = inception.param_shapes(75)
    assert sum(int(np.prod(s.shape)) for s in jax.tree.leaves(shapes)) == TORCHSCRIPT_NUM_VALUES


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("lowering", inception.LOWERINGS)
def test_conv_bn_matches_unfused_reference(lowering, stride):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 8, 3)).astype(np.float32)
    conv = inception.spec(4, (3, 2), stride=stride, padding=(1, 0))
    params = {"kernel": rng.normal(size=(3, 2, 3, 4)), "beta": rng.normal(size=4),
              "mean": rng.normal(size=4), "var": rng.uniform(0.1, 2.0, size=4)}
    params = {k: v.astype(np.float32) for k, v in params.items()}
    out = inception.ConvBN(conv, lowering=lowering).apply({"params": params}, x)

    padded = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (0, 0), (0, 0)))
    ref = np.zeros((2, 9, 7, 4))  # 9 + 2 - 3 + 1, 8 - 2 + 1 at stride 1
    for n in range(2):
        for o in range(4):
            ref[n, :, :, o] = sum(signal.correlate2d(padded[n, :, :, i],
                                                     params["kernel"][:, :, i, o], mode="valid")
                                  for i in range(3))
    ref = ref[:, ::stride, ::stride]
    ref = (ref - params["mean"]) / np.sqrt(params["var"] + inception.BN_EPS) + params["beta"]
    tolerance = 1e-4 if lowering.startswith("winograd") else 1e-5  # the transforms' round-off
    np.testing.assert_allclose(out, np.maximum(ref, 0.0), rtol=tolerance, atol=tolerance)


def test_cpu_lowering_table_names_real_layers_and_1x1_convs_are_matmuls():
    """Every CPU_CONVS key is a conv of the 299x299 network (a renamed or resized layer
    would silently fall back to XLA), Winograd is only chosen for stride-1 convs, and every
    1x1 conv is a plain matmul."""
    x = jnp.zeros((1, inception.INPUT_SIZE, inception.INPUT_SIZE, 3))
    seen = {}

    def record(next_fun, args, kwargs, context):
        if isinstance(context.module, inception.ConvBN) and context.method_name == "__call__":
            conv = context.module.conv
            seen[(args[0].shape[1], args[0].shape[3], conv[1], conv[0], conv[2])] = (
                inception.cpu_lowering(args[0].shape, conv))
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(record):
        jax.eval_shape(inception.FIDInception().init, jax.random.key(0), x)
    assert len(seen) > 40 and set(inception.CPU_CONVS) <= set(seen)
    for (_, _, kernel, _, stride), lowering in seen.items():
        if kernel == (1, 1) and stride == 1:
            assert lowering == ("patches", 0, 0)
        if lowering is not None and lowering[0] == "winograd":
            assert stride == 1 and kernel != (1, 1)


def test_every_lowering_reaches_every_layer_and_agrees_with_xla():
    """The network's lowering field is passed to each conv unit: forced patch and Winograd
    forms, with the stem in groups of two images (three images: one group padded), give the
    features of XLA's convolution on the whole batch, and no convolution op is left in the
    patch forms' program. Winograd at network level with one tile (each tile is checked per
    layer above, and compiling the network is this file's cost)."""
    x = np.random.default_rng(1).uniform(-1, 1, (3, 75, 75, 3)).astype(np.float32)
    params = jax.tree.map(
        lambda s: jnp.asarray(np.random.default_rng(s.size).normal(size=s.shape), s.dtype) * 0.1,
        inception.param_shapes(75))
    params = jax.tree.map_with_path(
        lambda path, v: jnp.abs(v) + 1.0 if path[-1].key == "var" else v, params)

    @functools.partial(fast_jit, static_argnums=(0, 1))
    def features(lowering, stem_images, params, x):
        return inception.FIDInception(lowering=lowering, stem_images=stem_images).apply(
            {"params": params}, x)

    reference = features("xla", 0, params, x)
    for lowering in ("patches", "blocks", "winograd4"):
        np.testing.assert_allclose(features(lowering, 2, params, x), reference, rtol=1e-4,
                                   atol=1e-4 * float(jnp.max(jnp.abs(reference))))
    for lowering in ("patches", "blocks"):
        assert "convolution" not in features.lower(lowering, 2, params, x).as_text()


def test_average_pool_excludes_padding_from_the_count():
    x = np.random.default_rng(0).normal(size=(1, 4, 5, 2)).astype(np.float32)
    out = np.asarray(inception.avg_pool_3x3(x))
    for i in range(4):
        for j in range(5):
            window = x[0, max(i - 1, 0):i + 2, max(j - 1, 0):j + 2]
            np.testing.assert_allclose(out[0, i, j], window.mean((0, 1)), rtol=1e-6)


def test_last_block_max_pool_pads_with_minus_infinity():
    x = -np.ones((1, 3, 3, 1), np.float32)  # zero padding would wrongly give 0 at borders
    np.testing.assert_array_equal(np.asarray(inception.max_pool_3x3(x)), x)


def test_refuses_non_rgb_input():
    with pytest.raises(ValueError, match="3"):
        inception.FIDInception().init(jax.random.key(0), jnp.zeros((1, 75, 75, 1)))


@pytest.mark.parametrize("shape", [(2, 9, 8, 3), (1, 1, 2, 1)])
def test_pools_equal_flax_reduce_window(shape):
    x = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    np.testing.assert_allclose(inception.avg_pool_3x3(x), nn.avg_pool(
        x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(inception.max_pool_3x3(x),
                                  nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1))))
    if min(shape[1:3]) >= 3:
        np.testing.assert_array_equal(inception.max_pool_stride2(x),
                                      nn.max_pool(x, (3, 3), (2, 2)))
