import gzip
import os
import pickle
import zipfile

import numpy as np
import pytest

from wae_jax.data import catalog
from wae_jax.data import mnist
from wae_jax.data import preparation
from . import conftest


def test_read_wheel_inverts_uint8_over_256_and_joins_train_and_valid(tmp_path):
    splits = conftest.fake_splits()
    read = mnist.read_wheel(conftest.write_mnist_wheel(tmp_path / mnist.MIRROR.filename, splits))
    for split, (images, labels) in splits.items():
        np.testing.assert_array_equal(read[split][0], images)  # exact, and train order kept
        np.testing.assert_array_equal(read[split][1], labels)


def test_read_wheel_rejects_pixels_that_are_not_uint8_over_256(tmp_path):
    wheel = conftest.write_mnist_wheel(tmp_path / "w.whl", conftest.fake_splits(), scale=255.0)
    with pytest.raises(ValueError, match="not uint8/256"):
        mnist.read_wheel(wheel)


class _Exploit:
    def __reduce__(self):
        return (os.remove, ("never-run",))


def test_read_wheel_refuses_pickles_that_call_anything_else(tmp_path):
    path = tmp_path / "w.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("mnist/data/mnist.pkl.gz", gzip.compress(pickle.dumps(_Exploit())))
    with pytest.raises(ValueError, match="unexpected global (posix|os).remove"):
        mnist.read_wheel(path)


def test_read_wheel_reports_a_corrupt_wheel_in_one_line(tmp_path):
    path = tmp_path / mnist.MIRROR.filename
    path.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(ValueError, match="delete it to re-fetch") as info:
        mnist.read_wheel(path)
    assert "\n" not in str(info.value)


def test_read_prefers_official_files_and_explains_when_neither_is_there(tmp_path):
    official, mirrored = conftest.fake_splits(0), conftest.fake_splits(1)
    conftest.write_official(tmp_path, official)
    conftest.write_mnist_wheel(tmp_path / mnist.MIRROR.filename, mirrored)
    np.testing.assert_array_equal(mnist.read(tmp_path)["test"][0], official["test"][0])
    with pytest.raises(FileNotFoundError, match="neither the official MNIST files"):
        mnist.read(tmp_path / "empty")


@pytest.mark.slow
def test_real_mirror_gives_the_official_class_counts():
    """Runs only where the real wheel is cached (e.g. after preparing MNIST for real)."""
    wheel = preparation.download_dir("mnist") / mnist.MIRROR.filename
    if not wheel.exists():
        pytest.skip(f"{wheel} not cached")
    for split, (images, labels) in mnist.read_wheel(wheel).items():
        assert images.shape == (sum(mnist.CLASS_COUNTS[split]), 28, 28, 1)
        assert tuple(np.bincount(labels)) == mnist.CLASS_COUNTS[split]
    assert catalog.image_shape("mnist") == images.shape[1:]
