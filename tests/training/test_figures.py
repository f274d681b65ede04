"""Grid layout, pair interleaving, interpolation paths, the three figures and the PNG round trip."""

import numpy as np
from PIL import Image

from wae_jax.training import figures


def test_grid_places_tile_i_at_row_major_position():
    images = np.stack([np.full((3, 4, 1), i / 10) for i in range(5)])
    canvas = figures.grid(images, columns=2)
    pad = figures.PAD
    assert canvas.shape == (3 * (3 + pad) + pad, 2 * (4 + pad) + pad, 1)
    for i in range(5):
        r, c = divmod(i, 2)
        top, left = pad + r * (3 + pad), pad + c * (4 + pad)
        assert np.all(canvas[top:top + 3, left:left + 4] == int(i / 10 * 255 + 0.5))
    # The unused sixth cell and the padding stay white.
    assert np.all(canvas[pad + 2 * (3 + pad):, pad + (4 + pad):] == 255)


def test_to_uint8_clips_and_rounds():
    np.testing.assert_array_equal(figures.to_uint8(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])),
                                  [0, 0, 128, 255, 255])


def test_interleave_pairs_originals_with_reconstructions():
    originals, reconstructions = np.zeros((3, 2, 2, 1)), np.ones((3, 2, 2, 1))
    out = figures.interleave(originals, reconstructions)
    assert [float(x[0, 0, 0]) for x in out] == [0, 1, 0, 1, 0, 1]


def test_interpolation_latents_are_straight_lines_with_both_ends():
    rng = np.random.default_rng(0)
    start, end = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    path = figures.interpolation_latents(start, end, 5).reshape(2, 5, 3)
    np.testing.assert_allclose(path[:, 0], start, rtol=1e-6)
    np.testing.assert_allclose(path[:, -1], end, rtol=1e-6)
    np.testing.assert_allclose(path[:, 2], (start + end) / 2, rtol=1e-6)


def test_interpolation_path_joins_codes_0_1_then_2_3_and_caps_the_rows():
    codes = np.arange(2 * figures.NUM_PAIRS + 3, dtype=np.float32)[:, None] * [1.0, -2.0]
    path = figures.interpolation_path(codes).reshape(figures.NUM_PAIRS,
                                                     figures.NUM_INTERPOLATION_STEPS, 2)
    for row in range(figures.NUM_PAIRS):
        expected = np.linspace(codes[2 * row], codes[2 * row + 1], figures.NUM_INTERPOLATION_STEPS)
        np.testing.assert_allclose(path[row], expected, rtol=1e-6)
    assert figures.interpolation_path(codes[:5]).shape == (2 * figures.NUM_INTERPOLATION_STEPS, 2)


def test_figure_grids_lay_out_the_three_figures():
    """9 samples: 3 columns; 4 originals beside their reconstructions in rows of 6 tiles."""
    def tiles(image, rows, columns, size=4):
        pad = figures.PAD
        return image.shape == (rows * (size + pad) + pad, columns * (size + pad) + pad, 1)

    originals, reconstructions = np.zeros((4, 4, 4, 1)), np.ones((4, 4, 4, 1))
    interpolations = np.full((2 * figures.NUM_INTERPOLATION_STEPS, 4, 4, 1), 0.5)
    grids = figures.figure_grids(originals, reconstructions, np.zeros((9, 4, 4, 1)),
                                 interpolations)
    assert tiles(grids["samples"], 3, 3)
    assert tiles(grids["reconstructions"], 2, 6)
    assert tiles(grids["interpolations"], 2, figures.NUM_INTERPOLATION_STEPS)
    pad = figures.PAD
    first_row = grids["reconstructions"][pad, pad::4 + pad, 0][:6]
    np.testing.assert_array_equal(first_row, [0, 255, 0, 255, 0, 255])  # original, its copy


def test_data_to_unit_maps_symmetric_pixels():
    np.testing.assert_allclose(figures.data_to_unit(np.array([-1.0, 0.0, 1.0]), "symmetric"),
                               [0.0, 0.5, 1.0])


def test_save_png_round_trip(tmp_path):
    grey = figures.grid(np.random.default_rng(1).random((4, 5, 5, 1)), 2)
    colour = figures.grid(np.random.default_rng(2).random((4, 5, 5, 3)), 2)
    figures.save_png(str(tmp_path / "a" / "grey.png"), grey)
    figures.save_png(str(tmp_path / "colour.png"), colour)
    with Image.open(tmp_path / "a" / "grey.png") as image:
        assert image.mode == "L"
        np.testing.assert_array_equal(np.asarray(image), grey[..., 0])
    with Image.open(tmp_path / "colour.png") as image:
        assert image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), colour)
