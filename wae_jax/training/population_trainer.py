"""The training loop of a population (config.population.size > 1), beside the solo one.

One compiled step updates all members (population.make_population_step); around
it, each member is written out as if it had run alone, in workdir/members/<i>/:
its solo config.json, metrics.jsonl, TensorBoard events, PNG grids, sample
metrics and best checkpoint (checkpoints_best), and its state as a normal solo
checkpoint (members/<i>/checkpoints), so that `python -m wae_jax.evaluate
--workdir=W/members/<i>` works on it. The stacked state is checkpointed once, in
workdir/checkpoints, and is what a run resumes from. workdir/population.json
summarises the members (varied values, status, best score).

Evaluation loops over the members with functions compiled once where their
arithmetic is shared (the sample decoder, the scorer and its reference
statistics); each member's test images and prior draws are those of its solo run.

A member whose metrics turn non-finite is frozen on the device at its last
finite state; here it is marked diverged at that step (a train/diverged scalar
in its log, its status in population.json), its solo checkpoints stop, and the
others go on. The run raises NonFiniteError only when every member diverged.

Each member's encoder pre-training (when on) runs as in its solo run, one member
after another, before the population's first step.
"""

import contextlib
import dataclasses
import functools
import json
import os
import time
from typing import Any, Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from wae_jax import data
from wae_jax.training import (checkpointing, population, preemption, progress_report,
                              sample_quality, steps, trainer)
from wae_jax.training.metrics_writer import MetricsWriter
from wae_jax.training.population import PopulationState
from wae_jax.training.progress_report import ProgressReport
from wae_jax.training.sample_quality import SampleQuality
from wae_jax.training.state import TrainState, create_train_state

SUMMARY_NAME = "population.json"
MEMBERS_DIR = "members"


def member_dir(workdir: str, index: int) -> str:
    return os.path.join(workdir, MEMBERS_DIR, str(index))


@dataclasses.dataclass
class _Member:
    """One member's host side: its solo Run (config, workdir), log and checkpoints."""
    run: trainer.Run
    writer: MetricsWriter
    monitor: Any  # trainer.Monitor: window means, logs, progress bar (member 0 only)
    checkpointer: checkpointing.Checkpointer
    figure_noise: np.ndarray  # its solo run's prior draws for the samples grid
    sample_noise: Optional[np.ndarray]  # its solo run's prior draws for sample_eval
    best: Optional[checkpointing.BestCheckpoint]  # members/<i>/checkpoints_best
    diverged_at: int  # 0 while training


def _create(run: trainer.Run, key: jax.Array) -> TrainState:
    return create_train_state(run.config, run.model, run.adversary, run.image_shape, key)


def _member_runs(run: trainer.Run) -> list[trainer.Run]:
    return [dataclasses.replace(run, config=member, workdir=member_dir(run.workdir, i))
            for i, member in enumerate(population.member_configs(run.config))]


def _initial_state(run: trainer.Run, member_runs: list[trainer.Run], pipeline,
                   checkpointer: checkpointing.Checkpointer) -> PopulationState:
    """The latest population checkpoint (and input position), or fresh members."""
    sharding = population.state_sharding(run.mesh, len(member_runs))
    if checkpointer.latest_step() is None:
        # One compiled initialisation for all members, unoptimised (trainer.initial_state).
        create = jax.jit(functools.partial(_create, run),
                         out_shardings=steps.replicated(run.mesh),
                         compiler_options={"xla_backend_optimization_level": 0})
        states = population.initial_member_states(run.config, create)
        return jax.device_put(_pretrain(run, member_runs, states), sharding)
    abstract = jax.eval_shape(lambda: population.stack(
        population.initial_member_states(run.config, functools.partial(_create, run))))
    abstract = jax.tree.map(
        lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding), abstract)
    return trainer.resume(run, checkpointer, abstract, pipeline)


def _pretrain(run: trainer.Run, member_runs: list[trainer.Run], states: list) -> PopulationState:
    """Each member's encoder pre-training as in its solo run (when on); a member whose
    pre-training diverges keeps its initial state and is marked diverged at step
    population.PRETRAINING."""
    diverged = []
    if run.config.pretrain_encoder:
        for i, member in enumerate(member_runs):
            initial = jax.tree.map(jnp.copy, states[i])  # pre-training donates its input
            try:
                states[i] = trainer.pretrain(member, states[i])
            except trainer.NonFiniteError as error:
                logging.warning("member %d diverged: %s", i, error)
                states[i] = initial
                diverged.append(i)
    state = population.stack(states)
    return state.replace(
        diverged_at=state.diverged_at.at[np.array(diverged, int)].set(population.PRETRAINING))


def _loop_step(state: PopulationState) -> int:
    """Updates done by the population: those of any member still training (frozen ones lag)."""
    return int(np.max(jax.device_get(state.members.step)))


