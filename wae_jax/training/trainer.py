"""The one training loop for every method: `make_run(config, workdir)`, then `train(run)`.

(`experiment.train_and_evaluate` calls them, or the population trainer, which reuses this
module's pieces for K models.) The loop is method-agnostic: the method lives in the compiled step
(steps.make_train_step + methods.METHODS). Around the step, this module does
the bookkeeping: validation before any work, resume from
the newest readable checkpoint (state and input iterator), the encoder
pre-training heuristic on fresh runs, metrics fetched one step late (so the host
never waits for the device except before a checkpoint or an evaluation), a NaN
guard that stops before a bad state is saved, a checkpoint and a stop on SIGTERM,
TensorBoard + metrics.jsonl, PNG grids, periodic sample quality (FID etc.,
config.sample_eval) with the best checkpoint kept, and a progress bar.
"""

import contextlib
import dataclasses
import math
import os
import time
from typing import Any, Callable, Iterator, Optional

import jax
import ml_collections
import numpy as np
import tqdm
from absl import logging

from wae_jax import data, models
from wae_jax.training import (checkpointing, encoder_pretraining, figures, methods,
                              population, preemption, sample_quality, steps,
                              validation)
from wae_jax.training.progress_report import ProgressReport
from wae_jax.training.sample_quality import SampleQuality
from wae_jax.training.metrics_writer import MetricsWriter
from wae_jax.training.state import TrainState, abstract_train_state, create_train_state


class NonFiniteError(RuntimeError):
    """A training or evaluation quantity became NaN or infinite; nothing after it was saved."""


@dataclasses.dataclass(frozen=True)
class Run:
    """The static facts of a run, derived once from config and data."""
    config: ml_collections.ConfigDict
    workdir: str
    image_shape: tuple[int, int, int]
    steps_per_epoch: int
    total_steps: int
    model: Any
    adversary: Any
    mesh: jax.sharding.Mesh

    @property
    def is_chief(self) -> bool:
        return jax.process_index() == 0


def total_steps(config: ml_collections.ConfigDict, steps_per_epoch: int) -> int:
    """num_train_steps when positive, else num_epochs full passes over the training set."""
    return config.num_train_steps if config.num_train_steps > 0 else (
        config.num_epochs * steps_per_epoch)


def epoch_steps(config: ml_collections.ConfigDict) -> int:
    """Updates per epoch: the training images (of train_classes) over the batch size;
    ConfigError when the data is missing or smaller than a batch."""
    try:
        num_train = data.num_examples(config.dataset, "train", config.data_dir or None,
                                      tuple(config.train_classes))
    except FileNotFoundError as error:  # e.g. CelebA not supplied: the message says how
        raise validation.ConfigError(
            f"config.dataset={config.dataset!r} (data_dir={config.data_dir!r}): {error}") from None
    batch_fields = ["batch_size"] + (["pretrain_batch_size"] if config.pretrain_encoder else [])
    for field in batch_fields:
        if config[field] > num_train:
            classes = f" of classes {tuple(config.train_classes)}" if config.train_classes else ""
            raise validation.ConfigError(
                f"config.{field}={config[field]}: larger than the {num_train} training "
                f"images{classes} of {config.dataset}")
    return num_train // config.batch_size


def make_run(config: ml_collections.ConfigDict, workdir: str) -> Run:
    """Validates everything that can be checked before data or compilation (ConfigError).

    For a population with per-member data every member's data is checked too; the
    run's steps_per_epoch and total_steps are then the longest member's.
    """
    validation.validate_config(config, jax.device_count())
    validation.check_workdir(workdir)
    image_shape = tuple(data.image_shape(config.dataset))
    if population.per_member_data(config):
        if jax.process_count() > 1:
            raise validation.ConfigError(
                "config.population.data='per_member' runs in one process (each process would "
                "read every member's batch); use 'shared' or one process per population")
        steps_per_epoch = max(epoch_steps(m) for m in population.member_configs(config))
    else:
        steps_per_epoch = epoch_steps(config)
    adversary = (models.build_adversary(config.model)
                 if methods.METHODS[config.method].adversary else None)
    return Run(config, workdir, image_shape, steps_per_epoch,
               total_steps(config, steps_per_epoch),
               models.build_autoencoder(population.model_config(config), image_shape), adversary,
               steps.make_mesh())


