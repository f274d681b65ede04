"""One trainer for VAE, W2-VAE, WAE-MMD and WAE-GAN: `train_and_evaluate(config, workdir)`.

Modules: state (the TrainState pytree), methods (the per-method objectives and their
registry), steps (pure jitted updates and sharding), schedules, encoder_pretraining
(the WAE heuristic), progress_report and figures (test objective, PNG grids),
sample_quality (periodic FID etc.), checkpointing (orbax), metrics_writer (TensorBoard
+ metrics.jsonl), validation (config checks), workdir_lock (one run per workdir),
preemption (SIGTERM), trainer (one model), population and population_trainer (K models in
one program), experiment (train_and_evaluate: either, in a locked workdir).
"""

from wae_jax.training.methods import METHODS
from wae_jax.training.state import TrainState, create_train_state
from wae_jax.training.steps import make_train_step
from wae_jax.training.experiment import train_and_evaluate
from wae_jax.training.trainer import NonFiniteError
from wae_jax.training.validation import ConfigError, validate_config

__all__ = ["METHODS", "ConfigError", "NonFiniteError", "TrainState", "create_train_state",
           "make_train_step", "train_and_evaluate", "validate_config"]
