"""The study's CNN training: generated pools are paged in, epochs have their minimum length."""

import jax
import ml_collections
import numpy as np

from configs import augment_mnist
from wae_jax.studies.augmentation import classifiers, member_batches


def tiny_settings() -> ml_collections.ConfigDict:
    settings = augment_mnist.get_config("tiny").classifier
    settings.batch_size, settings.max_epochs, settings.patience = 4, 2, 2
    settings.generated_per_epoch, settings.min_steps_per_epoch = 8, 3
    return settings


def test_members_page_through_their_own_pools(monkeypatch):
    rng = np.random.default_rng(0)
    real = (rng.random((8, 28, 28, 1), dtype=np.float32), np.arange(8) % 10)
    pool = (rng.random((30, 28, 28, 1), dtype=np.float32), np.arange(30) % 10)
    recorded, population_indices = {}, member_batches.population_indices

    def record(*args, **kwargs):
        recorded.update(sizes=args[0], num_steps=args[2], **kwargs)
        return population_indices(*args, **kwargs)

    monkeypatch.setattr(classifiers.member_batches, "population_indices", record)
    _, stopping, _ = classifiers.train(tiny_settings(), [real, real], [False, True], real,
                                       seeds=[0, 1], generated=[None, pool])
    assert recorded["sizes"] == [8, 8] and recorded["pools"] == [0, 30]
    assert recorded["pages"] == [0, 8] and recorded["min_steps"] == 3
    # member 0: 8 real images, epochs of max(2, 3) = 3 steps; member 1: 8 + 8, 4 steps
    assert recorded["num_steps"] == 2 * 4
    assert np.asarray(stopping.checks).tolist() == [2, 2]


def test_a_member_stops_after_its_own_epochs_whatever_the_others_lengths():
    """Fixed-length training (patience = max_epochs): a member with short epochs ends as
    it would alone, not after the longest member's steps."""
    rng = np.random.default_rng(1)
    small = (rng.random((8, 28, 28, 1), dtype=np.float32), np.arange(8) % 10)
    large = (rng.random((24, 28, 28, 1), dtype=np.float32), np.arange(24) % 10)
    settings = tiny_settings()
    settings.min_steps_per_epoch = 1  # epochs of 2 and 6 steps
    _, _, together = classifiers.train(settings, [small, large], [False, False], small,
                                       seeds=[0, 1])
    _, _, alone = classifiers.train(settings, [small], [False], small, seeds=[0])
    for a, b in zip(jax.tree.leaves(together), jax.tree.leaves(alone)):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-6)
