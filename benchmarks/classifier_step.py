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
A second table times --population members of each CNN as one vmapped step (the CPU's
matmul lowering, as classifiers.build picks) against as many solo steps: ratio = solo
time x members / population time (> 1: the population is faster).
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


def compiled_step(workload: str, pool: str = "max_pool_2x2", members: int = 1):
    """(run(n) -> seconds for n steps) of one variant, compiled and warmed up: a solo
    step, or with members > 1 one vmapped step of that many members."""
    make_settings, augment = WORKLOADS[workload]
    settings = make_settings()
    classifier.max_pool_2x2 = POOLS[pool]  # read when the step is traced, just below
    model = classifiers.build(settings, members)
    init = jax.vmap(lambda seed: classifiers.init_state(settings, model, (28, 28, 1), seed))
    state = init(jnp.arange(members))
    images = jnp.asarray(np.random.default_rng(0).random(
        (members, settings.batch_size, 28, 28, 1), np.float32))
    labels = jnp.broadcast_to(jnp.arange(settings.batch_size) % 10, images.shape[:2])
    flags = jnp.full(members, augment)
    step = jax.jit(jax.vmap(classifiers.make_train_step(settings, model))).lower(
        state, images, labels, flags).compile()
    classifier.max_pool_2x2 = POOLS["max_pool_2x2"]
    jax.block_until_ready(step(state, images, labels, flags))

    def run(num: int) -> float:
        start, current = time.perf_counter(), state
        for _ in range(num):
            current = step(current, images, labels, flags)
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
    parser.add_argument("--population", type=int, default=3,
                        help="members of the population table (0: skip it)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"pool": {}, "population": {}}
    print("| workload | max_pool_2x2 ms/step | flax ms/step | ratio (median) | load |")
    print("|---|---|---|---|---|")
    for workload in args.workloads.split(","):
        ours, flax_ms, ratio = alternate(
            {pool: compiled_step(workload, pool) for pool in POOLS}, args, scale=1)
        results["pool"][workload] = row(ours, flax_ms, ratio)
        print(f"| {workload} | {ours:.1f} | {flax_ms:.1f} | {ratio:.2f}x | "
              f"{os.getloadavg()[0]:.1f} |")
    if args.population > 1:
        print(f"\n| workload | population step ms | {args.population} solo steps ms | "
              "ratio (median) | load |\n|---|---|---|---|---|")
        for workload in args.workloads.split(","):
            population, solo, ratio = alternate(
                {"population": compiled_step(workload, members=args.population),
                 "solo": compiled_step(workload)}, args, scale=args.population)
            results["population"][workload] = row(population, solo, ratio)
            print(f"| {workload} | {population:.1f} | {solo:.1f} | {ratio:.2f}x | "
                  f"{os.getloadavg()[0]:.1f} |")
    if args.json:
        print(json.dumps(results))


def alternate(runs: dict, args, scale: int) -> tuple[float, float, float]:
    """Median ms per step of the two variants (the second's x scale) and the median
    per-round ratio second / first."""
    times = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            times[name].append(ms_per_step(run, args.steps))
    first, second = (times[name] for name in runs)
    second = [scale * t for t in second]
    ratio = statistics.median(b / a for a, b in zip(first, second))
    return statistics.median(first), statistics.median(second), ratio


def row(first: float, second: float, ratio: float) -> dict:
    return {"ms": round(first, 1), "baseline_ms": round(second, 1), "ratio": round(ratio, 2),
            "load": round(os.getloadavg()[0], 1)}


if __name__ == "__main__":
    main()
