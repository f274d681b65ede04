"""Tiny configs, models, batches and synthetic MNIST files for the training tests."""

import gzip
import importlib
import os
import pathlib
import struct
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from tests import fast_compilation
from wae_jax import models
from wae_jax.data import idx
from wae_jax.training.state import create_train_state

ROOT = pathlib.Path(__file__).resolve().parents[2]
NUM_TRAIN, NUM_TEST = 64, 16
SHAPE = (28, 28, 1)
CONFIGS = {"vae": "mnist_vae", "w2vae": "mnist_w2vae", "wae_mmd": "mnist_mmd",
           "wae_gan": "mnist_gan"}


def synthetic_digits(num: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [N, 28, 28] images with a bright bar whose row encodes the label, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(num) % 10
    images = rng.integers(0, 40, (num, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels):
        row = 3 + 2 * label
        image[row:row + 3, 4:24] = 255
    return images, labels.astype(np.uint8)


def write_idx(path: pathlib.Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_raw_mnist(directory: pathlib.Path) -> None:
    """The four official MNIST IDX files, holding NUM_TRAIN + NUM_TEST synthetic digits."""
    for split, num, seed in (("train", NUM_TRAIN, 0), ("test", NUM_TEST, 1)):
        images, labels = synthetic_digits(num, seed)
        images_file, labels_file = idx.OFFICIAL_FILES[split]
        write_idx(directory / images_file, images)
        write_idx(directory / labels_file, labels)


def tiny_config(method: str, data_dir: str, name: str | None = None, **overrides):
    """The method's MNIST config (or configs/<name>.py) at `:tiny` size on the fabricated data."""
    module = importlib.import_module(f"configs.{name or CONFIGS[method]}")
    config = module.get_config("tiny")
    config.data_dir = data_dir
    for field, value in overrides.items():
        config[field] = value
    return config


def run_main(workdir, config_name: str, *flags: str, env: dict | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m wae_jax.main --config=configs/<config_name> --workdir=... <flags>`."""
    command = [sys.executable, "-m", "wae_jax.main", f"--config=configs/{config_name}",
               f"--workdir={workdir}", *flags]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def setup_model(method, arch="mlp", **overrides):
    """MLP nets by default: no batch norm, whose structurally-zero bias gradients make
    Adam's first step (about lr * sign(g)) sensitive to rounding noise; fast to compile."""
    config = tiny_config(method, "", **overrides)
    config.model.arch = arch
    model = models.build_autoencoder(config.model, SHAPE)
    adversary = models.build_adversary(config.model) if method == "wae_gan" else None
    state = create_state(config, model, adversary, jax.random.PRNGKey(0))
    return config, model, adversary, state


def create_state(config, model, adversary, key):
    """A train state built by one jitted call (eager init dispatches hundreds of ops)."""
    return fast_compilation.jit(
        lambda k: create_train_state(config, model, adversary, SHAPE, k))(key)


def random_batch(seed=0, n=8):
    """Uniform noise images: enough for checks of the update arithmetic."""
    images = jax.random.uniform(jax.random.PRNGKey(seed), (n, *SHAPE))
    return {"image": images, "label": jnp.zeros(n, jnp.int32)}
