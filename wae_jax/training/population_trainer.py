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
arithmetic is shared (the scorer and its reference statistics); the prior samples
of all members are decoded by one vmapped program. Each member's test images and
prior draws are those of its solo run.

A member whose metrics turn non-finite is frozen on the device at its last
finite state; here it is marked diverged at that step (a train/diverged scalar
in its log, its status in population.json), its solo checkpoints stop, and the
others go on. The run raises NonFiniteError only when every member diverged.

Each member's encoder pre-training (when on) runs as in its solo run, one member
after another, before the population's first step.

Data is one batch for all members (population.data='shared') or, with 'per_member',
each member's own solo input pipeline (its train_classes, data order and epoch
length); the stacked batches [K, B, ...] feed the vmapped step. Members whose runs
are shorter (fewer epochs' worth of steps) finish early: from their last step on
they are frozen, and their evaluations and checkpoints follow their own schedule.
"""

import contextlib
import dataclasses
import functools
import os
import time
from typing import Any, Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from wae_jax import data
from wae_jax.files import json_file
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

    def trains_at(self, step: int) -> bool:
        """The update `step` is one of this member's (not diverged, not yet finished)."""
        return not self.diverged_at and step <= self.run.total_steps

    def is_due(self, step: int, every: int) -> bool:
        """Its solo run would evaluate (or save) after update `step`."""
        return self.trains_at(step) and trainer.is_due(step, every, self.run.total_steps)


def _create(run: trainer.Run, key: jax.Array) -> TrainState:
    return create_train_state(run.config, run.model, run.adversary, run.image_shape, key)


def _member_runs(run: trainer.Run) -> list[trainer.Run]:
    """Each member's solo Run; with per-member data, its own epoch length and step count."""
    runs = []
    for i, member in enumerate(population.member_configs(run.config)):
        epoch = (trainer.epoch_steps(member) if population.per_member_data(run.config)
                 else run.steps_per_epoch)
        runs.append(dataclasses.replace(run, config=member, workdir=member_dir(run.workdir, i),
                                        steps_per_epoch=epoch,
                                        total_steps=trainer.total_steps(member, epoch)))
    return runs


class _MemberPipelines:
    """Per-member data: each member's solo input pipeline; a batch stacks theirs [K, B, ...]."""

    def __init__(self, member_runs: list[trainer.Run]):
        self._pipelines = [
            trainer.input_pipeline(m, m.config.batch_size, population.data_seed(m.config))
            for m in member_runs]

    def __next__(self) -> dict[str, np.ndarray]:
        batches = [next(p) for p in self._pipelines]
        return {k: np.stack([b[k] for b in batches]) for k in batches[0]}

    def get_state(self) -> dict[str, Any]:
        return {"members": [p.get_state() for p in self._pipelines]}

    def set_state(self, state: dict[str, Any]) -> None:
        saved = state.get("members", ())
        if len(saved) != len(self._pipelines):
            raise ValueError(f"data pipeline state was saved for {len(saved)} member "
                             f"pipelines, not {len(self._pipelines)}; resume with the saved "
                             f"population.data and size")
        for pipeline, member_state in zip(self._pipelines, saved):
            pipeline.set_state(member_state)


def _input_pipeline(run: trainer.Run, member_runs: list[trainer.Run]):
    if population.per_member_data(run.config):
        return _MemberPipelines(member_runs)
    return trainer.input_pipeline(run, run.config.batch_size, population.data_seed(run.config))


def _global_images(run: trainer.Run, batch: dict[str, np.ndarray], sharding) -> dict:
    """{"image": the step's global image batch}, placed as the compiled step expects."""
    if population.per_member_data(run.config):  # one process (make_run checks it)
        return {"image": jax.make_array_from_process_local_data(sharding, batch["image"])}
    images = data.to_global_batch({"image": batch["image"]}, run.mesh)
    return jax.device_put(images, sharding)


def _abstract_state(run: trainer.Run) -> PopulationState:
    """Shapes, dtypes and shardings of the stacked state (nothing computed)."""
    sharding = population.state_sharding(run.mesh, population.size(run.config))
    abstract = jax.eval_shape(lambda: population.stack(
        population.initial_member_states(run.config, functools.partial(_create, run))))
    return jax.tree.map(
        lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding), abstract)


