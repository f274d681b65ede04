"""Config checks that run before any work: one-line errors naming the field and the fix.

`FIELDS` is the schema of a training config: every field the trainer reads, with
its check. A field that is not in it is a typo (or a stale override) and is
rejected rather than silently ignored. The model sub-config is checked by
building the networks (wae_jax.models raises for bad model fields).
"""

import math
import os
import tempfile
from typing import Any, Callable, Optional

import ml_collections

from wae_jax import data, losses, models
from wae_jax.evaluation import sample_metrics
from wae_jax.training import methods
from wae_jax.training.state import OPTIMIZERS

VALUE_RANGES = ("unit", "symmetric")
Check = Callable[[Any], Optional[str]]  # value -> what is wrong with it, or None


class ConfigError(ValueError):
    """A config value the trainer cannot run with; the message names the field."""


def one_of(choices) -> Check:
    choices = tuple(choices)
    return lambda v: None if v in choices else f"use one of {choices}"


def integer(minimum: int) -> Check:
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int):
            return f"use an integer >= {minimum}"
        return None if v >= minimum else f"use an integer >= {minimum}"
    return check


def number(minimum: float, *, strict: bool) -> Check:
    bound = f"> {minimum}" if strict else f">= {minimum}"

    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return f"use a finite number {bound}"
        ok = v > minimum if strict else v >= minimum
        return None if ok else f"use a number {bound}"
    return check


def unit_interval(v) -> Optional[str]:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1
    return None if ok else "use a number in [0, 1)"


def boolean(v) -> Optional[str]:
    return None if isinstance(v, bool) else "use True or False"


def string(v) -> Optional[str]:
    return None if isinstance(v, str) else "use a string"


def config_dict(v) -> Optional[str]:
    return None if isinstance(v, ml_collections.ConfigDict) else "use a ConfigDict"


def nonempty(check: Check) -> Check:
    """`check`, and at least one entry (a study grid with no seeds is no grid)."""
    return lambda v: check(v) or (None if len(v) else "use at least one entry")


def sequence_of(item: Check) -> Check:
    def check(v):
        if not isinstance(v, (tuple, list)):
            return "use a tuple"
        bad = [x for x in v if item(x) is not None]
        return f"entries {bad}: {item(bad[0])}" if bad else None
    return check


FIELDS: dict[str, Check] = {
    "method": one_of(methods.METHODS),
    "dataset": one_of(data.DATASETS),
    "data_dir": string,
    "value_range": one_of(VALUE_RANGES),
    "random_flip": boolean,
    "train_classes": sequence_of(integer(0)),
    "latent_dim": integer(1),
    "prior_std": number(0.0, strict=True),
    "cost": one_of(losses.COSTS),
    "recon_scale": number(0.0, strict=True),
    "lambda_": number(0.0, strict=False),
    "lambda_growth": number(0.0, strict=False),
    "kernel": one_of(losses.KERNELS),
    "kernel_scales": sequence_of(number(0.0, strict=True)),
    "batch_size": integer(1),
    "num_epochs": integer(0),
    "num_train_steps": integer(-1),
    "seed": integer(0),
    "data_seed": integer(-1),
    "learning_rate": number(0.0, strict=True),
    "optimizer": one_of(OPTIMIZERS),
    "adam_b1": unit_interval,
    "adam_b2": unit_interval,
    "lr_decay_epochs": sequence_of(integer(1)),
    "lr_decay_factors": sequence_of(number(0.0, strict=True)),
    "adversary_learning_rate": number(0.0, strict=True),
    "log_prior_trick": boolean,
    "pretrain_encoder": boolean,
    "pretrain_max_steps": integer(1),
    "pretrain_loss_threshold": number(0.0, strict=False),
    "pretrain_batch_size": integer(2),
    "input_noise_std": number(0.0, strict=False),
    "log_every_steps": integer(1),
    "eval_every_steps": integer(1),
    "checkpoint_every_steps": integer(1),
    "keep_checkpoints": integer(1),
    "num_eval_images": integer(2),
    "progress_bar": boolean,
    "sample_eval": config_dict,
    "population": config_dict,
    "model": config_dict,
}
# config.sample_eval (configs/common.py: sample_eval_config).
SAMPLE_EVAL_FIELDS: dict[str, Check] = {
    "metrics": sequence_of(one_of(sample_metrics.METRICS)),
    "every_steps": integer(1),
    "num_samples": integer(2),
    "reference_split": string,
    "reference_n": lambda v: None if v == 0 else integer(2)(v),
    "select_on_test": boolean,
    "keep_best": one_of(("",) + tuple(sample_metrics.METRICS)),
    "batch_size": integer(1),
    "classifier_steps": integer(1),
}


