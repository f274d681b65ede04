"""The session's fabricated MNIST, prepared offline (no test downloads anything).

The official IDX files are written from synthetic digits (tests/training/tiny.py) and
prepared with wae_jax.data.prepare into a temporary data dir, which every test config
points at: tests/training, tests/evaluation and the notebook test share it.
"""

import atexit
import os
import pathlib
import shutil
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # configs/ and tests/ are imported as top-level packages
    sys.path.insert(0, str(ROOT))

# One persistent compilation cache for the session, set before jax is imported: tests
# and their subprocesses build the same programs again and again (every
# train_and_evaluate jits afresh), and a program compiled once is then only loaded.
# Programs compiled in under 0.1 s (eager ops, mostly) are not worth a file.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _JAX_CACHE = tempfile.mkdtemp(prefix="wae_jax_tests_jax_cache_")
    atexit.register(shutil.rmtree, _JAX_CACHE, ignore_errors=True)
    os.environ.update({"JAX_COMPILATION_CACHE_DIR": _JAX_CACHE,
                       "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.1",
                       "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"})

from wae_jax.data import preparation  # noqa: E402
from tests.training import tiny  # noqa: E402


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> str:
    """A data dir holding a prepared 64 + 16 image 'mnist'."""
    raw = tmp_path_factory.mktemp("raw_mnist")
    tiny.write_raw_mnist(raw)
    root = tmp_path_factory.mktemp("tfds")
    preparation.prepare("mnist", root, raw, verify_counts=False)
    return str(root)