def input_pipeline(run: Run, batch_size: int, seed: int) -> Iterator[dict[str, np.ndarray]]:
    config = run.config
    return data.make_train_pipeline(
        config.dataset, batch_size=batch_size, seed=seed, value_range=config.value_range,
        random_flip=config.random_flip, data_dir=config.data_dir or None,
        classes=tuple(config.train_classes))


def _global_images(run: Run, pipeline: Iterator[dict[str, np.ndarray]]) -> Iterator[Any]:
    while True:
        yield data.to_global_batch(next(pipeline), run.mesh)["image"]


def pretrain(run: Run, state: TrainState) -> TrainState:
    """The WAE encoder pre-training heuristic, on its own input stream (data seed + 1)."""
    init_fn, step_fn = encoder_pretraining.make_pretrain_fns(run.config, run.model)
    rep, sharded = steps.replicated(run.mesh), steps.data_sharded(run.mesh)
    init_fn = jax.jit(init_fn, out_shardings=rep)
    step_fn = jax.jit(step_fn, in_shardings=(rep, rep, rep, sharded, rep), out_shardings=rep,
                      donate_argnums=(0, 1, 2))
    seed = population.data_seed(run.config) + 1
    batches = _global_images(run, input_pipeline(run, run.config.pretrain_batch_size, seed))
    state, num, loss = encoder_pretraining.pretrain_encoder(run.config, state, init_fn,
                                                            step_fn, batches, logging.info)
    if not math.isfinite(loss):
        raise NonFiniteError(f"encoder pre-training loss is {loss} after {num} steps; "
                             f"lower learning_rate or set pretrain_encoder=False")
    logging.info("encoder pre-training: %d steps, final moment-matching loss %.4f", num, loss)
    return state


def initial_state(run: Run, pipeline, checkpointer: checkpointing.Checkpointer
                   ) -> TrainState:
    """The latest checkpoint's state (and input position), or a fresh, pre-trained one."""
    config = run.config
    # Initialisation runs once and is all random-number code, which XLA:CPU spends
    # seconds optimising; unoptimised it compiles ~5x faster and runs in milliseconds.
    create = jax.jit(lambda key: create_train_state(config, run.model, run.adversary,
                                                    run.image_shape, key),
                     out_shardings=steps.replicated(run.mesh),
                     compiler_options={"xla_backend_optimization_level": 0})
    if checkpointer.latest_step() is None:
        state = create(jax.random.PRNGKey(config.seed))
        return pretrain(run, state) if config.pretrain_encoder else state
    abstract = abstract_train_state(config, run.model, run.adversary, run.image_shape,
                                    steps.replicated(run.mesh))
    return resume(run, checkpointer, abstract, pipeline)


def resume(run: Run, checkpointer: checkpointing.Checkpointer, abstract: Any, pipeline) -> Any:
    """The newest readable checkpoint's state restored into `abstract`, the input pipeline
    set to its position, and newer unreadable checkpoints set aside; a checkpoint that
    does not fit the config is a ConfigError naming what changed."""
    changes = checkpointing.changed_fields(run.workdir, run.config)
    if changes:
        logging.warning("Resuming %s with a config that differs from the saved one:\n  %s",
                        run.workdir, "\n  ".join(changes))
    unfit = (f"the checkpoint in {checkpointer.directory} does not fit this config (changed: "
             f"{'; '.join(changes) or 'nothing recorded'}); resume with the saved config or "
             f"use another --workdir")
    try:
        state, data_state, step = checkpointer.restore(abstract)
    except checkpointing.CheckpointMismatch:
        raise validation.ConfigError(f"{unfit}: its arrays have other shapes") from None
    except checkpointing.NoReadableCheckpoint as error:
        raise validation.ConfigError(str(error)) from None
    try:
        pipeline.set_state(data_state)
    except ValueError as error:  # the input settings changed since the checkpoint
        raise validation.ConfigError(f"{unfit}: {error}") from None
    checkpointer.set_aside_newer(step)
    logging.info("Resumed from the checkpoint of step %d in %s", step, checkpointer.directory)
    return state