# config.population (configs/common.py: population_config): the per-member fields
# are the top-level fields that keep every array's shape, one value per member.
VARYING_FIELDS = ("seed", "learning_rate", "adversary_learning_rate", "lambda_",
                  "lambda_growth", "prior_std", "kernel_scales", "input_noise_std",
                  "train_classes")
POPULATION_DATA = ("shared", "per_member")
POPULATION_VECTORIZE = ("auto", "vmap", "loop")
POPULATION_FIELDS: dict[str, Check] = {
    "size": integer(1),
    "data": one_of(POPULATION_DATA),
    "vectorize": one_of(POPULATION_VECTORIZE),
    **{field: sequence_of(lambda v: None) for field in VARYING_FIELDS},
}


def _fail(field: str, value: Any, fix: str) -> None:
    raise ConfigError(f"config.{field}={value!r}: {fix}")


def check_fields(config: ml_collections.ConfigDict, schema: dict[str, Check],
                  prefix: str = "") -> None:
    for field in config.keys():
        if field not in schema:
            raise ConfigError(f"config.{prefix}{field}: unknown field; known fields are "
                              f"{', '.join(sorted(schema))}")
    for field, check in schema.items():
        if field not in config:
            raise ConfigError(f"config.{prefix}{field} is missing: start from "
                              "configs/common.py")
        problem = check(config[field])
        if problem:
            _fail(prefix + field, config[field], problem)


def _check_combinations(config: ml_collections.ConfigDict, device_count: int) -> None:
    method = methods.METHODS[config.method]
    if method.gaussian_encoder and config.model.encoder != "gaussian":
        _fail("model.encoder", config.model.encoder,
              f"method {config.method!r} needs encoder='gaussian'")
    if config.model.get("latent_dim") != config.latent_dim:
        _fail("model.latent_dim", config.model.get("latent_dim"),
              f"must equal config.latent_dim={config.latent_dim}; set config.latent_dim only")
    if config.cost == "bernoulli" and config.model.output_activation != "identity":
        _fail("model.output_activation", config.model.output_activation,
              "the bernoulli cost takes logits: use 'identity'")
    if config.cost == "bernoulli" and config.value_range != "unit":
        _fail("value_range", config.value_range, "the bernoulli cost needs pixels in [0, 1]")
    if config.num_train_steps <= 0 and config.num_epochs <= 0:
        _fail("num_epochs", config.num_epochs, "use > 0, or set num_train_steps > 0")
    if len(config.lr_decay_epochs) != len(config.lr_decay_factors):
        _fail("lr_decay_factors", config.lr_decay_factors,
              f"give one factor per entry of lr_decay_epochs={config.lr_decay_epochs}")
    if list(config.lr_decay_epochs) != sorted(set(config.lr_decay_epochs)):
        _fail("lr_decay_epochs", config.lr_decay_epochs, "use strictly increasing epochs")
    if config.checkpoint_every_steps % config.log_every_steps:
        # Logged values are window means; windows must restart where a resumed run does.
        _fail("checkpoint_every_steps", config.checkpoint_every_steps,
              f"use a multiple of log_every_steps={config.log_every_steps}")
    for field in ("batch_size", "pretrain_batch_size"):
        if config[field] % device_count:
            _fail(field, config[field], f"use a multiple of the device count ({device_count})")
    if config.method == "wae_mmd" and config.batch_size < 2:
        _fail("batch_size", config.batch_size, "the MMD U-statistic needs at least 2")
    _check_sample_eval(config)


