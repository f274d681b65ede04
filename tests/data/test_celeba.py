import numpy as np
from PIL import Image
import pytest

from wae_jax.data import celeba
from . import conftest


def test_crop_box_is_the_centred_140_square_of_the_aligned_image():
    assert celeba.crop_box(*celeba.ALIGNED_SIZE) == (19, 39, 159, 179)


def _marked_image() -> np.ndarray:
    """Red outside the crop; inside: black, a white centred 70x70 square and a grey
    20x20 block in the crop's top-left corner."""
    image = np.zeros((218, 178, 3), np.uint8)
    image[...] = (255, 0, 0)
    image[39:179, 19:159] = 0
    image[39 + 35:39 + 105, 19 + 35:19 + 105] = 255
    image[39:59, 19:39] = 128
    return image


def test_crop_and_resize_maps_the_marks_where_expected():
    image = _marked_image()
    out = celeba.crop_and_resize(Image.fromarray(image))
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    reference = Image.fromarray(image[39:179, 19:159]).resize((64, 64), Image.LANCZOS)
    np.testing.assert_array_equal(out, np.asarray(reference))
    # Nothing from outside the crop leaks in (no red anywhere).
    assert np.abs(out[..., 0].astype(int) - out[..., 1]).max() <= 2
    # The centre square (140/2 of the crop) covers the central 32x32, centred at 31.5.
    white = out[..., 1] > 192  # above the grey mark and its ringing
    rows, cols = np.nonzero(white)
    assert abs(rows.mean() - 31.5) < 0.5 and abs(cols.mean() - 31.5) < 0.5
    assert white[18:46, 18:46].all() and not white[:14].any() and not white[:, 50:].any()
    # The corner mark stays top-left (no transposition or flip): 20/140*64 ~ 9 pixels.
    assert np.all(np.abs(out[1:8, 1:8, 1].astype(int) - 128) < 12)
    assert out[56:, 56:].max() < 5


def test_read_index_follows_partition_order_and_parses_attributes(tmp_path):
    raw = conftest.write_celeba(tmp_path, {"train": 3, "validation": 1, "test": 2})
    index = celeba.read_index(raw)
    assert index.files == {"train": ["000001.jpg", "000002.jpg", "000003.jpg"],
                           "validation": ["000004.jpg"], "test": ["000005.jpg", "000006.jpg"]}
    row = (raw / celeba.ATTRIBUTE_FILE).read_text().splitlines()[2 + 4].split()
    np.testing.assert_array_equal(index.attributes["test"][0], [v == "1" for v in row[1:]])
    images = list(celeba.images(index, "train"))
    for name, image in zip(index.files["train"], images):
        with Image.open(raw / celeba.IMAGES_DIR / name) as jpeg:
            np.testing.assert_array_equal(image, celeba.crop_and_resize(jpeg))


@pytest.mark.parametrize("damage, error, match", [
    ("no_images_dir", FileNotFoundError, "no registry mirror"),
    ("no_partition", FileNotFoundError, "list_eval_partition.txt is missing"),
    ("missing_image", FileNotFoundError, "lacks 1 images listed"),
    ("bad_header", ValueError, "not the 40 CelebA attribute names"),
    ("bad_partition_row", ValueError, "malformed row"),
    ("empty_split", ValueError, "lists no validation images"),
])
def test_read_index_errors_are_one_line_and_actionable(tmp_path, damage, error, match):
    raw = conftest.write_celeba(tmp_path, {"train": 2, "validation": 1, "test": 1})
    if damage == "no_images_dir":
        (raw / celeba.IMAGES_DIR).rename(raw / "elsewhere")
    elif damage == "no_partition":
        (raw / celeba.PARTITION_FILE).unlink()
    elif damage == "missing_image":
        (raw / celeba.IMAGES_DIR / "000002.jpg").unlink()
    elif damage == "bad_header":
        attr = raw / celeba.ATTRIBUTE_FILE
        attr.write_text(attr.read_text().replace("Smiling", "Smirking"))
    elif damage == "bad_partition_row":
        with open(raw / celeba.PARTITION_FILE, "a") as f:
            f.write("000009.jpg 7\n")
    else:
        partition = raw / celeba.PARTITION_FILE
        partition.write_text(partition.read_text().replace(" 1\n", " 0\n"))
    with pytest.raises(error, match=match) as info:
        celeba.read_index(raw)
    assert "\n" not in str(info.value)


def test_images_reject_corrupt_and_wrongly_sized_files(tmp_path):
    raw = conftest.write_celeba(tmp_path, {"train": 2, "validation": 1, "test": 1})
    first = raw / celeba.IMAGES_DIR / "000001.jpg"
    first.write_bytes(first.read_bytes()[:300])
    with pytest.raises(ValueError, match="corrupt image .*000001.jpg"):
        list(celeba.images(celeba.read_index(raw), "train"))
    Image.new("RGB", (64, 64)).save(first)
    with pytest.raises(ValueError, match="is 64x64, not the aligned 178x218"):
        list(celeba.images(celeba.read_index(raw), "train"))
