"""Steps with glibc's default malloc thresholds against cli.keep_freed_buffers' (1 GiB).

  python benchmarks/host_allocator.py --rounds=3 --json

Each measurement is a fresh process (the setting is process-wide), run with
WAE_JAX_MALLOPT=0 (glibc's defaults) and =1 (the command lines' setting) in alternation
for --rounds rounds, because these machines drift 15-25% over minutes; the ratio is
default / kept per round, and its median is reported. Workloads:
- class_generators: one update of the per-class study's ten VAE generators (latent 3,
  configs/augment_mnist.py, one population, 5 random images per class), ms per step
  from --epochs epochs less a 2-epoch run (compilation excluded);
- trainer_step: benchmarks/train_throughput.py's step (WAE-MMD on pythae's MNIST nets,
  batch 100, the trainer's donated state), ms per step.
The 1-minute load average is recorded: other jobs may share the CPU.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for configs/

WORKLOADS = ("class_generators", "trainer_step")


def class_generators_ms(epochs: int) -> float:
    """ms per update of the ten generators (one epoch is one update at 5 images a class)."""
    import numpy as np
    from configs import augment_mnist
    from wae_jax.studies.augmentation import generators, per_class

    config = per_class.generator_config(augment_mnist.get_config(), "vae", 3, seed=0)
    rng = np.random.default_rng(0)
    train = [rng.random((5, 28, 28, 1), np.float32) for _ in range(10)]
    validation = [rng.random((1, 28, 28, 1), np.float32) for _ in range(10)]
    seconds = {}
    for num in (2, epochs):
        start = time.perf_counter()
        generators.train(config, train, validation, max_epochs=num, patience=num)
        seconds[num] = time.perf_counter() - start
    return 1e3 * (seconds[epochs] - seconds[2]) / (epochs - 2)


def measure(workload: str, kept: bool, epochs: int) -> float:
    """ms per step of `workload` in a fresh process with or without the kept buffers."""
    env = {**os.environ, "WAE_JAX_MALLOPT": "1" if kept else "0"}
    if workload == "class_generators":
        command = [sys.executable, __file__, "--child", f"--epochs={epochs}"]
    else:
        command = [sys.executable, str(ROOT / "benchmarks" / "train_throughput.py"), "--json",
                   "--steps=10"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True,
                            cwd=ROOT)
    line = json.loads(result.stdout.strip().splitlines()[-1])
    return line["step_ms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=32, help="class_generators epochs")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from wae_jax import cli
        cli.keep_freed_buffers()
        print(json.dumps({"step_ms": class_generators_ms(args.epochs)}))
        return
    rows = []
    for workload in args.workloads.split(","):
        times = {False: [], True: []}
        for _ in range(args.rounds):
            for kept in (False, True):
                times[kept].append(measure(workload, kept, args.epochs))
        ratios = [d / k for d, k in zip(times[False], times[True])]
        rows.append({"workload": workload, "default_ms": statistics.median(times[False]),
                     "kept_ms": statistics.median(times[True]),
                     "ratio": statistics.median(ratios), "ratios": ratios,
                     "load1": os.getloadavg()[0]})
    print("| workload | glibc default, ms/step | kept buffers, ms/step | speed-up (median) |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['workload']} | {row['default_ms']:.0f} | {row['kept_ms']:.0f} | "
              f"{row['ratio']:.2f}x |")
    if args.json:
        print(json.dumps({"rounds": args.rounds, "results": rows}))


if __name__ == "__main__":
    main()
