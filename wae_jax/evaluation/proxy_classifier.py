"""The trained classifier behind classifier_fd, trained once per data set and cached.

classifier_fd compares feature statistics, so its numbers are comparable only between
runs that use the same weights. The cache key therefore names everything that makes the
weights: a content hash of the training images and labels (another data_dir with other
data never reuses a classifier) and the training settings.

The net is the augmentation paper's CNN narrowed to PROXY_WIDTHS: 3.7 MFLOP per 28x28
image forward against the paper's 135. Measured on 2 shared CPU cores (load 2-4), 2000
steps of batch 64 train in 45-52 s to 99.0% MNIST / 88.1% Fashion-MNIST test accuracy,
and 10k images' features take 0.7 s. Dropout 0.25, not the paper's 0.5: at these widths
0.5 cost 0.4 (MNIST) and 3 (Fashion-MNIST) accuracy points. Batch 64, not 128: on CPU
it trains ~1.5x more examples per second (the activations fit in cache).
"""

import dataclasses
import functools
import os
from pathlib import Path
from typing import Any

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

from wae_jax.evaluation import images as image_checks
from wae_jax.evaluation.batching import map_batches
from wae_jax.evaluation.inception_weights import default_cache_dir
from wae_jax.evaluation.reference import content_hash
from wae_jax.files import atomic_file, json_file
from wae_jax.models.classifier import Classifier

PROXY_WIDTHS = (8, 16, 32, 32)
PROXY_HIDDEN = 128  # classifier_fd's feature size
PROXY_DROPOUT = 0.25
DEFAULT_NUM_STEPS = 2000
BATCH_SIZE = 64
SEED = 0
LEARNING_RATE = 1e-3
CACHE_SUBDIR = "proxy_classifiers"


@dataclasses.dataclass(frozen=True)
class ProxyClassifier:
    """A trained Classifier ready for proxy_features.classifier_fd(model, variables, ...)."""
    model: nn.Module
    variables: Any
    id: str  # names the cache file: <dataset>_<data hash>_<settings>
    test_accuracy: float


def _check_labelled(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels: shape {labels.shape}, need ({len(images)},), one class "
                         "index per image")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError("labels: need non-negative integer class indices; classifier_fd "
                         "needs a labelled dataset")
    return labels


def _proxy_model(labels: np.ndarray, widths: tuple[int, int, int, int],
                 dropout_rate: float) -> Classifier:
    """Classes 0..max(labels); the same model for training and for loading the cache."""
    return Classifier(num_classes=int(labels.max()) + 1, dropout_rate=dropout_rate,
                      widths=widths, hidden=PROXY_HIDDEN)


def _cross_entropy(model: nn.Module, params: Any, images: jax.Array, labels: jax.Array,
                   dropout_key: jax.Array) -> jax.Array:
    logits = model.apply({"params": params}, images, train=True, rngs={"dropout": dropout_key})
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


@functools.partial(jax.jit, static_argnums=0)
def _init_params(model: nn.Module, key: jax.Array, image: jax.Array) -> Any:
    return model.init(key, image, train=False)["params"]


