"""Models/hour of whole runs: one population of K members against K solo runs, one by one.

  python benchmarks/population_end_to_end.py --config=mnist_mmd --k=4 --rounds=1 --json

What is timed: the researcher's commands, start to end, in fresh processes:
`python -m wae_jax.main --config=configs/<config>.py:small --config.population.size=K`
against K runs of `python -m wae_jax.main` on the members' own solo settings
(`--config.seed=i --config.data_seed=0`, as workdir/members/<i>/config.json has them).
Each includes start-up, data loading, compilation, encoder pre-training, evaluation,
sample scoring and checkpoints, i.e. what benchmarks/population_throughput.py (the
train step alone) leaves out. Compilation caches are off (a fresh machine).

The two alternate within each round (population first in odd rounds); the ratio quoted
is the median over rounds of K * t_solo_mean / t_population.
"""

import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

from absl import flags

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wae_jax import cli  # noqa: E402

_CONFIG = flags.DEFINE_string("config", "mnist_mmd", "A file of configs/ (run at ':small').")
_K = flags.DEFINE_integer("k", 4, "Population size and number of solo runs.")
_ROUNDS = flags.DEFINE_integer("rounds", 1, "Alternating rounds.")
_OVERRIDES = flags.DEFINE_list("override", [], "Extra --config.<field>=<value> for every run, "
                               "e.g. num_train_steps=600 (say so when quoting the result).")
_JSON = flags.DEFINE_bool("json", False, "Also print one JSON line with every measurement.")


def _run(workdir: str, *extra: str) -> float:
    """Seconds of one `python -m wae_jax.main` run; exits the benchmark if it fails."""
    command = [sys.executable, "-m", "wae_jax.main",
               f"--config=configs/{_CONFIG.value}.py:small", f"--workdir={workdir}",
               "--config.progress_bar=False", *[f"--config.{o}" for o in _OVERRIDES.value],
               *extra]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        cli.exit_with(f"{' '.join(command)} failed: {result.stderr[-2000:]}", 1)
    return time.perf_counter() - start


def _population(k: int) -> float:
    with tempfile.TemporaryDirectory() as workdir:
        return _run(workdir, f"--config.population.size={k}")


def _solo_runs(k: int) -> list[float]:
    times = []
    for seed in range(k):
        with tempfile.TemporaryDirectory() as workdir:
            times.append(_run(workdir, f"--config.seed={seed}", "--config.data_seed=0"))
    return times


def main():
    if not (ROOT / "configs" / f"{_CONFIG.value}.py").exists():
        cli.exit_with(f"--config={_CONFIG.value}: no configs/{_CONFIG.value}.py", 2)
    if _K.value < 1 or _ROUNDS.value < 1:
        cli.exit_with(f"--k={_K.value} --rounds={_ROUNDS.value}: use positive integers", 2)
    k, rounds = _K.value, []
    for index in range(_ROUNDS.value):
        if index % 2 == 0:
            t_pop, solo = _population(k), _solo_runs(k)
        else:
            solo, t_pop = _solo_runs(k), _population(k)
        rounds.append({"population_s": t_pop, "solo_s": solo, "load": os.getloadavg()[0]})
    ratios = [sum(r["solo_s"]) / r["population_s"] for r in rounds]
    solo_mean = statistics.median(statistics.mean(r["solo_s"]) for r in rounds)
    t_pop = statistics.median(r["population_s"] for r in rounds)
    print(f"{'config':>10} {'K':>3} {'solo run s':>10} {'population s':>12} "
          f"{'sequential models/h':>20} {'population models/h':>20} {'ratio':>6} {'load':>5}")
    print(f"{_CONFIG.value:>10} {k:>3} {solo_mean:>10.1f} {t_pop:>12.1f} "
          f"{3600 / solo_mean:>20.1f} {3600 * k / t_pop:>20.1f} "
          f"{statistics.median(ratios):>5.2f}x {rounds[-1]['load']:>5.1f}")
    if _JSON.value:
        print(json.dumps({"config": _CONFIG.value, "k": k, "overrides": _OVERRIDES.value,
                          "rounds": rounds, "median_ratio": statistics.median(ratios)}))


if __name__ == "__main__":
    cli.run(main)
