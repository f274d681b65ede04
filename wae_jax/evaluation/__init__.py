"""Evaluation metrics: FID and KID on the TF-FID Inception (a Flax port), and sharpness.

Entry points: `inception_features`, `fid`, `frechet_distance`, `kid`,
`reference_features` / `reference_statistics` (cached per dataset split and network),
`sharpness`, the CPU proxy `classifier_fd` (a Frechet distance on a small classifier's
features, not FID), and `SampleScorer`, which scores sample sets by metric name for the
trainer and the evaluate CLI. A library: it never imports wae_jax.training; evaluating
a trained workdir is the application wae_jax.workdir_evaluation.
"""

from wae_jax.evaluation.features import inception_features
from wae_jax.evaluation.frechet import Statistics
from wae_jax.evaluation.frechet import feature_statistics
from wae_jax.evaluation.frechet import fid
from wae_jax.evaluation.frechet import frechet_distance
from wae_jax.evaluation.frechet import inception_statistics
from wae_jax.evaluation.frechet import load_statistics
from wae_jax.evaluation.frechet import save_statistics
from wae_jax.evaluation.image_sharpness import sharpness
from wae_jax.evaluation.image_sharpness import sharpness_summary
from wae_jax.evaluation.inception import FIDInception
from wae_jax.evaluation.inception_weights import load_inception_params
from wae_jax.evaluation.polynomial_mmd import kernel_distance
from wae_jax.evaluation.polynomial_mmd import kid
from wae_jax.evaluation.proxy_features import classifier_fd
from wae_jax.evaluation.proxy_features import classifier_features
from wae_jax.evaluation.reference import reference_features
from wae_jax.evaluation.reference import reference_statistics
from wae_jax.evaluation.sample_metrics import SampleScorer
