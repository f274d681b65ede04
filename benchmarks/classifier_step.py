"""The study CNNs' train step with max_pool_2x2 against flax's nn.max_pool.

  python benchmarks/classifier_step.py --rounds=5 --json

Why: flax's max pool differentiates through XLA's select_and_scatter, which XLA:CPU runs
3-6x slower than the gradient of models.pooling.max_pool_2x2 (a max over a reshaped
view), and the CNNs of both augmentation studies pool twice per step. Workloads (one
Adam step of classifiers.make_train_step, solo, random images):
- per_class: configs/augment_mnist.py's CNN (the paper's 64-128-128-128, 'SAME', batch
  32) with conventional augmentation, as in its AUG conditions;
- w2_protocol: configs/augment_w2_mnist.py's small CNN (16-32-32-32, 'VALID', batch 100).
Both variants are compiled first, then timed in alternation for --rounds rounds (these
machines drift 15-25% over minutes), each timing >= --steps steps; ratio = flax /
max_pool_2x2 per round, median reported, with the 1-minute load average.
"""

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # for configs/
from configs import augment_mnist, augment_w2_mnist  # noqa: E402
from wae_jax.models import classifier  # noqa: E402
from wae_jax.studies.augmentation import classifiers  # noqa: E402

WORKLOADS = {"per_class": (augment_mnist.classifier_config, True),
             "w2_protocol": (augment_w2_mnist.classifier_config, False)}
POOLS = {"max_pool_2x2": classifier.max_pool_2x2,
         "flax": lambda x: nn.max_pool(x, (2, 2), strides=(2, 2))}


def compiled_step(workload: str, pool: str):
    """(run(n) -> seconds for n steps) of one variant, compiled and warmed up."""
    make_settings, augment = WORKLOADS[workload]
    settings = make_settings()
    classifier.max_pool_2x2 = POOLS[pool]  # read when the step is traced, just below
    model = classifiers.build(settings, 1)
    state = classifiers.init_state(settings, model, (28, 28, 1), 0)
    images = jnp.asarray(np.random.default_rng(0).random(
        (settings.batch_size, 28, 28, 1), np.float32))
    labels = jnp.arange(settings.batch_size) % 10
    step = jax.jit(classifiers.make_train_step(settings, model)).lower(
        state, images, labels, jnp.asarray(augment)).compile()
    classifier.max_pool_2x2 = POOLS["max_pool_2x2"]
    jax.block_until_ready(step(state, images, labels, jnp.asarray(augment)))

    def run(num: int) -> float:
        start, current = time.perf_counter(), state
        for _ in range(num):
            current = step(current, images, labels, jnp.asarray(augment))
        jax.block_until_ready(current)
        return time.perf_counter() - start
    return run


def ms_per_step(run, steps: int) -> float:
    return 1e3 * run(steps) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    print("| workload | max_pool_2x2 ms/step | flax ms/step | ratio (median) | load |")
    print("|---|---|---|---|---|")
    for workload in args.workloads.split(","):
        runs = {pool: compiled_step(workload, pool) for pool in POOLS}
        times = {pool: [] for pool in POOLS}
        for _ in range(args.rounds):
            for pool, run in runs.items():
                times[pool].append(ms_per_step(run, args.steps))
        ratio = statistics.median(f / m for f, m in zip(times["flax"], times["max_pool_2x2"]))
        ours, flax_ms = (statistics.median(times[p]) for p in ("max_pool_2x2", "flax"))
        load = os.getloadavg()[0]
        results[workload] = {"max_pool_2x2_ms": round(ours, 1), "flax_ms": round(flax_ms, 1),
                             "ratio": round(ratio, 2), "load": round(load, 1)}
        print(f"| {workload} | {ours:.1f} | {flax_ms:.1f} | {ratio:.2f}x | {load:.1f} |")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
