"""Command line: a sweep declared in a config file, packed into populations, run on Ray.

  python -m wae_jax.sweep --config=configs/bigwae_mnist.py:tiny --workdir=W [--address=ADDR]
  python -m wae_jax.sweep ... --dry_run       # print the trials, start nothing
  python -m wae_jax.sweep ... --report_only   # rebuild W/report.* from W alone

The config file declares `get_config(arg)` (the base) and `get_sweep(arg)` (a
wae_jax.sweeps.space.Sweep: the members and how to run them); `--config.<field>=value`
overrides the base for every member. Without --address a one-machine Ray cluster is
started here; with it, the sweep joins that cluster (see launch/). Rerunning the same
command skips finished trials and resumes the others from their checkpoints; it ends
by writing W/report.csv, W/report.md and W/plots/.

Exit status: 0 every trial finished (members may have diverged); 1 some trial failed
or diverged (its reason is in report.md); 2 bad flags, config or sweep (one line on
stderr, nothing run).
"""

import importlib.util
import os
import sys
import types

from absl import flags
import ml_collections
from ml_collections import config_flags

from wae_jax import cli
from wae_jax.sweeps import manifest, packing, report, space

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file declaring get_sweep, e.g. configs/bigwae_mnist.py:tiny.",
    lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "The sweep's directory (trials, report).")
_ADDRESS = flags.DEFINE_string(
    "address", None, "Ray cluster to join (e.g. HEAD_IP:6379 or 'auto'); default: a local Ray.")
_NUM_CPUS = flags.DEFINE_integer("num_cpus", None, "CPUs of the local Ray (default: all).")
_DRY_RUN = flags.DEFINE_bool("dry_run", False, "Print every trial and start nothing.")
_REPORT_ONLY = flags.DEFINE_bool("report_only", False, "Rebuild the report from --workdir.")
flags.mark_flags_as_required(["workdir"])


def _config_module(path_and_arg: str) -> tuple[types.ModuleType, str | None]:
    """The config file as a module (config_flags keeps only its get_config's result)."""
    path, _, arg = path_and_arg.partition(":")
    spec = importlib.util.spec_from_file_location("sweep_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_sweep"):
        cli.exit_with(f"--config={path}: declares no get_sweep(arg); use a sweep config such "
                      "as configs/bigwae_mnist.py", 2)
    return module, arg or None


def _load() -> tuple[ml_collections.ConfigDict, space.Sweep]:
    if _CONFIG.value is None or not flags.FLAGS["config"].present:
        cli.exit_with("--config is missing: give a sweep config, e.g. "
                      "--config=configs/bigwae_mnist.py:tiny", 2)
    try:
        base = _CONFIG.value
        base.keys()
        module, arg = _config_module(config_flags.get_config_filename(flags.FLAGS["config"]))
        return base, module.get_sweep(arg)
    except (OSError, ValueError) as error:
        cli.exit_with(f"--config: {error}", 2)


def print_trials(trials: list[packing.Trial], sweep: space.Sweep) -> None:
    resources = ", ".join(f"{k}={v:g}" for k, v in sweep.resources.as_bundle().items())
    print(f"{sum(len(t.members) for t in trials)} members in {len(trials)} trials "
          f"(at most {sweep.max_population_size} per population), each trial {resources}")
    for t in trials:
        print(f"trial {t.name}: {len(t.members)} member(s), method={t.config.method}")
        for position, member in enumerate(t.members):
            print(f"  member {member.index} (position {position}): {space.describe(member.point)}")


def main() -> None:
    workdir = os.path.abspath(_WORKDIR.value)
    if _REPORT_ONLY.value:
        if not os.path.exists(os.path.join(workdir, manifest.MANIFEST_NAME)):
            cli.exit_with(f"--workdir={workdir}: no {manifest.MANIFEST_NAME}; run the sweep "
                          "first (without --report_only)", 2)
        report.write_report(workdir)
        return
    base, sweep = _load()
    try:
        trials = packing.pack(base, list(sweep.points), sweep.max_population_size)
    except space.SweepError as error:
        cli.exit_with(str(error), 2)
    if _DRY_RUN.value:
        print_trials(trials, sweep)
        return
    from wae_jax.sweeps import runner  # Ray only when a sweep runs

    try:
        runner.run(trials, sweep, workdir, address=_ADDRESS.value, num_cpus=_NUM_CPUS.value)
    except ConnectionError as error:  # ray.init found no cluster at --address
        cli.exit_with(f"--address={_ADDRESS.value}: {error}; start the cluster first (launch/)",
                      2)
    table = report.write_report(workdir)
    if any(row["status"] != "finished" for row in table):
        sys.exit(1)


if __name__ == "__main__":
    cli.run(main)
