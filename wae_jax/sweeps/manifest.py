"""The sweep workdir's layout and W/sweep.json, the record of the expansion.

  W/sweep.json             every member's values, its trial and its run directory
  W/trials/<name>/         a trial's train_and_evaluate workdir and its trial.json
  W/jax_cache/             the compilation cache shared by every trial

No Ray here: the report reads a sweep from these files alone.
"""

import os
from typing import Any

from wae_jax.sweeps import packing, space, trial
from wae_jax.files import json_file

MANIFEST_NAME = "sweep.json"
TRIALS_DIR = "trials"
CACHE_DIR = "jax_cache"
# Config fields reported for every member, swept or not (the report's columns and axes).
REPORTED_FIELDS = ("method", "seed", "latent_dim", "batch_size", "num_train_steps",
                   "learning_rate", "adversary_learning_rate", "lambda_", "prior_std",
                   "model.arch", "model.encoder")


def trial_workdir(workdir: str, name: str) -> str:
    return os.path.join(os.path.abspath(workdir), TRIALS_DIR, name)


def _config_value(config, path: str) -> Any:
    for name in path.split("."):
        config = config[name]
    return config


def _values(member: packing.Member) -> dict[str, Any]:
    """The member's REPORTED_FIELDS and swept fields, as JSON values."""
    values = {path: _config_value(member.config, path) for path in REPORTED_FIELDS}
    values.update(member.point)
    return {path: list(v) if isinstance(v, tuple) else v for path, v in values.items()}


def manifest(trials: list[packing.Trial], sweep: space.Sweep) -> dict[str, Any]:
    """What the report needs to know of the expansion, as JSON."""
    members = []
    for t in trials:
        for position, member in enumerate(t.members):
            run_dir = trial.member_workdir(os.path.join(TRIALS_DIR, t.name), len(t.members),
                                           position)
            members.append({"member": member.index, "trial": t.name, "position": position,
                            "workdir": run_dir, "values": _values(member)})
    members.sort(key=lambda m: m["member"])
    return {"num_members": len(members), "num_trials": len(trials),
            "resources": sweep.resources.as_bundle(),
            "trials": [{"name": t.name, "size": len(t.members),
                        "members": [m.index for m in t.members]} for t in trials],
            "members": members}


def write(workdir: str, trials: list[packing.Trial], sweep: space.Sweep) -> None:
    os.makedirs(workdir, exist_ok=True)
    json_file.write(os.path.join(workdir, MANIFEST_NAME), manifest(trials, sweep))


def read(workdir: str) -> dict[str, Any]:
    manifest_value = json_file.read(os.path.join(workdir, MANIFEST_NAME))
    if manifest_value is None:
        raise FileNotFoundError(f"{workdir} has no {MANIFEST_NAME}: run the sweep first")
    return manifest_value
