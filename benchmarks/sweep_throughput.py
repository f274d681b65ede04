"""Members/hour of the tiny bigWAE sweep: Ray + populations against a shell loop of solo runs.

  python benchmarks/sweep_throughput.py --json

Both sides train the same 12 members of `configs/bigwae_mnist.py:tiny` (3 methods x 2
configurations x 2 seeds, MLPs, 8 steps) on fabricated offline MNIST (64 + 16 synthetic
digits, tests/training/tiny.py: no download) and evaluate each on the test split:
- sweep: `python -m wae_jax.sweep --config=configs/bigwae_mnist.py:tiny --num_cpus=N`,
  a local Ray with 3 trials (one population of 4 per method), the report included;
- loop: for each member, `python -m wae_jax.main` with the member's overrides as
  `--config.<field>=value` flags, then `python -m wae_jax.evaluate` of its last checkpoint
  (the sweep's own per-member evaluation), one process after another, as a shell loop would.
Each side is timed end to end (wall clock, process start-up included): members/hour =
3600 * members / seconds. The 1-minute load average is recorded before and after.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # configs/ and tests/

from absl import flags  # noqa: E402

from configs import bigwae_mnist  # noqa: E402
from wae_jax import cli  # noqa: E402
from wae_jax.data import preparation  # noqa: E402
from tests.training import tiny  # noqa: E402

_NUM_CPUS = flags.DEFINE_integer("num_cpus", 2, "CPUs of the sweep's local Ray.")
_JSON = flags.DEFINE_bool("json", False, "Also print one JSON line with the measurements.")


def _flag(field: str, value) -> str:
    text = "(" + ",".join(repr(v) for v in value) + ")" if isinstance(value, tuple) else value
    return f"--config.{field}={text}"


def _run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        cli.exit_with(f"{' '.join(command[:4])} ... failed: {result.stderr[-300:]}", 1)


def _timed(commands: list[list[str]]) -> float:
    start = time.perf_counter()
    for command in commands:
        _run(command)
    return time.perf_counter() - start


def _fabricated_mnist(directory: pathlib.Path) -> str:
    (directory / "raw").mkdir()
    tiny.write_raw_mnist(directory / "raw")
    preparation.prepare("mnist", directory / "tfds", directory / "raw", verify_counts=False)
    return str(directory / "tfds")


def main() -> None:
    python = sys.executable
    work = pathlib.Path(tempfile.mkdtemp(prefix="sweep_throughput_"))
    data_dir = _fabricated_mnist(work)
    points = bigwae_mnist.get_sweep("tiny").points
    config = "configs/bigwae_mnist.py:tiny"
    load_before = os.getloadavg()[0]
    sweep_seconds = _timed([[python, "-m", "wae_jax.sweep", f"--config={config}",
                             f"--config.data_dir={data_dir}", f"--workdir={work / 'sweep'}",
                             f"--num_cpus={_NUM_CPUS.value}"]])
    loop = []
    for index, point in enumerate(points):
        workdir = str(work / "loop" / str(index))
        loop.append([python, "-m", "wae_jax.main", f"--config={config}", f"--workdir={workdir}",
                     f"--config.data_dir={data_dir}",
                     *[_flag(field, value) for field, value in point.items()]])
        loop.append([python, "-m", "wae_jax.evaluate", f"--workdir={workdir}", "--metrics=",
                     "--num_samples=16"])
    loop_seconds = _timed(loop)
    load_after = os.getloadavg()[0]
    rows = [("Ray + populations (3 trials of 4)", sweep_seconds),
            ("shell loop of solo wae_jax.main + evaluate", loop_seconds)]
    print(f"{len(points)} members of {config}; load {load_before:.1f} -> {load_after:.1f}")
    print("| how | seconds | members/hour |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.0f} | {3600 * len(points) / seconds:.0f} |")
    if _JSON.value:
        print(json.dumps({"members": len(points), "sweep_seconds": sweep_seconds,
                          "loop_seconds": loop_seconds, "num_cpus": _NUM_CPUS.value,
                          "load_before": load_before, "load_after": load_after}))


if __name__ == "__main__":
    cli.run(main)
