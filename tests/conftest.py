"""The session's fabricated MNIST, prepared offline (no test downloads anything).

The official IDX files are written from synthetic digits (tests/training/tiny.py) and
prepared with wae_jax.data.prepare into a temporary data dir, which every test config
points at: tests/training, tests/evaluation and the notebook test share it.
"""

import atexit
import collections
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

# XLA's new CPU fusion emitters off in every test process (subprocesses inherit it): the
# same arithmetic up to round-off, compiled 2-3x faster (tests/fast_compilation.py). The
# main job, the notebooks' users and the benchmarks keep XLA's defaults.
from tests import fast_compilation  # noqa: E402 (imports jax: after the cache settings)

os.environ["XLA_FLAGS"] = " ".join(
    [os.environ.get("XLA_FLAGS", ""), fast_compilation.NEW_EMITTERS_OFF]).strip()

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


# The modules that take a minute or more of one worker (pytest --durations, session 13),
# longest first. They are handed out before all others (setup.cfg turns off xdist's
# own order, by number of tests): a worker that drew one of them last would finish alone.
LONGEST_MODULES = ("tests/test_notebooks.py", "tests/training/test_population_step.py",
                   "tests/test_main.py", "tests/sweeps/test_ray_sweep.py",
                   "tests/training/test_population_trainer.py", "tests/studies/test_augment.py",
                   "tests/training/test_trainer.py", "tests/studies/test_w2_protocol.py",
                   "tests/test_workdir_evaluation.py")


def pytest_collection_modifyitems(items):
    """The longest modules first, then the others by number of tests (xdist's order)."""
    modules = [item.nodeid.split("::")[0] for item in items]
    counts = collections.Counter(modules)
    rank = {name: i for i, name in enumerate(LONGEST_MODULES)}
    order = sorted(range(len(items)), key=lambda i: (rank.get(modules[i], len(rank)),
                                                     -counts[modules[i]], modules[i]))
    items[:] = [items[i] for i in order]