def _write_summary(run: trainer.Run, members: list[_Member], step: int) -> None:
    """workdir/population.json: per member its directory, varied values and status."""
    entries = []
    for i, (member, varied) in enumerate(zip(members, population.varied_values(run.config))):
        status = ("diverged" if member.diverged_at else
                  "finished" if step == run.total_steps else "training")
        entry = {"member": i, "workdir": os.path.relpath(member.run.workdir, run.workdir),
                 "values": varied, "status": status, "step": step}
        if member.diverged_at:
            entry["diverged_at_step"] = member.diverged_at
        if member.best is not None and member.best.score is not None:
            entry["best"] = {k: member.best.score[k] for k in ("metric", "value", "step")}
        entries.append(entry)
    path = os.path.join(run.workdir, SUMMARY_NAME)
    with open(path + ".tmp", "w") as f:
        json.dump({"size": len(members), "members": entries}, f, indent=2)
    os.replace(path + ".tmp", path)


def _record(members: list[_Member], step: int, metrics: dict[str, Any]) -> None:
    """Logs each training member's metrics of `step`; marks the ones that turned non-finite."""
    values = jax.device_get(metrics)
    for i, member in enumerate(members):
        if member.diverged_at:
            continue
        mine = {k: float(v[i]) for k, v in values.items()}
        name = trainer.first_non_finite(mine)
        if name is None:
            member.monitor.record(step, mine)
            continue
        _mark_diverged(member, i, step, f"{name} is {mine[name]}; frozen at its last finite "
                       f"state, the others go on")


def _mark_diverged(member: _Member, index: int, step: int, reason: str) -> None:
    """Host side of a divergence: the member's log gets train/diverged at `step`."""
    member.diverged_at = step
    member.writer.write_scalars(step, {"train/diverged": 1.0})
    member.writer.flush()
    logging.warning("member %d diverged at step %d: %s", index, step, reason)


def _check_some_member_trains(members: list[_Member]) -> None:
    if all(member.diverged_at for member in members):
        raise trainer.NonFiniteError(
            f"every member of the population diverged (at steps "
            f"{[m.diverged_at for m in members]}, {population.PRETRAINING} = in encoder "
            f"pre-training); the last finite states are in the checkpoints")


def _freeze(state: PopulationState, members: list[_Member], index: int, step: int,
            error: Exception) -> PopulationState:
    """Marks a member whose evaluation turned non-finite diverged, on the host and device."""
    _mark_diverged(members[index], index, step, str(error))
    return state.replace(diverged_at=state.diverged_at.at[index].set(step))


def _evaluate(members: list[_Member], report: ProgressReport, state: PopulationState,
              step: int) -> PopulationState:
    """Each training member's test metrics and grids; a non-finite one freezes the member."""
    for i, member in enumerate(members):
        if member.diverged_at:
            continue
        try:
            trainer.evaluate_progress(member.run, report, member.monitor, member.writer,
                                      population.member_state(state, i), step,
                                      member.figure_noise)
        except trainer.NonFiniteError as error:
            state = _freeze(state, members, i, step, error)
    return state


def _evaluate_samples(members: list[_Member], quality: SampleQuality, state: PopulationState,
                      step: int) -> PopulationState:
    """Each training member's sample metrics, on its own prior draws; a new best of
    keep_best replaces its members/<i>/checkpoints_best."""
    for i, member in enumerate(members):
        if member.diverged_at:
            continue
        member_state = population.member_state(state, i)
        results = quality(member_state, member.sample_noise)
        scalars = sample_quality.scalars(results)
        try:
            member.monitor.check(step, scalars, "sample evaluation")
        except trainer.NonFiniteError as error:
            state = _freeze(state, members, i, step, error)
            continue
        member.writer.write_scalars(step, scalars)
        if member.best is not None:
            metric = member.run.config.sample_eval.keep_best
            member.best.offer(step, member_state, results[metric]["value"], results[metric])
    return state


def _save(run: trainer.Run, members: list[_Member], checkpointer, state: PopulationState,
          step: int, data_state: Any) -> None:
    """The stacked state once, and each training member's state as a solo checkpoint."""
    checkpointer.save(step, state, data_state)
    for i, member in enumerate(members):
        if not member.diverged_at:
            member.checkpointer.save(step, population.member_state(state, i), data_state)
    if run.is_chief:
        _write_summary(run, members, step)


