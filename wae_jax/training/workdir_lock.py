"""One run per workdir: an exclusive lock on workdir/.lock while a run trains.

Two runs writing one workdir would interleave checkpoints (orbax fails mid-save)
and logs. The lock is fcntl.flock on the open file, which the kernel releases when
the process ends, however it ends: a lock left by a killed run is stale by
construction, and the next run takes it over with a warning naming the old holder.
The file records the holder's pid, host and start time for these messages; a run
that ends normally empties it.

Limitations: in a multi-process (jax.distributed) run only process 0 takes the
lock. flock excludes runs on one host; on a filesystem shared by several hosts it
excludes runs on other hosts only where the filesystem maps it to its own locks
(NFSv4 does; some cluster and FUSE filesystems do not lock at all). Where the
filesystem refuses locks, the run goes on with a warning.
"""

import contextlib
import fcntl
import json
import os
import socket
import time
from typing import IO, Iterator

from absl import logging

from wae_jax.training.validation import ConfigError

LOCK_NAME = ".lock"


def _holder(text: str) -> str:
    """'pid P on host H since T', from the lock file's contents."""
    try:
        record = json.loads(text)
        return f"pid {record['pid']} on host {record['host']} since {record['started']}"
    except (ValueError, KeyError, TypeError):  # the holder has not written it yet
        return "a run that has not recorded its pid yet"


def _read(file: IO[str]) -> str:
    file.seek(0)
    return file.read().strip()


def _take(file: IO[str], workdir: str) -> bool:
    """Locks `file` (False where the filesystem cannot lock) or raises ConfigError."""
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ConfigError(
            f"--workdir={workdir} is in use by another run ({_holder(_read(file))}); wait "
            f"for it to end, stop it, or use another --workdir") from None
    except OSError as error:  # e.g. ENOLCK, EOPNOTSUPP on some network filesystems
        logging.warning("Cannot lock %s (%s): a second run on this workdir would not be "
                        "detected", file.name, error.strerror)
        return False
    previous = _read(file)
    if previous:
        logging.warning("Taking over the lock on %s of %s, which ended without releasing it",
                        workdir, _holder(previous))
    record = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    file.seek(0)
    file.truncate()
    file.write(json.dumps(record))
    file.flush()
    return True


@contextlib.contextmanager
def hold(workdir: str, enabled: bool = True) -> Iterator[None]:
    """Holds the workdir's lock within the block; ConfigError names the holder when taken.

    `enabled` False (processes other than 0) does nothing.
    """
    if not enabled:
        yield
        return
    path = os.path.join(workdir, LOCK_NAME)
    # Opened without truncating: a waiting run reads the holder from it.
    with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+") as file:
        locked = _take(file, workdir)
        try:
            yield
        finally:
            if locked:
                file.truncate(0)  # empty: released in order, not stale
                fcntl.flock(file.fileno(), fcntl.LOCK_UN)
