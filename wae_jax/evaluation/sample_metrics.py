"""Sample-quality metrics of generated images against a dataset split, by name.

One registry serves the trainer's periodic evaluation and the evaluate CLI, so both
report the same numbers in the same form. Each metric compares features of the
samples with features of the split's first n images (cached by
`reference.reference_features`); all are lower-is-better:

  fid            Frechet distance of the TF-FID Inception's 2048-d pool features.
  kid            Kernel Inception Distance: unbiased MMD^2 under the cubic polynomial
                 kernel, mean and std over 100 random subsets of KID_SUBSET_SIZE (or
                 half the smaller set, see kid_subset_size).
  classifier_fd  Frechet distance of a small classifier's features (trained on the
                 dataset, cached; see proxy_classifier): a cheap CPU proxy that is NOT
                 FID and is comparable only between runs with the same classifier id.
"""

import dataclasses
from typing import Any, Callable, Optional, Sequence

import numpy as np

from wae_jax.evaluation import images as image_checks
from wae_jax.evaluation import proxy_classifier
from wae_jax.evaluation.features import inception_features
from wae_jax.evaluation.frechet import Statistics, feature_statistics, frechet_distance
from wae_jax.evaluation.polynomial_mmd import kernel_distance
from wae_jax.evaluation.proxy_features import classifier_features
from wae_jax.evaluation.reference import NETWORK_ID, FeatureFn, reference_features

KID_SUBSET_SIZE = 1000


@dataclasses.dataclass(frozen=True)
class Network:
    """A feature network: `id` keys its cached reference features."""
    id: str
    features: FeatureFn
    description: str


@dataclasses.dataclass(frozen=True)
class NetworkOptions:
    dataset: str
    data_dir: Optional[str]
    cache_dir: Optional[str]
    batch_size: int
    classifier_steps: int


def _inception(options: NetworkOptions) -> Network:
    return Network(NETWORK_ID,
                   lambda x: inception_features(x, batch_size=options.batch_size),
                   f"{NETWORK_ID}: TF-FID Inception-v3 (2015-12-05 graph), 2048-d pool "
                   "features")


def _proxy_classifier(options: NetworkOptions) -> Network:
    proxy = proxy_classifier.proxy_classifier(
        options.dataset, data_dir=options.data_dir, cache_dir=options.cache_dir,
        num_steps=options.classifier_steps)
    return Network(proxy.id,
                   lambda x: classifier_features(proxy.model, proxy.variables, x),
                   f"proxy classifier {proxy.id} (test accuracy {proxy.test_accuracy:.4f}), "
                   "penultimate ReLU features; not Inception")


NETWORKS: dict[str, Callable[[NetworkOptions], Network]] = {
    "inception": _inception, "proxy_classifier": _proxy_classifier}


def _frechet(generated: np.ndarray, reference: Statistics) -> dict[str, float]:
    stats = feature_statistics(generated)
    return {"value": frechet_distance(stats.mu, stats.sigma, reference.mu, reference.sigma)}


def kid_subset_size(num_generated: int, num_reference: int) -> int:
    """KID_SUBSET_SIZE, or half the smaller set: subsets as large as a whole set would all
    be that set, and their spread (the error bar) would be zero."""
    return max(2, min(KID_SUBSET_SIZE, min(num_generated, num_reference) // 2))


def _kid(generated: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    subset = kid_subset_size(len(generated), len(reference))
    mean, std = kernel_distance(generated, reference, subset_size=subset)
    return {"value": mean, "std": std, "subset_size": subset}


@dataclasses.dataclass(frozen=True)
class Metric:
    network: str  # a key of NETWORKS
    prepare: Callable[[np.ndarray], Any]  # reference features -> what `score` compares with
    score: Callable[[np.ndarray, Any], dict[str, float]]  # "value" plus details


METRICS: dict[str, Metric] = {
    "fid": Metric("inception", feature_statistics, _frechet),
    "kid": Metric("inception", np.asarray, _kid),
    "classifier_fd": Metric("proxy_classifier", feature_statistics, _frechet),
}


def check_metric_names(names: Sequence[str], field: str = "metrics") -> None:
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise ValueError(f"{field}={tuple(names)}: unknown {unknown}; use names from "
                         f"{tuple(METRICS)}")


class SampleScorer:
    """`scorer(samples) -> {metric: {"value", "num_samples", "reference", "network", ...}}`.

    Networks and reference features are set up once, at construction (minutes the first
    time for Inception on a CPU, then read from the cache); each call then costs only the
    samples' features and the distances.
    """

    def __init__(self, metrics: Sequence[str], dataset: str, *, split: str = "test",
                 reference_n: Optional[int] = None, data_dir: Optional[str] = None,
                 cache_dir: Optional[str] = None, batch_size: int = 50,
                 classifier_steps: int = proxy_classifier.DEFAULT_NUM_STEPS):
        check_metric_names(metrics)
        self._metrics = tuple(metrics)
        options = NetworkOptions(dataset, data_dir, cache_dir, batch_size, classifier_steps)
        self._networks = {name: NETWORKS[name](options)
                          for name in sorted({METRICS[m].network for m in self._metrics})}
        references = {name: reference_features(dataset, split, reference_n, network_id=net.id,
                                               features=net.features, cache_dir=cache_dir,
                                               data_dir=data_dir)
                      for name, net in self._networks.items()}
        self._prepared = {m: METRICS[m].prepare(references[METRICS[m].network])
                          for m in self._metrics}
        count = len(next(iter(references.values()))) if references else 0
        self._reference = {"dataset": dataset, "split": split, "n": count}

    def __call__(self, samples: np.ndarray) -> dict[str, dict[str, Any]]:
        """Samples: uint8, or floats in [0, 1] (rounded to 8 bits first, as when saved)."""
        samples = image_checks.to_uint8(samples, "samples")
        features = {name: net.features(samples) for name, net in self._networks.items()}
        results = {}
        for name in self._metrics:
            metric = METRICS[name]
            results[name] = {**metric.score(features[metric.network], self._prepared[name]),
                             "num_samples": len(samples), "reference": self._reference,
                             "network": self._networks[metric.network].description}
        return results
