import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from jax import lax

from wae_jax.models import build_autoencoder
from wae_jax.models.dcgan import DCGANDecoder, DCGANEncoder, doubling_padding


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def conv(k: int, n_in: int, n_out: int) -> int:
    return k * k * n_in * n_out + n_out


def _config(arch: str, latent_dim: int, **fields) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(dict(arch=arch, encoder="deterministic",
                                          latent_dim=latent_dim, output_activation="sigmoid",
                                          **fields))


@pytest.mark.parametrize("kernel_size", [3, 4, 5])
@pytest.mark.parametrize("n", [2, 7])
def test_doubling_padding(kernel_size, n):
    padding, output_padding = doubling_padding(kernel_size)
    assert 0 <= output_padding < 2
    assert (n - 1) * 2 - 2 * padding + kernel_size + output_padding == 2 * n


def test_paper_mnist_parameter_count(abstract_init, num_params):
    """128-256-512-1024 4x4 encoder, 7x7x1024 -> 512 -> 256 -> 1 decoder, latent 8."""
    model = build_autoencoder(_config("dcgan_mnist", 8), (28, 28, 1))
    variables = abstract_init(model, (1, 28, 28, 1), train=False)
    widths = [1, 128, 256, 512, 1024]
    encoder = sum(conv(4, a, b) + 2 * b for a, b in zip(widths, widths[1:]))
    encoder += dense(2 * 2 * 1024, 8)
    decoder = (dense(8, 7 * 7 * 1024) + conv(4, 1024, 512) + 2 * 512 + conv(4, 512, 256)
               + 2 * 256 + conv(4, 256, 1))
    assert num_params(variables["params"]) == encoder + decoder
    assert num_params(variables["batch_stats"]) == 2 * (128 + 256 + 512 + 1024 + 512 + 256)


def test_paper_celeba_parameter_count(abstract_init, num_params):
    """5x5 kernels, 64->4 encoder, 8x8x1024 -> 512 -> 256 -> 128 -> 3 decoder, latent 64."""
    model = build_autoencoder(_config("dcgan_celeba", 64), (64, 64, 3))
    params = abstract_init(model, (1, 64, 64, 3), train=False)["params"]
    widths = [3, 128, 256, 512, 1024]
    encoder = sum(conv(5, a, b) + 2 * b for a, b in zip(widths, widths[1:]))
    encoder += dense(4 * 4 * 1024, 64)
    up = [1024, 512, 256, 128]
    decoder = dense(64, 8 * 8 * 1024) + sum(conv(5, a, b) + 2 * b for a, b in zip(up, up[1:]))
    decoder += conv(5, 128, 3)
    assert num_params(params) == encoder + decoder


def test_mnist_feature_maps(conv_output_sizes):
    model = build_autoencoder(_config("dcgan_mnist", 4, widths=(2, 3, 4, 5)), (28, 28, 1))
    assert conv_output_sizes(model, (28, 28, 1)) == [
        (14, 14, 2), (7, 7, 3), (4, 4, 4), (2, 2, 5),  # encoder
        (14, 14, 4), (28, 28, 3), (28, 28, 1)]  # decoder from a 7x7x5 map


def test_celeba_feature_maps(conv_output_sizes):
    model = build_autoencoder(_config("dcgan_celeba", 4, widths=(2, 3, 4, 5)), (64, 64, 3))
    assert conv_output_sizes(model, (64, 64, 3)) == [
        (32, 32, 2), (16, 16, 3), (8, 8, 4), (4, 4, 5),  # encoder
        (16, 16, 4), (32, 32, 3), (64, 64, 2), (64, 64, 3)]  # decoder from an 8x8x5 map


def test_batch_norm_train_and_eval(random_variables):
    """Train mode normalises with batch statistics and moves the running ones by 0.1."""
    encoder = DCGANEncoder(widths=(3,), kernel_size=4, lowering="xla")
    x = jax.random.normal(jax.random.key(0), (4, 8, 8, 1)) + 2.0
    variables = random_variables(encoder, x.shape, train=False)
    train_out, state = encoder.apply(variables, x, True, mutable=["batch_stats"])

    p = variables["params"]
    y = lax.conv_general_dilated(np.asarray(x), np.asarray(p["Conv_0"]["kernel"]), (2, 2),
                                 [(1, 1), (1, 1)], dimension_numbers=("NHWC", "HWIO", "NHWC"))
    y = np.asarray(y) + np.asarray(p["Conv_0"]["bias"])
    mean, var = y.mean(axis=(0, 1, 2)), y.var(axis=(0, 1, 2))
    bn = p["BatchNorm_0"]
    expected = np.maximum((y - mean) / np.sqrt(var + 1e-5) * bn["scale"] + bn["bias"], 0)
    np.testing.assert_allclose(train_out, expected.reshape(4, -1), rtol=1e-4, atol=1e-4)

    stats = state["batch_stats"]["BatchNorm_0"]
    np.testing.assert_allclose(stats["mean"], 0.1 * mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stats["var"], 0.9 + 0.1 * var, rtol=1e-4, atol=1e-5)

    eval_out = encoder.apply(variables, x, False)  # running statistics, no mutation
    expected_eval = np.maximum(y / np.sqrt(1 + 1e-5) * bn["scale"] + bn["bias"], 0)
    np.testing.assert_allclose(eval_out, expected_eval.reshape(4, -1), rtol=1e-4, atol=1e-4)
    assert not np.allclose(eval_out, train_out)


def test_decoder_rejects_indivisible_shapes():
    decoder = DCGANDecoder((30, 30, 1), widths=(4, 3, 2))
    with pytest.raises(ValueError, match="divisible by 4"):
        decoder.init(jax.random.key(0), jnp.zeros((1, 2)), False)
