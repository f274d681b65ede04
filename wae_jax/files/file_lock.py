"""Work that processes sharing a folder must do one at a time, or only once.

Study jobs on one machine share the data dir (preparing a data set) and may share a
workdir (the W2 protocol's augmentation step, the per-class study's cells). An exclusive
fcntl.flock serializes them (`taken_in_turn`) or lets one of them claim a piece of work
that the others then skip (`claimed`); the kernel releases it when the holder's file is
closed or its process dies, so a killed holder never blocks the next one. Both create
the lock file, and its folder, when missing.
"""

import contextlib
import fcntl
import os
import pathlib
from typing import IO, Iterator


def _opened(path: str | os.PathLike) -> IO[str]:
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a")


@contextlib.contextmanager
def taken_in_turn(path: str | os.PathLike) -> Iterator[None]:
    """Waits until this process holds an exclusive flock on `path` (created if missing);
    released on exit from the block."""
    with _opened(path) as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def claimed(path: str | os.PathLike) -> Iterator[bool]:
    """Yields whether this process took the exclusive flock on `path` (created if missing)
    without waiting: False while another process holds it, so a piece of work that
    processes share is done by one of them and the others go on to the next."""
    with _opened(path) as file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
