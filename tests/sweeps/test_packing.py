"""Packing: members that differ only in per-member fields share a population."""

import pytest

from configs import bigwae_celeba, bigwae_mnist, common
from wae_jax.sweeps import packing, space
from wae_jax.training import population, validation


def test_shape_fields_split_and_max_size_chunks():
    points = space.product(space.sweep("latent_dim", [4, 8]),
                           space.sweep("lambda_", [1.0, 10.0, 100.0]))
    trials = packing.pack(common.get_config(), points, max_size=2)
    # latent 4: members 0-2 -> (0, 1), (2); latent 8: members 3-5 -> (3, 4), (5).
    assert [[m.index for m in t.members] for t in trials] == [[0, 1], [2], [3, 4], [5]]
    assert [t.config.population.size for t in trials] == [2, 1, 2, 1]
    assert trials[0].config.population.lambda_ == (1.0, 10.0)
    assert trials[0].config.population.seed == (0, 0)
    assert trials[1].config.lambda_ == 100.0 and trials[1].config.latent_dim == 4
    assert len({t.name for t in trials}) == 4


def test_each_member_of_a_packed_population_is_its_own_config():
    base = bigwae_mnist.get_config("tiny")
    sweep = bigwae_mnist.get_sweep("tiny")
    trials = packing.pack(base, list(sweep.points), sweep.max_population_size)
    assert [len(t.members) for t in trials] == [4, 4, 4]
    for trial in trials:
        for i, member in enumerate(trial.members):
            # The population trainer's own unpacking gives back the member's config (the
            # data order is the population's, shared by its members).
            unpacked = population.member_config(trial.config, i).to_dict()
            expected = member.config.copy_and_resolve_references()
            expected.data_seed = trial.config.seed
            assert unpacked == expected.to_dict()


def test_names_are_stable_and_follow_the_config():
    base = common.get_config()
    first = packing.pack(base, space.sweep("lambda_", [1.0, 2.0]), 4)
    again = packing.pack(base, space.sweep("lambda_", [1.0, 2.0]), 4)
    changed = packing.pack(base, space.sweep("lambda_", [1.0, 3.0]), 4)
    assert first[0].name == again[0].name != changed[0].name


def test_bad_max_size():
    with pytest.raises(space.SweepError, match="max_population_size=0"):
        packing.pack(common.get_config(), [{}], 0)


@pytest.mark.parametrize("module", [bigwae_mnist, bigwae_celeba])
@pytest.mark.parametrize("arg", [None, "small", "tiny"])
def test_bigwae_members_validate(module, arg):
    """Every trial's config is runnable (the first 12 trials at paper size: 458 in all)."""
    sweep = module.get_sweep(arg)
    trials = packing.pack(module.get_config(arg), list(sweep.points), sweep.max_population_size)
    for trial in trials[:12]:
        validation.validate_config(trial.config, 1)
    assert f"--config=configs/{module.__name__.split('.')[-1]}.py" in module.__doc__
