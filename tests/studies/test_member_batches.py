"""Batch orders of the studies' members: whole epochs, minimum lengths, generated pages."""

import numpy as np

from wae_jax.studies.augmentation import member_batches


def test_every_example_is_seen_each_epoch_in_whole_batches():
    n, batch = 42, 32  # Keras: two steps per epoch, the second with 10 new examples
    assert member_batches.steps_per_epoch([n, 64], batch) == [2, 2]
    indices = member_batches.member_indices(n, batch, num_steps=6, seed=0)
    assert indices.shape == (6, batch)
    for epoch in indices.reshape(3, -1):
        assert set(epoch.tolist()) == set(range(n))
    np.testing.assert_array_equal(indices, member_batches.member_indices(n, batch, 6, 0))


def test_a_minimum_epoch_length_repeats_whole_permutations():
    n, batch, min_steps = 40, 32, 25  # 800 draws per epoch: 20 passes over 40 images
    assert member_batches.steps_per_epoch([n, 900], batch, min_steps) == [25, 29]
    indices = member_batches.member_indices(n, batch, num_steps=50, seed=1,
                                            min_steps=min_steps)
    for epoch in indices.reshape(2, -1):
        np.testing.assert_array_equal(np.bincount(epoch, minlength=n), np.full(n, 20))


def test_each_epoch_adds_a_fresh_page_of_the_pool_cycling_at_its_end():
    n, pool, page, batch = 10, 25, 10, 4  # epochs of 20 examples: 5 steps
    indices = member_batches.member_indices(n, batch, num_steps=20, seed=2, pool=pool,
                                            page=page)
    expected_pages = [range(0, 10), range(10, 20), [20, 21, 22, 23, 24, 0, 1, 2, 3, 4],
                      range(5, 15)]
    for epoch, page_indices in zip(indices.reshape(4, -1), expected_pages):
        assert sorted(epoch.tolist()) == list(range(n)) + sorted(n + i for i in page_indices)


def test_members_without_a_pool_ignore_the_page():
    streams = member_batches.population_indices([8, 8], 4, 8, [0, 1], pools=[0, 30],
                                                 pages=[0, 8])
    assert streams.shape == (8, 2, 4)
    assert streams[:, 0].max() < 8  # real examples only, epochs of 2 steps
    for epoch in streams[:, 1].reshape(2, -1):  # 8 real + 8 generated: 4 steps
        assert (epoch < 8).sum() == 8 and (epoch >= 8).sum() == 8
