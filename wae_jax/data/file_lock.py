"""Steps that processes sharing a folder must take one at a time.

Two study jobs on one machine share the data dir (preparing a data set) and may share a
workdir (the W2 protocol's augmentation step). An exclusive fcntl.flock serializes them;
the kernel releases it when the holder's file is closed or its process dies, so a killed
holder never blocks the next one.
"""

import contextlib
import fcntl
import os
from typing import Iterator


@contextlib.contextmanager
def taken_in_turn(path: str | os.PathLike) -> Iterator[None]:
    """Waits until this process holds an exclusive flock on `path` (created if missing);
    released on exit from the block."""
    with open(path, "a") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        yield
