"""SIGTERM as a request to stop at the next step boundary, after saving a checkpoint.

Clusters announce preemption with SIGTERM (SLURM, Kubernetes) and kill the process
a grace period later. The training loop asks `requested()` once per step; the
trainer then saves the current step and raises Preempted.

Within one process only: in a multi-process run the processes may see the signal
at different steps and would save different ones, so there SIGTERM keeps its
default (the run ends; a resumed run starts from the last periodic checkpoint).
"""

import contextlib
import signal
import threading
from typing import Callable, Iterator

import jax


class Preempted(Exception):
    """The run stopped on SIGTERM after saving a checkpoint; re-running it resumes there."""


@contextlib.contextmanager
def sigterm_requests() -> Iterator[Callable[[], bool]]:
    """Within the block SIGTERM only sets a flag; yields the function that reads it.

    The previous handler comes back on exit. Python installs handlers only from the
    main thread; elsewhere (and in multi-process runs) the flag never rises.
    """
    if threading.current_thread() is not threading.main_thread() or jax.process_count() > 1:
        yield lambda: False
        return
    received = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.set())
    try:
        yield received.is_set
    finally:
        signal.signal(signal.SIGTERM, previous)
