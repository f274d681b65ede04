"""SIGTERM within stop_requests sets the stop request instead of killing the process."""

import os
import signal
import time

from wae_jax.training import preemption


def test_sigterm_requests_a_stop_and_the_previous_handler_comes_back():
    def previous(signum, frame):
        raise AssertionError("the block's handler should have caught SIGTERM")
    original = signal.signal(signal.SIGTERM, previous)
    try:
        with preemption.stop_requests() as requested:
            assert not requested(1)
            os.kill(os.getpid(), signal.SIGTERM)
            deadline = time.time() + 5  # Python runs the handler at its next check
            while not requested(2) and time.time() < deadline:
                time.sleep(0.001)
            assert requested(2) and requested(3)  # stays raised
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, original)