def _check_sample_eval(config: ml_collections.ConfigDict) -> None:
    options = config.sample_eval
    if options.keep_best and options.keep_best not in options.metrics:
        _fail("sample_eval.keep_best", options.keep_best,
              f"use '' or one of sample_eval.metrics={tuple(options.metrics)}")
    if "classifier_fd" in options.metrics and not data.DATASETS[config.dataset].labelled:
        _fail("sample_eval.metrics", tuple(options.metrics),
              f"classifier_fd needs class labels, which {config.dataset} lacks; use fid")
    splits = data.DATASETS[config.dataset].splits
    if options.reference_split not in splits:
        _fail("sample_eval.reference_split", options.reference_split,
              f"{config.dataset} has the splits {splits}; use one of them but 'test'")
    if options.reference_split == "test" and not options.select_on_test:
        # The best checkpoint would be chosen on the split it is then reported on.
        _fail("sample_eval.reference_split", options.reference_split,
              "model selection must not see the test split: use 'train' or 'validation' "
              "(where the dataset has it), or set sample_eval.select_on_test=True to select "
              "on test anyway")


def _check_population(config: ml_collections.ConfigDict) -> None:
    """Per-member values: one per member, each valid for its field, shapes unchanged."""
    population = config.population
    for field in population.keys():
        if field not in POPULATION_FIELDS and field in FIELDS:
            raise ConfigError(
                f"config.population.{field}: only {', '.join(VARYING_FIELDS)} can vary within "
                f"a population ({field} changes array shapes or structure); train one "
                f"population per value")
    check_fields(population, POPULATION_FIELDS, "population.")
    for field in VARYING_FIELDS:
        values = tuple(population[field])
        if not values:
            continue
        name = f"population.{field}"
        if len(values) != population.size:
            _fail(name, values, f"give one value per member (population.size="
                                f"{population.size}) or () for the config's value")
        for value in values:
            problem = FIELDS[field](value)
            if problem:
                _fail(name, values, f"entry {value!r}: {problem}")
            if field == "kernel_scales" and len(value) != len(config.kernel_scales):
                _fail(name, values, f"entry {value!r}: give {len(config.kernel_scales)} "
                                    f"scales, as many as kernel_scales (shapes cannot vary)")
    if tuple(population.train_classes) and population.data != "per_member":
        _fail("population.train_classes", tuple(population.train_classes),
              "members with their own classes need population.data='per_member'")


def _check_classes(config: ml_collections.ConfigDict) -> None:
    """train_classes (the config's and each member's) name classes the dataset has."""
    info = data.DATASETS[config.dataset]
    for name, classes in [("train_classes", tuple(config.train_classes))] + [
            (f"population.train_classes[{i}]", tuple(c))
            for i, c in enumerate(config.population.train_classes)]:
        if classes and not info.labelled:
            _fail(name, classes, f"{config.dataset} has no labels; use ()")
        if len(set(classes)) != len(classes) or any(c >= info.num_classes for c in classes):
            _fail(name, classes, f"use distinct labels in 0..{info.num_classes - 1}")


def _check_model(config: ml_collections.ConfigDict, image_shape: tuple[int, int, int]) -> None:
    try:
        models.build_autoencoder(config.model, image_shape)
        if methods.METHODS[config.method].adversary:
            models.build_adversary(config.model)
    except ValueError as error:
        raise ConfigError(str(error).replace("model_config.", "config.model.")) from None


def validate_config(config: ml_collections.ConfigDict, device_count: int) -> None:
    """Raises ConfigError for the first bad field; returns None for a runnable config."""
    check_fields(config, FIELDS)
    check_fields(config.sample_eval, SAMPLE_EVAL_FIELDS, "sample_eval.")
    _check_population(config)
    _check_classes(config)
    _check_combinations(config, device_count)
    _check_model(config, tuple(data.image_shape(config.dataset)))


def check_workdir(workdir: Optional[str]) -> None:
    """The workdir exists or can be created, and files can be written into it."""
    if not workdir:
        raise ConfigError("--workdir is missing: give a directory for checkpoints and logs")
    try:
        os.makedirs(workdir, exist_ok=True)
        with tempfile.TemporaryFile(dir=workdir):
            pass
    except OSError as error:
        raise ConfigError(f"--workdir={workdir!r} is not writable: {error.strerror}; "
                          f"choose another directory") from None
