"""Populations: K models of one architecture, each the solo run of its own config.

`member_configs` turns a population config into the K solo configs that reproduce
its members (the ones written to workdir/members/<i>/config.json). Everything
else about a population follows from them: its state is the members' solo
initial states stacked on a leading member axis, and its step is the solo step
vmapped over that axis (population_step.py).
"""

import ml_collections

from wae_jax.training.validation import VARYING_FIELDS


def size(config: ml_collections.ConfigDict) -> int:
    return config.population.size


def data_seed(config: ml_collections.ConfigDict) -> int:
    """The seed of the training data's order: data_seed when set, else seed."""
    return config.data_seed if config.data_seed >= 0 else config.seed


def member_value(config: ml_collections.ConfigDict, field: str, index: int):
    """Member `index`'s value of a varying field: its per-member entry or the config's."""
    values = tuple(config.population[field])
    if values:
        return values[index]
    return config.seed + index if field == "seed" else config[field]


def member_config(config: ml_collections.ConfigDict, index: int) -> ml_collections.ConfigDict:
    """The solo config (population.size=1) that trains member `index` alone, identically."""
    member = config.copy_and_resolve_references()
    for field in VARYING_FIELDS:
        member[field] = member_value(config, field, index)
        member.population[field] = ()
    member.data_seed = data_seed(config)
    member.population.size = 1
    return member


def member_configs(config: ml_collections.ConfigDict) -> list[ml_collections.ConfigDict]:
    return [member_config(config, i) for i in range(size(config))]


def varied_values(config: ml_collections.ConfigDict) -> list[dict]:
    """Per member, the values of the fields that differ between members (and the seed)."""
    varied = [f for f in VARYING_FIELDS if f == "seed" or tuple(config.population[f])]
    return [{f: member_value(config, f, i) for f in varied} for i in range(size(config))]