def _loop(run: trainer.Run, members: list[_Member], state: PopulationState, pipeline,
          population_step, checkpointer, report: ProgressReport,
          quality: Optional[SampleQuality]) -> PopulationState:
    config, last = run.config, run.total_steps
    start = _loop_step(state)
    batch_sharding = population.batch_sharding(run.mesh, len(members))
    pending = None  # (step, metrics) of the last dispatched update, fetched one step late
    with preemption.stop_requests() as stop_requested:
        for step in range(start + 1, last + 1):
            batch = jax.device_put(data.to_global_batch(next(pipeline), run.mesh),
                                   batch_sharding)
            state, metrics = population_step(state, batch)
            if pending is not None:
                _record(members, *pending)
            pending = (step, metrics)
            evaluate = trainer.is_due(step, config.eval_every_steps, last)
            score = quality is not None and trainer.is_due(step, config.sample_eval.every_steps,
                                                            last)
            stop = step < last and stop_requested(step)
            save = trainer.is_due(step, config.checkpoint_every_steps, last) or stop
            if evaluate or score or save:
                _record(members, *pending)
                pending = None
                _check_some_member_trains(members)
            started = time.perf_counter()
            if evaluate:
                state = _evaluate(members, report, state, step)
            if score:
                state = _evaluate_samples(members, quality, state, step)
            if save:
                _save(run, members, checkpointer, state, step, pipeline.get_state())
            if stop:
                raise preemption.Preempted(
                    f"SIGTERM: stopped at step {step} of {last} after saving its checkpoint "
                    f"in {checkpointer.directory}; re-run the same command to resume")
            for member in members:
                member.monitor.exclude(time.perf_counter() - started)
    return state


def train(run: trainer.Run) -> PopulationState:
    """Trains the population of `run.config` in `run.workdir`; returns the final state."""
    config, workdir, size = run.config, run.workdir, population.size(run.config)
    member_runs = _member_runs(run)
    pipeline = trainer.input_pipeline(run, config.batch_size, population.data_seed(config))
    checkpointer = checkpointing.Checkpointer(workdir, config.keep_checkpoints)
    state = _initial_state(run, member_runs, pipeline, checkpointer)
    start = _loop_step(state)
    if run.is_chief:
        checkpointing.write_config(workdir, config)
        for member in member_runs:
            os.makedirs(member.workdir, exist_ok=True)
            checkpointing.write_config(member.workdir, member.config)
    logging.info("Training a population of %d %s models on %s for %d steps from step %d on "
                 "%d device(s)", size, config.method, config.dataset, run.total_steps, start,
                 jax.device_count())
    population_step = population.compile_population_step(
        population.make_population_step(config, run.model, run.adversary, run.steps_per_epoch),
        run.mesh, size)
    test_images = trainer.test_images(run)
    # Compiled once for all members: the test objective and figure functions, the sample
    # scorer (reference statistics, classifier) and decoder; the prior draws are each one's.
    report = ProgressReport(config, run.model, run.adversary, run.mesh, test_images,
                            run.steps_per_epoch)
    quality = SampleQuality(config, run.model, run.mesh) if config.sample_eval.metrics else None
    diverged_at = jax.device_get(state.diverged_at)
    with contextlib.ExitStack() as stack:
        stack.callback(checkpointer.close)
        members = [_open_member(stack, member_run, i, start, len(test_images), quality,
                                int(diverged_at[i]))
                   for i, member_run in enumerate(member_runs)]
        if run.is_chief:
            _write_summary(run, members, start)
        _check_some_member_trains(members)
        return _loop(run, members, state, pipeline, population_step, checkpointer, report,
                     quality)


def _open_member(stack: contextlib.ExitStack, member_run: trainer.Run, index: int, start: int,
                 num_figure_images: int, quality: Optional[SampleQuality],
                 diverged_at: int) -> _Member:
    """Member `index`'s log, monitor and checkpoints in members/<i>, closed by `stack`."""
    config = member_run.config
    writer = MetricsWriter(member_run.workdir, start, enabled=member_run.is_chief)
    stack.callback(writer.close)
    quiet = (dataclasses.replace(member_run, config=_without_progress_bar(config)) if index
             else member_run)  # one progress bar: member 0's
    monitor = trainer.Monitor(quiet, writer, start)
    stack.callback(monitor.close)
    checkpointer = checkpointing.Checkpointer(member_run.workdir, config.keep_checkpoints)
    stack.callback(checkpointer.close)
    best = trainer.best_checkpoint(member_run)
    if best is not None:
        stack.callback(best.close)
    sample_noise = (sample_quality.prior_noise(config, config.sample_eval.num_samples,
                                               sample_quality.SAMPLE_SEED)
                    if quality is not None else None)
    if start == 0 and diverged_at:  # in its encoder pre-training
        writer.write_scalars(0, {"train/diverged": 1.0})
    return _Member(member_run, writer, monitor, checkpointer,
                   progress_report.figure_noise(config, num_figure_images), sample_noise, best,
                   diverged_at)


def _without_progress_bar(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    config = config.copy_and_resolve_references()
    config.progress_bar = False
    return config
