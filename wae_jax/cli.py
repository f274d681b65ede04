"""What every command line shares: flag errors, exit status and readable logs.

`run(main)` replaces `absl.app.run(main)` in wae_jax.main, wae_jax.evaluate and
wae_jax.data.prepare: bad flags or arguments end with one `error: ...` line on stderr
and status 2 (absl prints its usage and uses 1), and at the default verbosity the
INFO chatter of libraries is dropped (their warnings stay):
- orbax: dozens of lines per checkpoint save;
- tensorflow_datasets: "Load dataset info from ..." each time a builder is made;
- jax: "Unable to initialize backend 'tpu'" (libtpu absent) when it probes the
  optional backends, which it does whenever JAX_PLATFORMS is unset.
`--verbosity=1` shows them all again. It also sets glibc's malloc to keep freed large
buffers (keep_freed_buffers). This module imports nothing from wae_jax, so a command
line at any layer can use it.
"""

import ctypes
import logging as std_logging
import os
import sys
from typing import Callable, NoReturn

from absl import app, flags, logging
import ml_collections

# Source files whose INFO records are dropped at the default verbosity (see above).
CHATTY_SOURCES = ("/orbax/", "/tensorflow_datasets/core/dataset_info.py",
                  "/jax/_src/xla_bridge.py")


def exit_with(message: str, status: int) -> NoReturn:
    """Ends the program with `error: <message>` on one line of stderr."""
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    sys.exit(status)


def config_value(holder: flags.FlagHolder) -> ml_collections.ConfigDict:
    """The parsed --config; config_flags defers a missing or broken file's error to the
    first use of the value, which is here: exit 2 with it."""
    config = holder.value
    if not isinstance(config, ml_collections.ConfigDict):
        try:
            config.keys()
        except OSError as error:
            exit_with(str(error), 2)
    return config


def parse_flags(argv: list[str]) -> list[str]:
    """absl's parser, but bad flags end with one line and status 2.

    config_flags reports an override of an unknown field as an AttributeError, and a
    get_config that raises as a flag error holding the traceback.
    """
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        message = str(error)
        if "Traceback" in message:  # get_config raised: keep the flag and the exception
            message = message.split("Traceback")[0] + message.strip().splitlines()[-1]
        exit_with(message, 2)
    except AttributeError as error:
        inner = error.args[0] if error.args else error
        detail = inner.args[0] if isinstance(inner, KeyError) and inner.args else inner
        exit_with(f"unknown config field {detail}", 2)


def _is_wanted(record: std_logging.LogRecord) -> bool:
    return (record.levelno >= std_logging.WARNING
            or not any(source in record.pathname for source in CHATTY_SOURCES))


def quiet_library_logs() -> None:
    """Drops the libraries' INFO records listed in CHATTY_SOURCES, unless --verbosity >= 1."""
    if logging.get_verbosity() < logging.DEBUG:
        logging.get_absl_handler().addFilter(_is_wanted)


MALLOPT_ENV = "WAE_JAX_MALLOPT"  # "0": leave glibc's malloc settings alone
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
FREED_BUFFER_LIMIT = 1 << 30  # bytes: both thresholds


def keep_freed_buffers() -> bool:
    """Raises glibc's mmap and trim thresholds to 1 GiB; True when both were set.

    XLA:CPU mallocs each execution's temporary buffers. glibc serves a request above its
    mmap threshold (at most 32 MiB by default) with a fresh mmap and unmaps it on free,
    so a step with larger temporaries faults all their pages in again, every step; with
    the thresholds raised the freed buffers stay in the heap for the next step. The
    per-class study's ten generators train 1.44x faster on one CPU core beside another
    job, 1.09x on two idle cores (benchmarks/host_allocator.py, docs/results.md); the
    cost is a heap that keeps its peak size. Nothing where libc is not glibc, or with
    WAE_JAX_MALLOPT=0.
    """
    if os.environ.get(MALLOPT_ENV) == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return all([libc.mallopt(M_MMAP_THRESHOLD, FREED_BUFFER_LIMIT) == 1,
                    libc.mallopt(M_TRIM_THRESHOLD, FREED_BUFFER_LIMIT) == 1])
    except (OSError, AttributeError):  # not glibc
        return False


def run(main: Callable[[], None]) -> None:
    """absl.app.run for a command that takes flags only (no positional arguments)."""
    def main_with_argv(argv: list[str]) -> None:
        if len(argv) > 1:
            exit_with(f"unexpected arguments {argv[1:]}: use --flag=value", 2)
        quiet_library_logs()
        keep_freed_buffers()
        main()

    app.run(main_with_argv, flags_parser=parse_flags)
