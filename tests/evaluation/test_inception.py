"""FIDInception's structure (via eval_shape) and its layers against numpy references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

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


def test_conv_bn_matches_unfused_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 8, 3)).astype(np.float32)
    conv = inception.spec(4, (3, 2), stride=2, padding=(1, 0))
    params = {"kernel": rng.normal(size=(3, 2, 3, 4)), "beta": rng.normal(size=4),
              "mean": rng.normal(size=4), "var": rng.uniform(0.1, 2.0, size=4)}
    params = {k: v.astype(np.float32) for k, v in params.items()}
    out = inception.ConvBN(conv).apply({"params": params}, x)

    padded = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (0, 0), (0, 0)))
    ref = np.zeros((2, 5, 4, 4))  # floor((9 + 2 - 3) / 2) + 1, floor((8 - 2) / 2) + 1
    for n in range(2):
        for o in range(4):
            full = sum(signal.correlate2d(padded[n, :, :, i], params["kernel"][:, :, i, o],
                                          mode="valid") for i in range(3))
            ref[n, :, :, o] = full[::2, ::2]
    ref = (ref - params["mean"]) / np.sqrt(params["var"] + inception.BN_EPS) + params["beta"]
    np.testing.assert_allclose(out, np.maximum(ref, 0.0), rtol=1e-5, atol=1e-5)


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