def first_non_finite(values: dict[str, float]) -> Optional[str]:
    for name, value in values.items():
        if not math.isfinite(value):
            return name
    return None


class Monitor:
    """Host side of the loop: NaN guard, window means, logs, progress bar."""

    def __init__(self, run: Run, writer: MetricsWriter, start_step: int):
        config = run.config
        self._run, self._writer = run, writer
        self._window: dict[str, list[float]] = {}
        self._window_start = (start_step, time.perf_counter())
        self._bar = tqdm.tqdm(total=run.total_steps * config.batch_size,
                              initial=start_step * config.batch_size, unit="img",
                              unit_scale=True, dynamic_ncols=True,
                              disable=not (config.progress_bar and run.is_chief))

    def check(self, step: int, values: dict[str, float], kind: str) -> None:
        name = first_non_finite(values)
        if name is not None:
            shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items())
            checkpoints = os.path.join(self._run.workdir, "checkpoints")
            raise NonFiniteError(
                f"{kind} {name} is {values[name]} at step {step} ({shown}); stopped without "
                f"saving, the last good checkpoint is in {checkpoints}")

    def record(self, step: int, metrics: Any) -> None:
        """Fetches one step's metrics (step = updates done), checks and logs them."""
        values = {k: float(v) for k, v in jax.device_get(metrics).items()}
        self.check(step, values, "training")
        for name, value in values.items():
            self._window.setdefault(name, []).append(value)
        self._bar.update(self._run.config.batch_size)
        if step % self._run.config.log_every_steps == 0 or step == self._run.total_steps:
            self._flush(step)

    def exclude(self, seconds: float) -> None:
        """Leaves time spent outside training steps (evaluation, saving) out of images/s."""
        first_step, started = self._window_start
        self._window_start = (first_step, started + seconds)

    def _flush(self, step: int) -> None:
        first_step, started = self._window_start
        now = time.perf_counter()
        scalars = {f"train/{k}": float(np.mean(v)) for k, v in self._window.items()}
        images = (step - first_step) * self._run.config.batch_size
        scalars["perf/images_per_sec"] = images / max(now - started, 1e-9)
        self._writer.write_scalars(step, scalars)
        self._bar.set_postfix(loss=f"{scalars['train/loss']:.4g}")
        self._window, self._window_start = {}, (step, now)

    def close(self) -> None:
        self._bar.close()


def evaluate_progress(run: Run, report: ProgressReport, monitor: Monitor,
                      writer: MetricsWriter, state: TrainState, step: int,
                      prior_noise: Optional[np.ndarray] = None) -> None:
    scalars = report.metrics(state)
    monitor.check(step, scalars, "evaluation")
    writer.write_scalars(step, {f"eval/{k}": v for k, v in scalars.items()})
    grids = report.grids(state, prior_noise)
    if run.is_chief:
        for name, image in grids.items():
            figures.save_png(os.path.join(run.workdir, "figures", f"{name}_{step:08d}.png"),
                             image)
    writer.write_images(step, {f"figures/{k}": v for k, v in grids.items()})
    writer.flush()


@dataclasses.dataclass(frozen=True)
class _Evaluations:
    """What runs besides the updates: test objective and grids, sample quality, saving."""
    progress_report: ProgressReport
    sample_quality: Optional[SampleQuality]  # None when sample_eval.metrics is empty
    best: Optional[checkpointing.BestCheckpoint]  # None when sample_eval.keep_best is ''
    checkpointer: checkpointing.Checkpointer
    writer: MetricsWriter


def _evaluate_samples(run: Run, evaluations: _Evaluations, monitor: Monitor,
                      state: TrainState, step: int) -> None:
    """Sample metrics to TensorBoard; a new best of keep_best replaces checkpoints_best."""
    results = evaluations.sample_quality(state)
    scalars = sample_quality.scalars(results)
    monitor.check(step, scalars, "sample evaluation")
    evaluations.writer.write_scalars(step, scalars)
    keep_best = run.config.sample_eval.keep_best
    if evaluations.best is not None:
        value = results[keep_best]["value"]
        if evaluations.best.offer(step, state, value, results[keep_best]):
            logging.info("step %d: new best %s %.6g, saved in %s", step, keep_best, value,
                         evaluations.best.directory)


