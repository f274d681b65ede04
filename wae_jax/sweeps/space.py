"""A sweep as data: lists of points, each point a dict of config overrides.

A config file declares its sweep next to `get_config` (the scenic/vmoe `h.product`,
`h.sweep`, `h.zipit` convention) with `get_sweep(arg) -> Sweep`:

  space.product(space.sweep("method", ["vae", "wae_mmd"]),
                space.random(10, seed=0, lambda_=space.LogUniform(1.0, 100.0)),
                space.sweep("seed", [0, 1, 2]))

Keys are config paths ("model.arch"). Expansion is deterministic: random draws come
from numpy's PCG64 seeded with the given seed and the field's name, so the same
declaration gives the same points on every machine and every rerun.
"""

import copy
import dataclasses
import itertools
import math
import zlib
from typing import Any, Optional, Sequence

import ml_collections
import numpy as np

Point = dict[str, Any]  # config path -> value


class SweepError(ValueError):
    """A bad sweep declaration; the message names the field and the fix."""


def sweep(field: str, values: Sequence[Any]) -> list[Point]:
    """One point per value of one field."""
    if not values:
        raise SweepError(f"sweep({field!r}, ...): give at least one value")
    return [{field: value} for value in values]


def fixed(overrides: Point) -> list[Point]:
    """The single point `overrides` (several fields set together, e.g. a method's preset)."""
    return [dict(overrides)]


def _merge(points: Sequence[Point]) -> Point:
    merged: Point = {}
    for point in points:
        shared = set(merged) & set(point)
        if shared:
            raise SweepError(f"fields {sorted(shared)} are set twice in one point: give each "
                             "field in one factor of a product or zip only")
        merged.update(point)
    return merged


def product(*spaces: Sequence[Point]) -> list[Point]:
    """Every combination of one point from each space (the last varies fastest)."""
    return [_merge(combination) for combination in itertools.product(*spaces)]


def zipit(*spaces: Sequence[Point]) -> list[Point]:
    """The i-th points of equally long spaces merged together."""
    lengths = {len(space) for space in spaces}
    if len(lengths) > 1:
        raise SweepError(f"zipit of spaces of lengths {[len(s) for s in spaces]}: give "
                         "spaces of equal length")
    return [_merge(points) for points in zip(*spaces)]


def chain(*spaces: Sequence[Point]) -> list[Point]:
    """The points of each space one after another (e.g. one random search per method)."""
    return [dict(point) for space in spaces for point in space]


@dataclasses.dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def draw(self, rng: np.random.Generator, n: int) -> list[float]:
        return [float(v) for v in rng.uniform(self.low, self.high, n)]


@dataclasses.dataclass(frozen=True)
class LogUniform:
    """exp(Uniform(log low, log high)): learning rates and penalty weights."""
    low: float
    high: float

    def draw(self, rng: np.random.Generator, n: int) -> list[float]:
        if not 0 < self.low <= self.high:
            raise SweepError(f"LogUniform({self.low}, {self.high}): use 0 < low <= high")
        logs = rng.uniform(math.log(self.low), math.log(self.high), n)
        return [float(v) for v in np.exp(logs)]


@dataclasses.dataclass(frozen=True)
class Choice:
    options: tuple

    def draw(self, rng: np.random.Generator, n: int) -> list[Any]:
        if not self.options:
            raise SweepError("Choice(()): give at least one option")
        return [self.options[i] for i in rng.integers(0, len(self.options), n)]


@dataclasses.dataclass(frozen=True)
class Scaled:
    """A draw of `scale` multiplied into the tuple `base` (e.g. the IMQ kernel's scales)."""
    base: tuple
    scale: LogUniform

    def draw(self, rng: np.random.Generator, n: int) -> list[tuple]:
        return [tuple(s * m for s in self.base) for m in self.scale.draw(rng, n)]


Distribution = Uniform | LogUniform | Choice | Scaled


def field_rng(seed: int, field: str) -> np.random.Generator:
    """The generator of one field's draws: independent of the other fields' and their order."""
    return np.random.default_rng([seed, zlib.crc32(field.encode())])


def random(n: int, seed: int, distributions: Optional[dict[str, Distribution]] = None,
           **named: Distribution) -> list[Point]:
    """`n` points, each field drawn independently from its distribution (random search)."""
    distributions = {**(distributions or {}), **named}
    if n < 1:
        raise SweepError(f"random(n={n}): use n >= 1")
    columns = {field: dist.draw(field_rng(seed, field), n)
               for field, dist in sorted(distributions.items())}
    return [{field: columns[field][i] for field in distributions} for i in range(n)]


@dataclasses.dataclass(frozen=True)
class Resources:
    """What one trial (one population) asks Ray for."""
    cpu: float = 1.0
    gpu: float = 0.0  # a fraction shares a GPU between trials (XLA preallocation is off)
    tpu: int = 0  # whole TPU chips (Ray's "TPU" resource)

    def as_bundle(self) -> dict[str, float]:
        bundle = {"CPU": self.cpu, "GPU": self.gpu, "TPU": self.tpu}
        return {name: amount for name, amount in bundle.items() if amount}


@dataclasses.dataclass(frozen=True)
class Sweep:
    """What a config file's get_sweep(arg) returns."""
    points: tuple  # of Point: the members, in order
    max_population_size: int = 8  # members per trial, at most
    resources: Resources = Resources()
    max_failures: int = 2  # Ray's retries of a trial whose worker was lost
    eval_metrics: tuple = ()  # evaluate_workdir's metrics of each member at the end
    eval_num_samples: int = 10_000  # prior samples for those metrics


def apply_point(config: ml_collections.ConfigDict, point: Point) -> ml_collections.ConfigDict:
    """A copy of `config` with the point's overrides (unknown paths fail)."""
    config = copy.deepcopy(config)  # keeps references (model.latent_dim follows latent_dim)
    for path, value in point.items():
        *parents, name = path.split(".")
        node = config
        for parent in parents:
            node = node.get(parent) if isinstance(node, ml_collections.ConfigDict) else None
        if not isinstance(node, ml_collections.ConfigDict) or name not in node:
            raise SweepError(f"sweep field {path!r}: not a config field; use a path such as "
                             "'lambda_' or 'model.arch'")
        try:
            node[name] = value
        except TypeError as error:
            raise SweepError(f"sweep field {path!r}={value!r}: {error}") from None
    return config


def difference(config: ml_collections.ConfigDict, base: ml_collections.ConfigDict) -> Point:
    """The leaf fields whose value in the ConfigDict `config` differs from `base`'s: the
    preset that turns one experiment file's config into another's (e.g. the VAE's)."""
    flat, flat_base = _flatten(config.to_dict()), _flatten(base.to_dict())
    return {path: value for path, value in flat.items()
            if path not in flat_base or flat_base[path] != value}


def _flatten(tree: dict, prefix: str = "") -> Point:
    flat: Point = {}
    for name, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[prefix + name] = value
    return flat


def describe(point: Point) -> str:
    """'lambda_=10, model.arch=mlp': a point on one line."""
    return ", ".join(f"{k}={_short(v)}" for k, v in point.items())


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "(" + ",".join(_short(v) for v in value) + ")"
    return str(value)

