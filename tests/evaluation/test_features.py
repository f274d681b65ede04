"""The TF-FID input protocol and the batching of inception_features (network stubbed)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.evaluation import features


def test_resize_matrix_upsampling_by_two_is_tf_legacy():
    # TF1 ResizeBilinear(align_corners=False): out[i] samples in[i / 2]; the last
    # output pixel clamps to the last input pixel instead of extrapolating.
    a = features.resize_matrix(4, 8)
    x = np.array([1.0, 3.0, 7.0, 15.0])
    np.testing.assert_allclose(a @ x, [1, 2, 3, 5, 7, 11, 15, 15])


def test_resize_matrix_downsampling_and_identity():
    np.testing.assert_allclose(features.resize_matrix(6, 3) @ np.arange(6.0), [0, 2, 4])
    np.testing.assert_array_equal(features.resize_matrix(5, 5), np.eye(5))
    rows = features.resize_matrix(28, 299)
    np.testing.assert_allclose(rows.sum(1), 1.0, rtol=1e-6)
    src = 100 * 28 / 299  # a generic fractional coordinate
    expected = np.zeros(28)
    expected[int(src)], expected[int(src) + 1] = 1 - src % 1, src % 1
    np.testing.assert_allclose(rows[100], expected, atol=1e-6)


def test_resize_bilinear_is_separable_rows_then_columns():
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 7, 3)).astype(np.float32)
    out = np.asarray(features.resize_bilinear_tf(jnp.asarray(x), 11))
    ref = np.einsum("oh,nhwc,pw->nopc", features.resize_matrix(5, 11).astype(np.float64),
                    x.astype(np.float64), features.resize_matrix(7, 11).astype(np.float64))
    np.testing.assert_allclose(out, ref, rtol=1e-5)


def test_inception_input_range_and_grayscale_replication():
    grey = np.zeros((1, 299, 299, 1), np.uint8)  # already 299: no resize
    grey[:, :, 100:200], grey[:, :, 200:] = 128, 255
    x = np.asarray(features.inception_input(jnp.asarray(grey)))
    assert x.shape == (1, 299, 299, 3)
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    assert x.min() == -1.0 and x.max() == 127 / 128
    rgb = np.repeat(np.random.default_rng(0).integers(0, 256, (2, 28, 28, 1), np.uint8), 3, -1)
    np.testing.assert_allclose(features.inception_input(jnp.asarray(rgb[..., :1])),
                               features.inception_input(jnp.asarray(rgb)), atol=1e-6)


@pytest.fixture
def stub_network(monkeypatch):
    """Replaces the network by per-channel means of its input, keeping preprocessing."""
    calls = []

    @jax.jit
    def fake(params, images):
        del params
        return features.inception_input(images).mean(axis=(1, 2))

    def record(params, images):
        calls.append(images.shape)
        return fake(params, images)

    monkeypatch.setattr(features, "_batch_features", record)
    return calls


def test_batches_are_padded_and_order_is_kept(stub_network):
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), np.uint8)
    out = features.inception_features(images, batch_size=2, params={})
    assert out.shape == (5, 3)
    assert stub_network == [(2, 8, 8, 3)] * 3  # last batch padded to the same shape
    one_by_one = np.concatenate([features.inception_features(images[i:i + 1], params={})
                                 for i in range(5)])
    np.testing.assert_allclose(out, one_by_one, rtol=1e-6)


def test_float_images_are_quantised_like_uint8(stub_network):
    images = np.random.default_rng(1).integers(0, 256, (3, 8, 8, 3), np.uint8)
    as_float = images.astype(np.float32) / 255 + 1e-4  # off-grid by less than half a level
    np.testing.assert_array_equal(features.inception_features(as_float, params={}),
                                  features.inception_features(images, params={}))


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 8, 8, 3), np.float32) - 1, r"\[0, 1\]"),
    (np.zeros((2, 8, 8, 4), np.uint8), "C in"),
    (np.zeros((8, 8, 3), np.uint8), "N, H, W, C"),
    (np.zeros((2, 8, 8, 3), np.int32), "dtype"),
])
def test_bad_images_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        features.inception_features(bad, params={})


def test_bad_batch_size_is_refused():
    with pytest.raises(ValueError, match="batch_size"):
        features.inception_features(np.zeros((1, 8, 8, 3), np.uint8), batch_size=0, params={})
