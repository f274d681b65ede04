"""A packed sweep run on Ray Tune: one trial per population, in the sweep's workdir
(layout in manifest.py; Ray Tune's own logs in W/ray_results).

Without an address, Ray starts a one-machine cluster here; with one, it joins that
cluster (`ray start --head` on the launch/ scripts' head node). Trials whose record
says finished or diverged are not submitted again; the others resume from their
checkpoints. A trial whose worker fails is retried by Ray (max_failures), then
recorded as failed with the error's last line; the other trials go on.
"""

import os
import time
from typing import Optional

import jax
import ray
from ray import tune

import wae_jax
from wae_jax import cli
from wae_jax.sweeps import manifest, packing, space, trial


def pending(workdir: str, trials: list[packing.Trial]) -> list[packing.Trial]:
    """The trials a run still has to train: no record, or a failed one."""
    todo = []
    for t in trials:
        record = trial.read_record(manifest.trial_workdir(workdir, t.name))
        if record is None or record["status"] not in trial.DONE:
            todo.append(t)
    return todo


def worker_env() -> dict[str, str]:
    """Environment of every Ray worker: several JAX processes may share one GPU (no
    preallocation), and they import this copy of wae_jax."""
    source_root = os.path.dirname(os.path.dirname(os.path.abspath(wae_jax.__file__)))
    path = os.pathsep.join(p for p in (source_root, os.environ.get("PYTHONPATH")) if p)
    return {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "PYTHONPATH": path}


def _trainable(params: dict, configs: dict, sweep: space.Sweep, workdir: str) -> None:
    """Ray Tune's function trainable: one trial, its outcome reported as metrics."""
    cli.keep_freed_buffers()  # a Ray worker is a command line of its own
    jax.config.update("jax_compilation_cache_dir", os.path.join(workdir, manifest.CACHE_DIR))
    name = params["trial"]
    record = trial.run_trial(configs[name], manifest.trial_workdir(workdir, name),
                             tuple(sweep.eval_metrics), sweep.eval_num_samples)
    tune.report({"status": record["status"],
                 "finished_members": sum(m["status"] == "finished" for m in record["members"])})


def _record_errors(workdir: str, results: tune.ResultGrid) -> None:
    """Trials that raised (after Ray's retries) get a failed record with the error."""
    for result in results:
        if result.error is None:
            continue
        name = result.config["trial"]
        lines = str(result.error).strip().splitlines() or ["unknown error"]
        trial.write_record(manifest.trial_workdir(workdir, name),
                           {"status": "failed", "reason": lines[-1], "members": []})


def run(trials: list[packing.Trial], sweep: space.Sweep, workdir: str,
        address: Optional[str] = None, num_cpus: Optional[int] = None) -> list[packing.Trial]:
    """Runs the pending trials on Ray (started here, or joined at `address`, unless it is
    already initialised); returns the trials it ran."""
    workdir = os.path.abspath(workdir)
    manifest.write(workdir, trials, sweep)
    todo = pending(workdir, trials)
    if not todo:
        return []
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else num_cpus,
                 include_dashboard=False, runtime_env={"env_vars": worker_env()})
    configs = {t.name: t.config for t in todo}
    trainable = tune.with_resources(
        tune.with_parameters(_trainable, configs=configs, sweep=sweep, workdir=workdir),
        tune.PlacementGroupFactory([sweep.resources.as_bundle()]))
    tuner = tune.Tuner(
        trainable,
        param_space={"trial": tune.grid_search([t.name for t in todo])},
        tune_config=tune.TuneConfig(reuse_actors=False),
        run_config=tune.RunConfig(
            name=time.strftime("sweep-%Y%m%d-%H%M%S"),
            storage_path=os.path.join(workdir, "ray_results"),
            failure_config=tune.FailureConfig(max_failures=sweep.max_failures),
            verbose=1))
    _record_errors(workdir, tuner.fit())
    return todo
