"""train_and_evaluate(config, workdir): one model, or a population of K, in a locked workdir.

The entry point of main.py and the notebooks. It validates the config before any work,
holds the workdir's lock (workdir_lock) for the whole run and hands the run to the solo
trainer or, for config.population.size > 1, to the population trainer, which builds on
the solo trainer's pieces.
"""

import ml_collections

from wae_jax.training import population, population_trainer, trainer, workdir_lock
from wae_jax.training.population import PopulationState
from wae_jax.training.state import TrainState


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str
                       ) -> TrainState | PopulationState:
    """Trains `config` in `workdir`, resuming from its latest checkpoint; returns the final
    state (a PopulationState for config.population.size > 1).

    Raises validation.ConfigError (before any work) for a bad config or workdir, or
    one that another run holds (workdir_lock); trainer.NonFiniteError when a loss term
    becomes NaN/inf (for a population: in every member; the last good checkpoint stays);
    preemption.Preempted when SIGTERM stopped the run after saving a checkpoint of the
    current step.
    """
    run = trainer.make_run(config, workdir)
    with workdir_lock.hold(workdir, enabled=run.is_chief):
        if population.size(config) > 1:
            return population_trainer.train(run)
        return trainer.train(run)