def _initial_state(run: trainer.Run, member_runs: list[trainer.Run], pipeline,
                   checkpointer: checkpointing.Checkpointer, abstract: PopulationState
                   ) -> PopulationState:
    """The latest population checkpoint (and input position), or fresh members."""
    if checkpointer.latest_step() is None:
        # One compiled initialisation for all members, unoptimised (trainer.initial_state).
        create = jax.jit(functools.partial(_create, run),
                         out_shardings=steps.replicated(run.mesh),
                         compiler_options={"xla_backend_optimization_level": 0})
        states = population.initial_member_states(run.config, create)
        sharding = population.state_sharding(run.mesh, len(member_runs))
        return jax.device_put(_pretrain(run, member_runs, states), sharding)
    return trainer.resume(run, checkpointer, abstract, pipeline)


def _compile_step(run: trainer.Run, member_runs: list[trainer.Run], abstract: PopulationState):
    """The population step compiled for the state's and the image batch's shapes and
    shardings; ConfigError when it cannot fit in the devices' memory."""
    config, size = run.config, population.size(run.config)
    per_member = population.per_member_data(config)
    step_fn = population.compile_population_step(
        population.make_population_step(
            config, run.model, run.adversary, [m.steps_per_epoch for m in member_runs],
            [m.total_steps for m in member_runs], per_member,
            population.vectorize(config), run.mesh),
        run.mesh, size, per_member)
    shape = (size,) * per_member + (config.batch_size,) + tuple(run.image_shape)
    images = jax.ShapeDtypeStruct(shape, jnp.float32,
                                  sharding=population.batch_sharding(run.mesh, size, per_member))
    compiled = step_fn.lower(abstract, {"image": images}).compile()
    population.check_memory(compiled, size, population.available_memory(jax.local_devices()[0]))
    return compiled


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
                  "finished" if step >= member.run.total_steps else "training")
        entry = {"member": i, "workdir": os.path.relpath(member.run.workdir, run.workdir),
                 "values": varied, "status": status,
                 "step": min(step, member.run.total_steps)}
        if member.diverged_at:
            entry["diverged_at_step"] = member.diverged_at
        if member.best is not None and member.best.score is not None:
            entry["best"] = {k: member.best.score[k] for k in ("metric", "value", "step")}
        entries.append(entry)
    json_file.write(os.path.join(run.workdir, SUMMARY_NAME),
                    {"size": len(members), "members": entries})


def _record(members: list[_Member], step: int, metrics: dict[str, Any]) -> None:
    """Logs each training member's metrics of `step`; marks the ones that turned non-finite."""
    values = jax.device_get(metrics)
    for i, member in enumerate(members):
        if not member.trains_at(step):
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
    if all(member.diverged_at for member in members):  # finished ones are not diverged
        raise trainer.NonFiniteError(
            f"every member of the population diverged (at steps "
            f"{[m.diverged_at for m in members]}, {population.PRETRAINING} = in encoder "
            f"pre-training); the last finite states are in the checkpoints")


def _freeze(state: PopulationState, members: list[_Member], index: int, step: int,
            error: Exception) -> PopulationState:
    """Marks a member whose evaluation turned non-finite diverged, on the host and device."""
    _mark_diverged(members[index], index, step, str(error))
    return state.replace(diverged_at=state.diverged_at.at[index].set(step))


def _evaluate(members: list[_Member], reports: dict[int, ProgressReport],
              state: PopulationState, step: int) -> PopulationState:
    """The test metrics and grids of each member due; a non-finite one freezes the member.
    `reports` holds one ProgressReport per epoch length (its lambda schedule)."""
    for i, member in enumerate(members):
        if not member.is_due(step, member.run.config.eval_every_steps):
            continue
        report = reports[member.run.steps_per_epoch]
        try:
            trainer.evaluate_progress(member.run, report, member.monitor, member.writer,
                                      population.member_state(state, i), step,
                                      member.figure_noise)
        except trainer.NonFiniteError as error:
            state = _freeze(state, members, i, step, error)
    return state


