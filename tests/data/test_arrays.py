import numpy as np
import pytest

from wae_jax import data
from wae_jax.data import celeba


def test_load_arrays_returns_the_stored_splits_with_contract_dtypes(prepared):
    images, labels = data.load_arrays("mnist", "train", prepared["data_dir"])
    np.testing.assert_array_equal(images, prepared["mnist"]["train"][0])
    np.testing.assert_array_equal(labels, prepared["mnist"]["train"][1])
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    assert images.shape[1:] == data.image_shape("mnist") == (28, 28, 1)
    assert data.num_examples("fashion_mnist", "test", prepared["data_dir"]) == 10


def test_celeba_arrays_are_the_cropped_faces_in_partition_order_without_labels(prepared):
    images, labels = data.load_arrays("celeb_a_64", "validation", prepared["data_dir"])
    assert images.shape == (2, 64, 64, 3) == (2, *data.image_shape("celeb_a_64"))
    assert (labels == data.UNLABELLED).all()
    index = celeba.read_index(prepared["celeba_dir"])
    np.testing.assert_array_equal(images, np.stack(list(celeba.images(index, "validation"))))
    source = data.data_source("celeb_a_64", "validation", prepared["data_dir"])
    np.testing.assert_array_equal(source[1]["attributes"], index.attributes["validation"][1])


def test_unknown_splits_and_datasets_are_one_line_value_errors(prepared):
    with pytest.raises(ValueError, match="mnist has no split 'validation'; choose one of "
                       "train, test"):
        data.load_arrays("mnist", "validation", prepared["data_dir"])
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        data.image_shape("svhn")
