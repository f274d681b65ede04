"""Per-member batch orders for populations whose members train on their own data.

Member k's epoch is ceil(n_k / batch_size) steps, as Keras' fit (or a set minimum):
a seeded permutation of all its n_k examples, topped up to whole batches (vmapped
members need one batch shape) with more permutations, so every example is seen each
epoch and some twice. The same indices drive a member's solo training, which is how a
population run is checked against solo runs.
"""

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np


def steps_per_epoch(sizes: Sequence[int], batch_size: int, min_steps: int = 1) -> list[int]:
    """Steps of each member's epoch: ceil(n_k / batch_size), at least min_steps."""
    if batch_size > min(sizes):
        raise ValueError(f"batch_size={batch_size} exceeds the smallest member's "
                         f"{min(sizes)} examples; lower it")
    return [max(-(-n // batch_size), min_steps) for n in sizes]


def member_indices(n: int, batch_size: int, num_steps: int, seed: int, *, pool: int = 0,
                   page: int = 0, min_steps: int = 1) -> np.ndarray:
    """[num_steps, batch_size] indices into a member's n examples (then its pool of
    generated ones at n, n+1, ...), in the order of `seed`.

    Epoch e's examples: all n, plus page e of the pool (`page` pool examples,
    e * page onwards, cycling): the official code's fresh page of generated images
    each epoch. They are permuted, and further permutations fill the epoch's
    steps_per_epoch([n + page], batch_size, min_steps) whole batches."""
    rng = np.random.default_rng(seed)
    size = n + page
    per_epoch = steps_per_epoch([size], batch_size, min_steps)[0]
    epochs = -(-num_steps // per_epoch)
    order = []
    for epoch in range(epochs):
        generated = (epoch * page + np.arange(page)) % max(pool, 1)
        examples = np.concatenate([np.arange(n), n + generated])
        needed = per_epoch * batch_size
        while needed > 0:
            order.append(examples[rng.permutation(size)[:needed]])
            needed -= size
    return np.concatenate(order)[:num_steps * batch_size].reshape(num_steps, batch_size)


def population_indices(sizes: Sequence[int], batch_size: int, num_steps: int,
                       seeds: Sequence[int], *, pools: Sequence[int] = (),
                       pages: Sequence[int] = (), min_steps: int = 1) -> np.ndarray:
    """[num_steps, K, batch_size]: every member's own stream (seeds[k]), side by side;
    member k pages through pools[k] generated examples, pages[k] per epoch (none if
    pools is empty)."""
    pools = list(pools) or [0] * len(sizes)
    pages = list(pages) or [0] * len(sizes)
    return np.stack([member_indices(n, batch_size, num_steps, seed, pool=pool, page=page,
                                    min_steps=min_steps)
                     for n, seed, pool, page in zip(sizes, seeds, pools, pages)], axis=1)


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