def is_due(step: int, every: int, last: int) -> bool:
    return step % every == 0 or step == last


def _loop(run: Run, state: TrainState, pipeline, train_step: Callable,
          evaluations: _Evaluations) -> TrainState:
    config, last = run.config, run.total_steps
    start = int(state.step)
    monitor = Monitor(run, evaluations.writer, start)
    pending = None  # (step, metrics) of the last dispatched update, fetched one step late
    with preemption.stop_requests() as stop_requested, contextlib.closing(monitor):
        for step in range(start + 1, last + 1):
            batch = data.to_global_batch(next(pipeline), run.mesh)
            state, metrics = train_step(state, batch)
            if pending is not None:
                monitor.record(*pending)
            pending = (step, metrics)
            evaluate = is_due(step, config.eval_every_steps, last)
            score = (evaluations.sample_quality is not None
                     and is_due(step, config.sample_eval.every_steps, last))
            stop = step < last and stop_requested(step)  # the last step saves and ends anyway
            save = is_due(step, config.checkpoint_every_steps, last) or stop
            if evaluate or score or save:  # The state is checked before it is used or saved.
                monitor.record(*pending)
                pending = None
            started = time.perf_counter()
            if evaluate:
                evaluate_progress(run, evaluations.progress_report, monitor, evaluations.writer,
                                  state, step)
            if score:
                _evaluate_samples(run, evaluations, monitor, state, step)
            if save:
                evaluations.checkpointer.save(step, state, pipeline.get_state())
            if stop:
                raise preemption.Preempted(
                    f"SIGTERM: stopped at step {step} of {last} after saving its checkpoint "
                    f"in {evaluations.checkpointer.directory}; re-run the same command to "
                    f"resume")
            monitor.exclude(time.perf_counter() - started)
    return state


def test_images(run: Run) -> np.ndarray:
    config = run.config
    images, _ = data.load_arrays(config.dataset, "test", config.data_dir or None)
    return data.scale_images(images[:config.num_eval_images], config.value_range)


def train(run: Run) -> TrainState:
    """Trains one model (the run's workdir locked by the caller); returns the final state."""
    config, workdir = run.config, run.workdir
    pipeline = input_pipeline(run, config.batch_size, population.data_seed(config))
    checkpointer = checkpointing.Checkpointer(workdir, config.keep_checkpoints)
    state = initial_state(run, pipeline, checkpointer)
    if run.is_chief:
        checkpointing.write_config(workdir, config)
    start = int(state.step)
    logging.info("Training %s on %s for %d steps (%d per epoch) from step %d on %d device(s)",
                 config.method, config.dataset, run.total_steps, run.steps_per_epoch, start,
                 jax.device_count())
    writer = MetricsWriter(workdir, start, enabled=run.is_chief)
    train_step = steps.compile_train_step(
        steps.make_train_step(config, run.model, run.adversary, run.steps_per_epoch), run.mesh)
    best = best_checkpoint(run)
    try:
        evaluations = _Evaluations(
            ProgressReport(config, run.model, run.adversary, run.mesh, test_images(run),
                           run.steps_per_epoch),
            SampleQuality(config, run.model, run.mesh) if config.sample_eval.metrics else None,
            best, checkpointer, writer)
        state = _loop(run, state, pipeline, train_step, evaluations)
    finally:
        writer.close()
        checkpointer.close()
        if best is not None:
            best.close()
    return state


def best_checkpoint(run: Run) -> Optional[checkpointing.BestCheckpoint]:
    keep_best = run.config.sample_eval.keep_best
    if not keep_best:
        return None
    try:
        return checkpointing.BestCheckpoint(run.workdir, keep_best)
    except ValueError as error:  # the workdir keeps the best by another metric
        raise validation.ConfigError(str(error)) from None