def _evaluate_samples(members: list[_Member], quality: SampleQuality, state: PopulationState,
                      step: int) -> PopulationState:
    """The sample metrics of each member due, on its own prior draws (all members decoded
    by one program); a new best of keep_best replaces its members/<i>/checkpoints_best."""
    due = [i for i, m in enumerate(members) if m.is_due(step, m.run.config.sample_eval.every_steps)]
    if not due:
        return state
    results = quality.members(state.members, np.stack([m.sample_noise for m in members]), due)
    for i in due:
        member, scalars = members[i], sample_quality.scalars(results[i])
        try:
            member.monitor.check(step, scalars, "sample evaluation")
        except trainer.NonFiniteError as error:
            state = _freeze(state, members, i, step, error)
            continue
        member.writer.write_scalars(step, scalars)
        if member.best is not None:
            metric = member.run.config.sample_eval.keep_best
            member.best.offer(step, population.member_state(state, i),
                              results[i][metric]["value"], results[i][metric])
    return state


def _save(run: trainer.Run, members: list[_Member], checkpointer, state: PopulationState,
          step: int, data_state: Any, stopping: bool) -> None:
    """The stacked state once, and the state of each member due (or all training ones
    when stopping) as a solo checkpoint, with its own pipeline's position."""
    checkpointer.save(step, state, data_state)
    for i, member in enumerate(members):
        if member.is_due(step, run.config.checkpoint_every_steps) or (
                stopping and member.trains_at(step)):
            own = data_state["members"][i] if population.per_member_data(run.config) else (
                data_state)
            member.checkpointer.save(step, population.member_state(state, i), own)
    if run.is_chief:
        _write_summary(run, members, step)


def _any_due(members: list[_Member], step: int, every: int) -> bool:
    return any(member.is_due(step, every) for member in members)


def _loop(run: trainer.Run, members: list[_Member], state: PopulationState, pipeline,
          population_step, checkpointer, reports: dict[int, ProgressReport],
          quality: Optional[SampleQuality]) -> PopulationState:
    config, last = run.config, run.total_steps
    start = _loop_step(state)
    batch_sharding = population.batch_sharding(run.mesh, len(members),
                                                population.per_member_data(config))
    pending = None  # (step, metrics) of the last dispatched update, fetched one step late
    with preemption.stop_requests() as stop_requested:
        for step in range(start + 1, last + 1):
            batch = _global_images(run, next(pipeline), batch_sharding)
            state, metrics = population_step(state, batch)
            if pending is not None:
                _record(members, *pending)
            pending = (step, metrics)
            evaluate = _any_due(members, step, config.eval_every_steps)
            score = quality is not None and _any_due(members, step,
                                                     config.sample_eval.every_steps)
            stop = step < last and stop_requested(step)
            save = (trainer.is_due(step, config.checkpoint_every_steps, last) or stop
                    or _any_due(members, step, config.checkpoint_every_steps))
            if evaluate or score or save:
                _record(members, *pending)
                pending = None
                _check_some_member_trains(members)
            started = time.perf_counter()
            if evaluate:
                state = _evaluate(members, reports, state, step)
            if score:
                state = _evaluate_samples(members, quality, state, step)
            if save:
                _save(run, members, checkpointer, state, step, pipeline.get_state(), stop)
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
    abstract = _abstract_state(run)
    population_step = _compile_step(run, member_runs, abstract)  # refuses what cannot fit
    pipeline = _input_pipeline(run, member_runs)
    checkpointer = checkpointing.Checkpointer(workdir, config.keep_checkpoints)
    state = _initial_state(run, member_runs, pipeline, checkpointer, abstract)
    start = _loop_step(state)
    if run.is_chief:
        checkpointing.write_config(workdir, config)
        for member in member_runs:
            os.makedirs(member.workdir, exist_ok=True)
            checkpointing.write_config(member.workdir, member.config)
    logging.info("Training a population of %d %s models on %s for %d steps from step %d on "
                 "%d device(s)", size, config.method, config.dataset, run.total_steps, start,
                 jax.device_count())
    test_images = trainer.test_images(run)
    # Compiled once for all members (once per epoch length): the test objective and figure
    # functions, the sample scorer (reference statistics, classifier) and decoder; the
    # prior draws are each one's.
    reports = {epoch: ProgressReport(config, run.model, run.adversary, run.mesh, test_images,
                                     epoch)
               for epoch in sorted({m.steps_per_epoch for m in member_runs})}
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
        return _loop(run, members, state, pipeline, population_step, checkpointer, reports,
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
