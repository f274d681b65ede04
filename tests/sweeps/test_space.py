"""Sweep declarations: the combinators' points, seeded draws and their determinism."""

import hashlib
import itertools
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from configs import bigwae_celeba, bigwae_mnist, common
from wae_jax.sweeps import space

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_product_zip_and_chain_enumerate_the_points():
    a, b = space.sweep("a", [1, 2]), space.sweep("b", ["x", "y", "z"])
    expected = [{"a": i, "b": j} for i, j in itertools.product([1, 2], "xyz")]
    assert space.product(a, b) == expected
    assert space.zipit(space.sweep("a", [1, 2]), space.sweep("b", ["x", "y"])) == [
        {"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert space.chain(a, b) == [{"a": 1}, {"a": 2}, {"b": "x"}, {"b": "y"}, {"b": "z"}]


@pytest.mark.parametrize("make, fix", [
    (lambda: space.zipit(space.sweep("a", [1, 2]), space.sweep("b", [1])), "equal length"),
    (lambda: space.product(space.sweep("a", [1]), space.sweep("a", [2])), "set twice"),
    (lambda: space.random(0, 0, a=space.Uniform(0, 1)), "n >= 1"),
    (lambda: space.random(2, 0, a=space.LogUniform(0, 1)), "0 < low"),
    (lambda: space.sweep("a", []), "at least one"),
])
def test_bad_declarations_say_the_fix(make, fix):
    with pytest.raises(space.SweepError, match=fix):
        make()


def test_draws_follow_their_distributions():
    n = 4000
    points = space.random(n, seed=3, distributions={
        "lr": space.LogUniform(1e-4, 1e-2), "x": space.Uniform(-1.0, 2.0),
        "c": space.Choice(("a", "b", "c", "d"))})
    logs = np.log([p["lr"] for p in points])
    # Kolmogorov-Smirnov against scipy's uniform on [log 1e-4, log 1e-2] and on [-1, 2].
    assert stats.kstest(logs, stats.uniform(math.log(1e-4), math.log(100)).cdf).pvalue > 1e-3
    assert stats.kstest([p["x"] for p in points], stats.uniform(-1, 3).cdf).pvalue > 1e-3
    counts = [sum(p["c"] == c for p in points) for c in "abcd"]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_a_fields_draws_do_not_depend_on_the_other_fields():
    alone = space.random(5, 0, lr=space.LogUniform(1e-4, 1e-2))
    together = space.random(5, 0, lr=space.LogUniform(1e-4, 1e-2), z=space.Choice((1, 2)))
    assert [p["lr"] for p in alone] == [p["lr"] for p in together]
    other_seed = space.random(5, 1, lr=space.LogUniform(1e-4, 1e-2))
    assert [p["lr"] for p in alone] != [p["lr"] for p in other_seed]


def test_scaled_multiplies_every_entry_by_one_draw():
    (point,) = space.random(1, 0, kernel_scales=space.Scaled((1.0, 2.0), space.LogUniform(3, 3)))
    assert point["kernel_scales"] == pytest.approx((3.0, 6.0))


def test_apply_point_sets_paths_and_keeps_the_latent_reference():
    base = common.get_config()
    config = space.apply_point(base, {"latent_dim": 16, "model.arch": "mlp", "lambda_": 3})
    assert (config.latent_dim, config.model.latent_dim, config.model.arch) == (16, 16, "mlp")
    assert base.latent_dim == 8  # a copy
    for path in ("model.nope", "lambda_.x", "nope.x"):
        with pytest.raises(space.SweepError, match=f"'{path}': not a config field"):
            space.apply_point(base, {path: 1})
    with pytest.raises(space.SweepError, match="'lambda_'='big'"):
        space.apply_point(base, {"lambda_": "big"})


def _digest_in_fresh_process(hash_seed: str) -> str:
    code = ("import hashlib, json; from configs import bigwae_mnist; "
            "print(hashlib.sha1(json.dumps(bigwae_mnist.get_sweep().points, default=str)"
            ".encode()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": hash_seed}, check=True)
    return out.stdout.strip()


def test_the_bigwae_expansion_is_deterministic_across_processes():
    here = hashlib.sha1(json.dumps(bigwae_mnist.get_sweep().points, default=str)
                        .encode()).hexdigest()
    assert _digest_in_fresh_process("1") == _digest_in_fresh_process("2") == here


@pytest.mark.parametrize("module", [bigwae_mnist, bigwae_celeba])
def test_bigwae_study_equal_budget_three_seeds_per_configuration(module):
    sweep = module.get_sweep()
    base = module.get_config()
    assert len(sweep.points) == 3 * 340 * 3 and base.num_train_steps == 100_000
    methods = [p.get("method", base.method) for p in sweep.points]
    assert {m: methods.count(m) for m in set(methods)} == {
        "vae": 1020, "wae_mmd": 1020, "wae_gan": 1020}
    configurations = {}
    for point in sweep.points:
        key = json.dumps({k: v for k, v in point.items() if k != "seed"}, default=str)
        configurations.setdefault(key, []).append(point["seed"])
    assert len(configurations) == 1020 and all(s == [0, 1, 2] for s in configurations.values())
    assert all(1e-4 <= p["learning_rate"] <= 3e-3 for p in sweep.points)
    vae = [p for p in sweep.points if p.get("method") == "vae"]
    assert {p["model.encoder"] for p in vae} == {"gaussian"}
    assert {p["model.arch"] for p in sweep.points} == {base.model.arch, "resnet_v2"}


def test_tiny_is_twelve_members_and_small_eighteen():
    assert len(bigwae_mnist.get_sweep("tiny").points) == 12
    assert len(bigwae_mnist.get_sweep("small").points) == 18
    with pytest.raises(ValueError, match="use one of"):
        bigwae_mnist.get_sweep("huge")
