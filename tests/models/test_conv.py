"""The CPU rewrites of conv.py compute XLA's function: values and gradients, under jit."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.models import conv

jax.config.update("jax_default_matmul_precision", "highest")


def _random(key: int, shape: tuple[int, ...]) -> jax.Array:
    return jax.random.normal(jax.random.key(key), shape, jnp.float32)


def _value_and_grads(fn, x: jax.Array, w: jax.Array):
    """Output and the VJP w.r.t. input and kernel for a fixed random cotangent."""
    y, vjp = jax.vjp(fn, x, w)
    return (y, *vjp(_random(99, y.shape)))


def _assert_same(reference, candidate) -> None:
    for ref, got in zip(reference, candidate):
        assert got.shape == ref.shape
        scale = float(jnp.max(jnp.abs(ref))) + 1e-6
        np.testing.assert_allclose(np.asarray(got) / scale, np.asarray(ref) / scale, atol=2e-5)


CONV_CASES = [
    # (height, width, kernel, stride, padding)
    *[(7 + k % 2, 7, k, 2, padding) for k in (1, 2, 3, 4, 5) for padding in ("SAME", "VALID")],
    (9, 6, 4, 2, 1), (10, 10, 5, 2, 2), (11, 9, 3, 2, [(0, 2), (1, 0)]),
    (12, 12, 4, 3, "SAME"), (8, 8, 3, 1, "SAME"), (28, 28, 4, 2, "SAME"),
]


@pytest.mark.parametrize("height,width,kernel,stride,padding", CONV_CASES)
def test_strided_conv_rewrite_equals_xla(height, width, kernel, stride, padding):
    x, w = _random(0, (2, height, width, 3)), _random(1, (kernel, kernel, 3, 5))
    fn = lambda lowering: jax.jit(
        lambda x, w: conv.conv2d(x, w, stride, padding, lowering))
    _assert_same(_value_and_grads(fn("xla"), x, w), _value_and_grads(fn("rewrite"), x, w))


TRANSPOSE_CASES = [
    # (height, width, kernel, stride, padding, output_padding)
    *[(4, 5, k, 2, p, (k + p) % 2) for k in (1, 2, 3, 4, 5) for p in (0, 1, 2)
      if (4 - 1) * 2 - 2 * p + k > 0],
    (4, 4, 3, 2, 1, 0), (7, 7, 3, 2, 1, 1), (7, 7, 4, 2, 1, 0), (8, 8, 5, 2, 2, 1),
    (3, 5, 4, 3, 1, 2), (5, 5, 3, 1, 1, 0),
]


@pytest.mark.parametrize("height,width,kernel,stride,padding,output_padding",
                         TRANSPOSE_CASES)
def test_transposed_conv_rewrite_equals_xla(height, width, kernel, stride, padding,
                                            output_padding):
    x, w = _random(2, (2, height, width, 4)), _random(3, (kernel, kernel, 4, 3))
    fn = lambda lowering: jax.jit(lambda x, w: conv.conv_transpose2d(
        x, w, stride, padding, output_padding, lowering))
    _assert_same(_value_and_grads(fn("xla"), x, w), _value_and_grads(fn("rewrite"), x, w))


def test_transposed_conv_has_pytorch_semantics():
    """y[s*i + a - p] += x[i] * w[a], checked by a brute-force scatter in numpy."""
    s, p, op, k = 2, 1, 1, 3
    x, w = np.asarray(_random(4, (1, 3, 2, 2))), np.asarray(_random(5, (k, k, 2, 3)))
    out_h, out_w = [(n - 1) * s - 2 * p + k + op for n in x.shape[1:3]]
    expected = np.zeros((1, out_h, out_w, 3))
    for i, j, a, b in itertools.product(range(3), range(2), range(k), range(k)):
        oi, oj = s * i + a - p, s * j + b - p
        if 0 <= oi < out_h and 0 <= oj < out_w:
            expected[0, oi, oj] += x[0, i, j] @ w[a, b]
    for lowering in ("xla", "rewrite"):
        got = conv.conv_transpose2d(jnp.asarray(x), jnp.asarray(w), s, p, op, lowering)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer", [
    conv.Conv(features=6, kernel_size=4, strides=2),
    conv.ConvTranspose(features=6, kernel_size=3, strides=2, padding=1, output_padding=1),
])
def test_layers_agree_across_lowerings(layer):
    x = _random(6, (2, 7, 7, 3))
    params = layer.init(jax.random.key(0), x)
    outputs = [layer.clone(lowering=lowering).apply(params, x) for lowering in ("xla", "rewrite")]
    _assert_same([outputs[0]], [outputs[1]])


def test_auto_lowering_is_the_rewrite_on_cpu_only():
    expected = "rewrite" if jax.default_backend() == "cpu" else "xla"
    assert conv.resolve_lowering("auto") == expected


@pytest.mark.parametrize("call,field", [
    (lambda: conv.resolve_lowering("fast"), "lowering"),
    (lambda: conv.conv_transpose2d(jnp.zeros((1, 4, 4, 1)), jnp.zeros((3, 3, 1, 1)), 2, 1, 2),
     "output_padding"),
    (lambda: conv.conv2d(jnp.zeros((1, 4, 4, 1)), jnp.zeros((3, 3, 1, 1)), 2, "FULL"),
     "padding"),
])
def test_bad_arguments_name_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()
