"""Sweep members packed into populations: one Ray trial trains one population.

Members whose configs differ only in fields that keep every array's shape
(validation.VARYING_FIELDS: seed, learning rates, lambda, prior std, kernel scales,
input noise) share one compiled program, so they are trained together, at most
`max_size` at a time; any other difference (method, latent size, batch size,
architecture, encoder, ...) starts a new population.
"""

import copy
import dataclasses
import hashlib
import json

import ml_collections

from wae_jax.sweeps import space
from wae_jax.training.validation import VARYING_FIELDS


@dataclasses.dataclass(frozen=True)
class Member:
    index: int  # its position among the sweep's points: the report's member id
    point: space.Point  # its overrides of the base config
    config: ml_collections.ConfigDict  # its solo config


@dataclasses.dataclass(frozen=True)
class Trial:
    name: str  # its directory under the sweep's workdir/trials
    config: ml_collections.ConfigDict  # population config (solo when one member)
    members: tuple[Member, ...]  # in population order: member i is members/<i>


def shape_key(config: ml_collections.ConfigDict) -> str:
    """The config without the fields that may vary within a population."""
    fields = config.to_dict()
    for field in VARYING_FIELDS + ("population",):
        fields.pop(field, None)
    return json.dumps(fields, sort_keys=True, default=str)


def population_config(configs: list[ml_collections.ConfigDict]) -> ml_collections.ConfigDict:
    """One config training `configs` (same shape key) as a population; the first alone if
    only one. Seeds always go per member; other fields only where the members differ."""
    config = copy.deepcopy(configs[0])
    if len(configs) == 1:
        return config
    config.population.size = len(configs)
    for field in VARYING_FIELDS:
        values = tuple(member[field] for member in configs)
        if field == "seed" or len(set(map(str, values))) > 1:
            config.population[field] = values
    return config


def _digest(config: ml_collections.ConfigDict) -> str:
    text = json.dumps(config.to_dict(), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def pack(base: ml_collections.ConfigDict, points: list[space.Point], max_size: int
         ) -> list[Trial]:
    """Trials in order of their first member; names change when their config does, so a
    changed sweep never resumes from another population's checkpoints."""
    if max_size < 1:
        raise space.SweepError(f"max_population_size={max_size}: use an integer >= 1")
    groups: dict[str, list[Member]] = {}
    for index, point in enumerate(points):
        config = space.apply_point(base, point)
        config.population.size = 1
        groups.setdefault(shape_key(config), []).append(Member(index, point, config))
    trials = []
    for group in groups.values():
        for start in range(0, len(group), max_size):
            members = tuple(group[start:start + max_size])
            config = population_config([m.config for m in members])
            trials.append(Trial(f"{len(trials):03d}-{_digest(config)}", config, members))
    return trials
