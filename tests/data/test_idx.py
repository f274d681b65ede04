import gzip

import numpy as np
import pytest

from wae_jax.data import idx
from . import conftest


def test_read_idx_roundtrips_gzipped_and_plain(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    conftest.write_idx(tmp_path / "a-idx3-ubyte.gz", array)
    np.testing.assert_array_equal(idx.read_idx(tmp_path / "a-idx3-ubyte.gz"), array)
    plain = gzip.decompress((tmp_path / "a-idx3-ubyte.gz").read_bytes())
    (tmp_path / "a-idx3-ubyte").write_bytes(plain)
    np.testing.assert_array_equal(idx.read_idx(tmp_path / "a-idx3-ubyte"), array)


@pytest.mark.parametrize("corruption", ["truncated_payload", "not_gzip", "bad_magic"])
def test_read_idx_rejects_corrupt_files_in_one_line(tmp_path, corruption):
    path = tmp_path / "x-idx1-ubyte.gz"
    conftest.write_idx(path, np.arange(10, dtype=np.uint8))
    raw = gzip.decompress(path.read_bytes())
    if corruption == "truncated_payload":
        path.write_bytes(gzip.compress(raw[:-3]))
    elif corruption == "not_gzip":
        path.write_bytes(raw[: len(raw) // 2])
    else:
        path.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + raw[4:]))
    with pytest.raises(ValueError, match="re-download") as info:
        idx.read_idx(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_read_official_names_missing_files_and_checks_lengths(tmp_path):
    splits = conftest.fake_splits()
    conftest.write_official(tmp_path, splits)
    read = idx.read_official(tmp_path)
    for split, (images, labels) in splits.items():
        np.testing.assert_array_equal(read[split][0], images)
        np.testing.assert_array_equal(read[split][1], labels)
        assert read[split][1].dtype == np.int64
    conftest.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="does not match"):
        idx.read_official(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-images-idx3-ubyte.gz; put all four"):
        idx.read_official(tmp_path)
