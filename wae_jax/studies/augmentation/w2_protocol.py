"""The W2-VAE paper's protocol (Chen & Liu): not built yet."""

import ml_collections

from wae_jax.training.validation import ConfigError


def run(config: ml_collections.ConfigDict, workdir: str) -> None:
    del config, workdir
    raise ConfigError("config.study='w2_protocol' is not built yet; use configs/augment_mnist.py")
