"""A recorder of every jax.random call made by eager (un-jitted) code, for the RNG tests.

The code under test (and flax, whose `init`/`make_rng` fold path hashes into a key)
calls `jax.random.<fn>` through the module, so replacing the module's attributes
sees each key that is split, folded or sampled from, and what was drawn. The values
reach the recorder by ordered `jax.debug.callback`, so jitted code (traced inside
`recording`) is recorded too, in program order.
"""

import contextlib
import dataclasses
import functools
from typing import Any, Iterator

import jax
import numpy as np

SAMPLERS = ("normal", "truncated_normal", "uniform", "bernoulli", "randint", "permutation",
            "choice", "categorical", "gumbel")


@dataclasses.dataclass(frozen=True)
class Call:
    use: str  # what the test was running, e.g. "train_step[wae_gan]"
    fn: str  # the jax.random function: a sampler, "split" or "fold_in"
    key: tuple[int, ...]  # the key's raw uint32 words
    data: Any  # fold_in: the folded integer; samplers: the draws (numpy); split: None


def raw_key(key: jax.Array) -> jax.Array:
    """uint32 words of a raw or typed key."""
    return jax.random.key_data(key) if jax.dtypes.issubdtype(key.dtype,
                                                             jax.dtypes.prng_key) else key


class RandomCalls:
    """Patches jax.random (via `monkeypatch`); logs the calls made inside `recording(use)`."""

    def __init__(self, monkeypatch):
        self._calls: list[Call] = []
        self._use = None
        for name in SAMPLERS + ("split", "fold_in"):
            monkeypatch.setattr(jax.random, name, self._wrap(name, getattr(jax.random, name)))

    def _wrap(self, name, original):
        def wrapped(key, *args, **kwargs):
            out = original(key, *args, **kwargs)
            if self._use is not None:  # a callback, so that jitted code is recorded too
                data = (args[0] if args else kwargs["data"]) if name == "fold_in" else out
                jax.debug.callback(functools.partial(self._record, self._use, name),
                                   raw_key(key), None if name == "split" else data,
                                   ordered=True)
            return out
        return wrapped

    def _record(self, use: str, fn: str, key: np.ndarray, data) -> None:
        data = int(data) if fn == "fold_in" else None if data is None else np.asarray(data)
        self._calls.append(Call(use, fn, tuple(int(w) for w in np.ravel(key)), data))

    @property
    def calls(self) -> list[Call]:
        jax.effects_barrier()  # callbacks of dispatched computations have run
        return self._calls

    @contextlib.contextmanager
    def recording(self, use: str) -> Iterator[None]:
        self._use = use
        try:
            yield
        finally:
            self._use = None

    def draws(self, use: str, fn: str) -> list[np.ndarray]:
        """The outputs of sampler `fn` during `use`, in call order."""
        return [c.data for c in self.calls if c.use == use and c.fn == fn]
