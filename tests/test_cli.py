"""wae_jax.cli: the one-line error, the library INFO records dropped from the logs, and
glibc's malloc thresholds."""

import json
import logging as std_logging
import os
import subprocess
import sys

import pytest
from absl import logging

from wae_jax import cli


def test_exit_with_writes_one_line_and_the_status(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.exit_with("bad value\n  use  another", 2)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: bad value use another\n"


def _record(pathname: str, level: int) -> std_logging.LogRecord:
    return std_logging.LogRecord("absl", level, pathname, 1, "message", None, None)


@pytest.fixture
def absl_handler():
    """The absl handler without the filters a test adds, at the default verbosity."""
    handler, verbosity = logging.get_absl_handler(), logging.get_verbosity()
    filters = list(handler.filters)
    yield handler
    handler.filters[:] = filters
    logging.set_verbosity(verbosity)


@pytest.mark.parametrize("pathname, level, kept", [
    ("/site-packages/orbax/checkpoint/checkpoint_manager.py", std_logging.INFO, False),
    ("/site-packages/orbax/checkpoint/checkpoint_manager.py", std_logging.WARNING, True),
    ("/site-packages/tensorflow_datasets/core/dataset_info.py", std_logging.INFO, False),
    ("/site-packages/jax/_src/xla_bridge.py", std_logging.INFO, False),
    ("/site-packages/jax/_src/xla_bridge.py", std_logging.WARNING, True),
    ("/repo/wae_jax/training/trainer.py", std_logging.INFO, True),
])
def test_library_info_is_dropped_at_the_default_verbosity(absl_handler, pathname, level, kept):
    logging.set_verbosity(logging.INFO)
    cli.quiet_library_logs()
    assert bool(absl_handler.filter(_record(pathname, level))) == kept


def test_verbosity_1_keeps_everything(absl_handler):
    logging.set_verbosity(logging.DEBUG)
    cli.quiet_library_logs()
    assert absl_handler.filter(_record("/site-packages/orbax/x.py", std_logging.INFO))


# A child process: (did keep_freed_buffers set both thresholds, bytes of the 64 MiB block
# that glibc mmapped, bytes of it still in the heap's free lists after free()).
MALLOC_PROBE = """
import ctypes, json
from wae_jax import cli

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype, libc.malloc.restype = MallInfo2, ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
kept = cli.keep_freed_buffers()
before = libc.mallinfo2()
block = libc.malloc(64 << 20)
mapped = libc.mallinfo2().hblkhd - before.hblkhd
libc.free(block)
print(json.dumps([kept, mapped, libc.mallinfo2().fordblks - before.fordblks]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("env, kept", [("1", True), ("0", False)])
def test_keep_freed_buffers_keeps_a_large_freed_block_in_the_heap(env, kept):
    """glibc's own counters (mallinfo2): by default a 64 MiB block is a fresh mmap that
    free() unmaps; after keep_freed_buffers it comes from the heap and stays there."""
    result = subprocess.run([sys.executable, "-c", MALLOC_PROBE], capture_output=True,
                            text=True, env={**os.environ, cli.MALLOPT_ENV: env}, check=True)
    was_kept, mapped, freed_in_heap = json.loads(result.stdout)
    assert was_kept is kept
    if kept:
        assert mapped == 0 and freed_in_heap >= 64 << 20
    else:
        assert mapped >= 64 << 20 and freed_in_heap < 64 << 20
