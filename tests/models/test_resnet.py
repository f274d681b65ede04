import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from wae_jax.models import build_autoencoder
from wae_jax.models.resnet import ResNetV2Encoder, feature_map_sizes, resize_nearest


def bottleneck_v2(n_in: int, features: int, strides: int) -> int:
    """Pre-activation bottleneck: BN(in), 1x1, BN, 3x3, BN, 1x1 (no conv biases)."""
    out = 4 * features
    count = 2 * n_in + n_in * features + 2 * features + 9 * features**2 + 2 * features
    count += features * out
    if strides != 1 or n_in != out:
        count += n_in * out  # projection shortcut
    return count


def resnet_v2_encoder(channels: int, stage_sizes, width: int) -> int:
    count, n_in = 9 * channels * width, width  # 3x3 stem
    for i, blocks in enumerate(stage_sizes):
        for j in range(blocks):
            count += bottleneck_v2(n_in, width * 2**i, 2 if i > 0 and j == 0 else 1)
            n_in = 4 * width * 2**i
    return count + 2 * n_in  # final BN


def test_feature_map_sizes():
    assert feature_map_sizes(28, 28, 4) == [(28, 28), (14, 14), (7, 7), (4, 4)]
    assert feature_map_sizes(64, 64, 4) == [(64, 64), (32, 32), (16, 16), (8, 8)]


def test_resnet50_v2_encoder_parameter_count(abstract_init, num_params):
    encoder = ResNetV2Encoder(stage_sizes=(3, 4, 6, 3), width=64)
    variables = abstract_init(encoder, (1, 64, 64, 3), train=False)
    assert num_params(variables["params"]) == resnet_v2_encoder(3, (3, 4, 6, 3), 64)


def test_resize_nearest_and_its_gradient():
    x = jax.random.normal(jax.random.key(0), (1, 4, 4, 2))
    np.testing.assert_array_equal(resize_nearest(x, (8, 8)),
                                  np.repeat(np.repeat(x, 2, axis=1), 2, axis=2))
    source = np.floor((np.arange(7) + 0.5) * 4 / 7).astype(int)  # half-pixel centres
    np.testing.assert_array_equal(resize_nearest(x, (7, 7)),
                                  np.asarray(x)[:, source][:, :, source])
    # The gradient counts how often each input pixel is copied.
    grad = jax.grad(lambda h: resize_nearest(h, (7, 7)).sum())(x)
    uses = np.bincount(source, minlength=4)
    np.testing.assert_array_equal(grad[0, :, :, 0], np.outer(uses, uses))


@pytest.mark.parametrize("image_shape,final", [((28, 28, 1), 4), ((64, 64, 3), 8)])
def test_mirrored_shapes(image_shape, final, conv_output_sizes):
    config = ml_collections.ConfigDict(dict(arch="resnet_v2", encoder="gaussian", latent_dim=3,
                                            logvar_clamp=5.0, output_activation="tanh",
                                            stage_sizes=(1, 1, 1, 1), resnet_width=2))
    model = build_autoencoder(config, image_shape)
    sizes = conv_output_sizes(model, image_shape)
    encoder, decoder = sizes[:17], sizes[17:]  # stem + 4 blocks of 4 convs (all project)
    spatial = {s[0] for s in encoder}
    assert encoder[0] == (*image_shape[:2], 2) and encoder[-1] == (final, final, 64)
    assert spatial == {image_shape[0] // 2**i for i in range(3)} | {final}
    assert {s[0] for s in decoder} == spatial  # the decoder visits the same resolutions
    assert len(decoder) == 3 + 3 * 4 + 1 and decoder[-1] == image_shape
    mean, logvar, x_hat = jax.eval_shape(
        lambda x: model.init_with_output({"params": jax.random.key(0)}, x, False)[0],
        jax.ShapeDtypeStruct((2, *image_shape), jnp.float32))
    assert mean.shape == logvar.shape == (2, 3) and x_hat.shape == (2, *image_shape)
