"""The `:small` configs' train step with transposed convs in image groups, and without.

conv.py runs solo CPU transposed convolutions with at most BLOCKED_MAX_IN_CHANNELS input
channels over groups of about BLOCK_IMAGES images, so that each group's intermediate stays in
cache. This times the trainer's compiled step (benchmarks/train_throughput.py's
`compile_step`) both ways in one process, alternating rounds because these machines drift,
and prints the median ratio (> 1: the groups are faster).

  python benchmarks/image_groups.py [--configs=mnist_mmd,celeba_mmd] [--rounds=7] [--json]
"""

import argparse
import json
import os
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # for configs/

import train_throughput  # noqa: E402
from configs import celeba_mmd, mnist_mmd  # noqa: E402
from wae_jax import cli  # noqa: E402
from wae_jax.models import conv  # noqa: E402

CONFIGS = {"mnist_mmd": (mnist_mmd, (28, 28, 1)), "celeba_mmd": (celeba_mmd, (64, 64, 3))}


def compiled_steps(module, image_shape) -> dict[str, list]:
    """The step compiled with image groups and with the whole batch (the rule is applied
    when the step is traced)."""
    train_throughput.IMAGE_SHAPE = image_shape
    programs, limit = {}, conv.BLOCKED_MAX_IN_CHANNELS
    for label, channels in (("groups", limit), ("whole", 0)):
        conv.BLOCKED_MAX_IN_CHANNELS = channels
        programs[label] = list(train_throughput.compile_step(module.get_config("small")))
    conv.BLOCKED_MAX_IN_CHANNELS = limit
    return programs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS), help="which `:small` configs")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds")
    parser.add_argument("--steps", type=int, default=10, help="timed updates per round")
    parser.add_argument("--json", action="store_true", help="one JSON line per config")
    args = parser.parse_args()
    cli.keep_freed_buffers()  # as the main job runs
    if not args.json:
        print(f"{'config':>12} {'groups ms':>10} {'whole ms':>9} {'whole/groups':>12} load")
    for name in args.configs.split(","):
        programs = compiled_steps(*CONFIGS[name])
        ms = {label: [] for label in programs}
        for _ in range(args.rounds):
            for label, program in programs.items():
                result, program[1] = train_throughput.measure_jax(*program, args.steps, 2)
                ms[label].append(result["step_ms"])
        ratio = statistics.median(w / g for w, g in zip(ms["whole"], ms["groups"]))
        row = {"config": f"{name}:small", "groups_ms": statistics.median(ms["groups"]),
               "whole_ms": statistics.median(ms["whole"]), "median_ratio": ratio,
               "rounds": args.rounds, "load1": os.getloadavg()[0]}
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"{row['config']:>12} {row['groups_ms']:10.1f} {row['whole_ms']:9.1f} "
                  f"{ratio:12.2f} {row['load1']:.1f}", flush=True)


if __name__ == "__main__":
    main()
