"""Data: MNIST, Fashion-MNIST and CelebA-64 through tfds (without TensorFlow) and grain.

See CONTRACTS.md; `python -m wae_jax.data.prepare --help` prepares data by hand.
"""

from wae_jax.data.arrays import data_source
from wae_jax.data.arrays import load_arrays
from wae_jax.data.arrays import num_examples
from wae_jax.data.arrays import UNLABELLED
from wae_jax.data.catalog import DATASETS
from wae_jax.data.catalog import image_shape
from wae_jax.data.pipeline import make_array_pipeline
from wae_jax.data.pipeline import make_train_pipeline
from wae_jax.data.pipeline import PipelineIterator
from wae_jax.data.pipeline import scale_images
from wae_jax.data.pipeline import to_global_batch
from wae_jax.data.preparation import prepare
from wae_jax.data.subsets import class_indices
from wae_jax.data.subsets import reduced_train_validation
from wae_jax.data.subsets import stratified_indices
from wae_jax.data.subsets import train_validation_indices