@functools.partial(jax.jit, static_argnums=0)
def _train_step(model: nn.Module, learning_rate: jax.Array, params: Any, opt_state: Any,
                images: jax.Array, labels: jax.Array,
                dropout_key: jax.Array) -> tuple[Any, Any, jax.Array]:
    """One Adam step; jitted once per model and batch shape (the rate is traced)."""
    loss, grads = jax.value_and_grad(functools.partial(_cross_entropy, model))(
        params, images, labels, dropout_key)
    updates, opt_state = optax.adam(learning_rate).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def _batch_indices(n: int, batch_size: int, num_steps: int, seed: int) -> np.ndarray:
    """[num_steps, batch_size] example indices: consecutive epochs of seeded permutations."""
    rng = np.random.default_rng(seed)
    epochs = -(-num_steps * batch_size // n)
    order = np.concatenate([rng.permutation(n) for _ in range(epochs)])
    return order[:num_steps * batch_size].reshape(num_steps, batch_size)


def _unit_float32(images: np.ndarray) -> np.ndarray:
    return image_checks.to_unit_float(images).astype(np.float32)


def train_classifier(images: np.ndarray, labels: np.ndarray, *, num_steps: int,
                     batch_size: int = BATCH_SIZE, seed: int = SEED,
                     widths: tuple[int, int, int, int] = PROXY_WIDTHS,
                     learning_rate: float = LEARNING_RATE,
                     dropout_rate: float = PROXY_DROPOUT) -> tuple[nn.Module, Any]:
    """Adam on softmax cross-entropy with dropout; deterministic given `seed`.

    Images follow the metric convention (uint8, or floats in [0, 1]) and are fed as
    float32 in [0, 1], as classifier_features feeds them. Classes: 0..max(labels).
    Returns (model, {"params": ...}).
    """
    if num_steps < 1:
        raise ValueError(f"num_steps={num_steps}: train for at least one step")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: must be a positive integer")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"dropout_rate={dropout_rate}: use a value in [0, 1)")
    images = image_checks.check_images(images)
    labels = _check_labelled(images, labels)
    model = _proxy_model(labels, tuple(widths), dropout_rate)
    init_key, dropout_key = jax.random.split(jax.random.key(seed))
    params = _init_params(model, init_key, jnp.zeros((1,) + images.shape[1:], jnp.float32))
    opt_state = optax.adam(learning_rate).init(params)
    rate = jnp.float32(learning_rate)
    for step, batch in enumerate(_batch_indices(len(images), batch_size, num_steps, seed)):
        params, opt_state, _ = _train_step(model, rate, params, opt_state,
                                           _unit_float32(images[batch]),
                                           labels[batch].astype(np.int32),
                                           jax.random.fold_in(dropout_key, step))
    return model, {"params": jax.device_get(params)}


@functools.partial(jax.jit, static_argnums=0)
def _predict(model: nn.Module, variables: Any, batch: jax.Array) -> jax.Array:
    return jnp.argmax(model.apply(variables, batch, train=False), axis=-1)


def accuracy(model: nn.Module, variables: Any, images: np.ndarray, labels: np.ndarray,
             batch_size: int = 500) -> float:
    """Fraction of images whose arg-max logit is the label (inference mode, no dropout)."""
    images = image_checks.check_images(images)
    labels = _check_labelled(images, labels)
    predictions = map_batches(lambda batch: _predict(model, variables, _unit_float32(batch)),
                              images, batch_size)
    return float(np.mean(predictions == labels))


def _settings(num_steps: int) -> dict[str, Any]:
    return {"widths": list(PROXY_WIDTHS), "hidden": PROXY_HIDDEN, "dropout": PROXY_DROPOUT,
            "num_steps": num_steps, "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE,
            "seed": SEED}


def _settings_tag(settings: dict[str, Any]) -> str:
    widths = "-".join(map(str, settings["widths"]))
    return (f"w{widths}-h{settings['hidden']}-d{settings['dropout']:g}_n{settings['num_steps']}"
            f"_b{settings['batch_size']}_lr{settings['learning_rate']:g}_s{settings['seed']}")


def _load(model: nn.Module, params_path: Path, image_shape: tuple[int, ...]) -> Any:
    """Cached params, checked against the shapes `model.init` would make."""
    expected = jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0),
                              jax.ShapeDtypeStruct((1,) + image_shape, jnp.float32))
    variables = flax.serialization.msgpack_restore(params_path.read_bytes())
    shapes = jax.tree.map(np.shape, variables)
    if shapes != jax.tree.map(lambda leaf: leaf.shape, expected):
        raise ValueError(f"{params_path}: parameters do not fit the proxy classifier; delete "
                         "the file to retrain")
    return variables


def proxy_classifier(dataset: str, *, data_dir: str | os.PathLike | None = None,
                     cache_dir: str | os.PathLike | None = None,
                     num_steps: int = DEFAULT_NUM_STEPS) -> ProxyClassifier:
    """The cached proxy classifier of `dataset`'s train split, trained on first use.

    Files: <cache_dir>/proxy_classifiers/<id>.msgpack (params) and <id>.json (test
    accuracy, settings, data hash); cache_dir defaults to $WAE_JAX_CACHE_DIR or
    ~/.cache/wae_jax.
    """
    from wae_jax import data  # lazy: data pulls in tensorflow_datasets

    if num_steps < 1:
        raise ValueError(f"num_steps={num_steps}: train for at least one step")
    if dataset in data.DATASETS and not data.DATASETS[dataset].labelled:
        raise ValueError(f"dataset={dataset!r} has no class labels; classifier_fd needs a "
                         "labelled dataset (mnist or fashion_mnist)")
    images, labels = data.load_arrays(dataset, "train", data_dir)
    labels = _check_labelled(images, labels)
    digest = content_hash(images, labels)
    settings = _settings(num_steps)
    proxy_id = f"{dataset}_{digest[:8]}_{_settings_tag(settings)}"
    directory = Path(cache_dir if cache_dir is not None else default_cache_dir()) / CACHE_SUBDIR
    params_path = directory / f"{proxy_id}.msgpack"
    info_path = directory / f"{proxy_id}.json"
    model = _proxy_model(labels, PROXY_WIDTHS, PROXY_DROPOUT)
    if params_path.exists() and info_path.exists():
        info = json_file.read(info_path)
        return ProxyClassifier(model, _load(model, params_path, images.shape[1:]), proxy_id,
                               info["test_accuracy"])
    logging.info("Training proxy classifier %s (%d steps).", proxy_id, num_steps)
    model, variables = train_classifier(images, labels, num_steps=num_steps,
                                        batch_size=BATCH_SIZE, seed=SEED, widths=PROXY_WIDTHS,
                                        learning_rate=LEARNING_RATE, dropout_rate=PROXY_DROPOUT)
    test_accuracy = accuracy(model, variables, *data.load_arrays(dataset, "test", data_dir))
    logging.info("Proxy classifier %s: test accuracy %.4f.", proxy_id, test_accuracy)
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_file.replaced(params_path, "wb") as f:
        f.write(flax.serialization.msgpack_serialize(jax.tree.map(np.asarray, variables)))
    json_file.write(info_path, {"test_accuracy": test_accuracy, "settings": settings,
                                "data_sha256": digest})
    return ProxyClassifier(model, variables, proxy_id, test_accuracy)
