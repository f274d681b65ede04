"""SIGTERM as a request to stop at a step boundary, after saving a checkpoint there.

Clusters announce preemption with SIGTERM (SLURM, Kubernetes) and kill the process
a grace period later. The training loop asks `requested(step)` once per step; the
trainer then saves that step and raises Preempted.
"""

import contextlib
import signal
import threading
from typing import Callable, Iterator

import jax
from jax.experimental import multihost_utils


class Preempted(Exception):
    """The run stopped on SIGTERM after saving a checkpoint; re-running it resumes there."""


@contextlib.contextmanager
def stop_requests() -> Iterator[Callable[[int], bool]]:
    """Within the block SIGTERM does not kill; yields `requested(step)`, True from then on.

    One process: a flag set by a handler, which is installed for the block only
    (Python installs handlers only from the main thread; elsewhere SIGTERM keeps
    its default). Several processes may see the signal at different steps, so
    there jax.distributed's coordination service catches it and JAX's preemption
    sync point picks one step, the same for all, which every process must be asked
    about in turn.
    """
    if jax.process_count() > 1:
        yield multihost_utils.reached_preemption_sync_point
        return
    if threading.current_thread() is not threading.main_thread():
        yield lambda step: False
        return
    received = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.set())
    try:
        yield lambda step: received.is_set()
    finally:
        signal.signal(signal.SIGTERM, previous)
