"""Per-member batch orders for populations whose members train on their own data.

Member k's epoch is ceil(n_k / batch_size) steps, as Keras' fit: a seeded permutation
of all its n_k examples, topped up to whole batches (vmapped members need one batch
shape) with the start of another permutation, so every example is seen each epoch and
a few twice. The same indices drive a member's solo training, which is how a
population run is checked against solo runs.
"""

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np


def steps_per_epoch(sizes: Sequence[int], batch_size: int) -> list[int]:
    if batch_size > min(sizes):
        raise ValueError(f"batch_size={batch_size} exceeds the smallest member's "
                         f"{min(sizes)} examples; lower it")
    return [-(-n // batch_size) for n in sizes]


def member_indices(n: int, batch_size: int, num_steps: int, seed: int) -> np.ndarray:
    """[num_steps, batch_size] indices into a member's n examples, in the order of `seed`."""
    rng = np.random.default_rng(seed)
    per_epoch = -(-n // batch_size)
    epochs = -(-num_steps // per_epoch)
    fill = per_epoch * batch_size - n
    order = [np.concatenate([rng.permutation(n), rng.permutation(n)[:fill]])
             for _ in range(epochs)]
    return np.concatenate(order)[:num_steps * batch_size].reshape(num_steps, batch_size)


def population_indices(sizes: Sequence[int], batch_size: int, num_steps: int,
                       seeds: Sequence[int]) -> np.ndarray:
    """[num_steps, K, batch_size]: every member's own stream (seeds[k]), side by side."""
    return np.stack([member_indices(n, batch_size, num_steps, seed)
                     for n, seed in zip(sizes, seeds)], axis=1)


def pad_members(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of different lengths as one [K, max_n, ...] array (zeros after each end)
    and the mask [K, max_n] of the real entries."""
    longest = max(len(a) for a in arrays)
    padded = np.zeros((len(arrays), longest) + arrays[0].shape[1:], arrays[0].dtype)
    mask = np.zeros((len(arrays), longest), bool)
    for k, a in enumerate(arrays):
        padded[k, :len(a)], mask[k, :len(a)] = a, True
    return padded, mask


def gather(padded: jax.Array, indices: jax.Array) -> jax.Array:
    """[K, max_n, ...] and [K, B] -> each member's batch [K, B, ...]."""
    return jax.vmap(lambda data, index: jnp.take(data, index, axis=0))(padded, indices)
