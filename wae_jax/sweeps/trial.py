"""One trial of a sweep: train a population (or one model), then evaluate each member.

This is what a Ray worker runs (runner.py), and it needs no Ray: the outcome is
written to <trial workdir>/trial.json, which the runner reads to skip finished
trials on a rerun and the report reads for its rows. A bad config and a population
whose every member diverged are outcomes ("failed", "diverged"), not exceptions,
so that Ray does not retry them; anything else (a lost worker, a preemption) is
left to Ray's retries, and the retried trial resumes from its checkpoints.
"""

import os
from typing import Any, Optional

import ml_collections

from wae_jax import workdir_evaluation
from wae_jax.files import json_file
from wae_jax.training import (checkpointing, experiment, population_trainer, trainer,
                              validation)

RECORD_NAME = "trial.json"
DONE = ("finished", "diverged")  # outcomes that a rerun does not train again


def read_record(workdir: str) -> Optional[dict]:
    return json_file.read(os.path.join(workdir, RECORD_NAME))


def write_record(workdir: str, record: dict) -> None:
    os.makedirs(workdir, exist_ok=True)
    json_file.write(os.path.join(workdir, RECORD_NAME), record)


def member_workdir(workdir: str, size: int, position: int) -> str:
    """A member's solo run directory: the trial's own workdir when it has one member."""
    return workdir if size == 1 else population_trainer.member_dir(workdir, position)


def one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def _solo_best(workdir: str) -> Optional[dict]:
    if not os.path.isdir(os.path.join(workdir, checkpointing.BEST_DIR)):
        return None
    best = checkpointing.BestCheckpoint(workdir)
    try:
        score = best.score
    finally:
        best.close()
    return None if score is None else {k: score[k] for k in ("metric", "value", "step")}


def _member_outcomes(workdir: str, size: int) -> list[dict]:
    """Status and best score of each member of a trained trial."""
    if size == 1:
        return [{"status": "finished", "best": _solo_best(workdir)}]
    summary = json_file.read(os.path.join(workdir, population_trainer.SUMMARY_NAME))
    return [{"status": m["status"], "best": m.get("best")} for m in summary["members"]]


def _test_metrics(workdir: str, best: Optional[dict], metrics: tuple, num_samples: int
                  ) -> dict[str, Any]:
    """Test-split numbers of the member's best checkpoint (its latest without one)."""
    results = workdir_evaluation.evaluate_workdir(
        workdir, checkpoint="best" if best else "latest", metrics=metrics,
        num_samples=num_samples)
    flat = {"checkpoint_step": results["checkpoint_step"],
            "reconstruction_cost": results["test"]["reconstruction_cost"],
            "penalty": results["test"]["penalty"],
            "sharpness": results["sharpness"]["samples"]["sharpness_mean"]}
    flat.update({name: results[name]["value"] for name in metrics})
    return flat


def run_trial(config: ml_collections.ConfigDict, workdir: str, metrics: tuple = (),
              num_samples: int = 10_000) -> dict:
    """Trains and evaluates one trial in `workdir`; returns and writes its record."""
    size = config.population.size
    try:
        experiment.train_and_evaluate(config, workdir)
    except validation.ConfigError as error:
        record = {"status": "failed", "reason": one_line(error), "members": []}
    except trainer.NonFiniteError as error:
        record = {"status": "diverged", "reason": one_line(error), "members": []}
    else:
        members = _member_outcomes(workdir, size)
        for position, member in enumerate(members):
            if member["status"] == "finished":
                try:
                    member["test"] = _test_metrics(member_workdir(workdir, size, position),
                                                   member["best"], metrics, num_samples)
                except workdir_evaluation.EvaluationError as error:
                    member["test_error"] = one_line(error)
        record = {"status": "finished", "members": members}
    write_record(workdir, record)
    return record
